"""The base images a Dockerfile builds on: what ``pull = true`` pulls before planning, so
a base updated in its registry rebuilds the booth's image. Pure.

Read as BuildKit's parser reads a Dockerfile (``moby/buildkit``
``frontend/dockerfile/parser``): the ``escape`` directive, comment lines, line
continuations, instructions in any case; ``FROM [--flag=…] image [AS name]``, with the
global ``ARG``s (those before the first ``FROM``, overridden by build args) substituted
in ``$NAME``, ``${NAME}`` and ``${NAME:-default}``. A ``FROM`` of an earlier stage or of
``scratch`` is no image; one whose variables cannot be resolved here is left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_DIRECTIVE = re.compile(r"#\s*escape\s*=\s*(\S)\s*$", re.I)
_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::-([^}]*))?\}|(\w+))")


def _logical_lines(text: str) -> list[str]:
    """The instructions of ``text``: comments dropped, continuations joined."""
    escape = "\\"
    lines, current = [], ""
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines()):
        directive = _DIRECTIVE.match(raw.strip()) if number == 0 else None
        if directive:
            escape = directive.group(1)
            continue
        if raw.strip().startswith("#"):
            continue  # a comment, also between continued lines
        line = raw.rstrip()
        if line.endswith(escape):
            current += line[: -len(escape)] + " "
            continue
        lines.append(current + line)
        current = ""
    lines.append(current)
    return [line for line in lines if line.strip()]


def _substitute(word: str, values: Mapping[str, str]) -> str | None:
    """``word`` with its variables replaced (None: one has no value known here)."""
    unknown = False

    def value(match: re.Match[str]) -> str:
        nonlocal unknown
        name = match.group(1) or match.group(3)
        if name in values:
            return values[name] or (match.group(2) or "")
        if match.group(2) is not None:
            return match.group(2)
        unknown = True
        return ""

    result = _VARIABLE.sub(value, word)
    return None if unknown or "$" in result else result


def _global_args(words: list[str], build_args: Mapping[str, str], into: dict[str, str]) -> None:
    for word in words:
        name, has_default, default = word.partition("=")
        into[name] = build_args.get(name, default.strip("\"'") if has_default else "")


def base_images(text: str, build_args: Mapping[str, str]) -> tuple[str, ...]:
    """The images the ``FROM`` lines of a Dockerfile name, in order, each once."""
    values: dict[str, str] = {}
    stages: set[str] = {"scratch"}
    images: list[str] = []
    seen_from = False
    for line in _logical_lines(text):
        instruction, *words = line.split()
        if instruction.upper() == "ARG" and not seen_from:
            _global_args(words, build_args, values)
        if instruction.upper() != "FROM":
            continue
        seen_from = True
        words = [w for w in words if not w.startswith("--")]
        if not words:
            continue
        image = _substitute(words[0], values)
        if image and image.lower() not in stages and image not in images:
            images.append(image)
        if len(words) >= 3 and words[1].upper() == "AS":
            stages.add(words[2].lower())
    return tuple(images)
