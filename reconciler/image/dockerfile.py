"""The base images a Dockerfile builds on: what ``pull = true`` pulls before planning, so
a base updated in its registry rebuilds the booth's image. Pure.

Read as BuildKit's parser reads a Dockerfile (``moby/buildkit``
``frontend/dockerfile/parser``): the ``escape`` directive, comment lines, line
continuations, instructions in any case; ``FROM [--flag=…] image [AS name]``, with the
global ``ARG``s (those before the first ``FROM``, overridden by build args) substituted
in ``$NAME``, ``${NAME}`` and ``${NAME:-default}``. A ``FROM`` of an earlier stage or of
``scratch`` is no image; one whose variables cannot be resolved here is left out.

Also whether a build can read its context at all (:func:`trigger_bases`): most
CodingBooth Dockerfiles only ``FROM`` the CodingBooth image and ``RUN`` its setup scripts,
so their image does not depend on the code directory, and a plan need not walk it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping

_DIRECTIVE = re.compile(r"#\s*escape\s*=\s*(\S)\s*$", re.I)
_SYNTAX = re.compile(r"#\s*syntax\s*=", re.I)
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
            current += line[: -len(escape)]  # joined as BuildKit joins: no blank added
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
    return _bases(text, build_args)[0]


def trigger_bases(text: str, build_args: Mapping[str, str]) -> tuple[str, ...] | None:
    """The base images whose ``ONBUILD`` triggers are the only way this Dockerfile's build
    can read its context; None when it may read the context itself (see
    :func:`reads_context`), or a ``FROM`` names an image not known here (an unset
    variable), whose triggers nobody can look up."""
    if reads_context(text):
        return None
    images, complete = _bases(text, build_args)
    return images if complete else None


def reads_context(text: str) -> bool:
    """Whether the Dockerfile's own instructions may read files of the build context:
    ``COPY`` (but ``COPY --from=``, which reads a stage or an image), ``ADD``, ``RUN
    --mount`` (a bind mount's default source is the context), an ``ONBUILD`` (a later
    stage built ``FROM`` this one runs it), or a ``syntax`` directive (another frontend,
    which may do anything). Cautious by design: a heredoc's ``COPY <<EOF`` or an
    ``ADD`` of a URL count as reads, which costs one walk, never a missed rebuild."""
    if _syntax_directive(text):
        return True
    for line in _logical_lines(text):
        instruction, *words = line.split()
        flags = [w.lower() for w in itertools.takewhile(lambda w: w.startswith("--"), words)]
        kind = instruction.upper()
        if kind in ("ADD", "ONBUILD"):
            return True
        if kind == "COPY" and not any(flag.startswith("--from=") for flag in flags):
            return True
        if kind == "RUN" and any(flag.startswith("--mount") for flag in flags):
            return True
    return False


def _syntax_directive(text: str) -> bool:
    """A ``# syntax=`` parser directive among the comment lines that open the file."""
    for raw in text.removeprefix("\ufeff").splitlines():
        line = raw.strip()
        if not line.startswith("#"):
            return False
        if _SYNTAX.match(line):
            return True
    return False


def _bases(text: str, build_args: Mapping[str, str]) -> tuple[tuple[str, ...], bool]:
    """:func:`base_images`, and whether every ``FROM`` could be resolved."""
    values: dict[str, str] = {}
    stages: set[str] = {"scratch"}
    images: list[str] = []
    seen_from, complete = False, True
    for line in _logical_lines(text):
        instruction, *words = line.split()
        if instruction.upper() == "ARG" and not seen_from:
            _global_args(words, build_args, values)
        if instruction.upper() != "FROM":
            continue
        seen_from = True
        words = [w for w in words if not w.startswith("--")]
        if not words:
            complete = False
            continue
        image = _substitute(words[0], values)
        complete = complete and bool(image)
        if image and image.lower() not in stages and image not in images:
            images.append(image)
        if len(words) >= 3 and words[1].upper() == "AS":
            stages.add(words[2].lower())
    return tuple(images), complete
