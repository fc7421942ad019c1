"""``~`` and ``$VAR`` in config values, expanded as CodingBooth expands them.

CodingBooth 0.13 (``cli/src/pkg/ilist/semicolon_string_list.go``, ``expandEnv``) turns a
leading ``~/`` (or a lone ``~``) into ``$HOME`` and then applies Go's ``os.ExpandEnv`` to
every element of ``run-args``, ``common-args``, ``build-args`` and ``cmds``, in the array
form as in the ``;`` string form. Users bring those folders as they are, so booth does the
same, byte for byte: Go's rules for names (``$NAME``, ``${ANY}``, the one-character shell
specials ``$1``, ``$@`` …), a ``$`` before anything else kept, bad syntax (``${``) eaten,
and an unset variable expanding to nothing — which booth also reports, by name, so a
typo does not silently become an empty argument.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

_SPECIAL = frozenset("*#$@!?-0123456789")


@attrs.frozen
class Expanded:
    value: str
    unset: tuple[str, ...] = ()


def expand(text: str, env: Mapping[str, str]) -> Expanded:
    """``text`` with ``~`` and variables expanded from ``env``; the unset names it used."""
    if text.startswith("~/"):
        text = "$HOME" + text[1:]
    elif text == "~":
        text = "$HOME"
    out: list[str] = []
    unset: list[str] = []
    start = 0
    index = 0
    while index < len(text):
        if text[index] == "$" and index + 1 < len(text):
            out.append(text[start:index])
            name, width = _shell_name(text[index + 1 :])
            if name:
                if name not in env:
                    unset.append(name)
                out.append(env.get(name, ""))
            elif width == 0:
                out.append("$")  # valid syntax, but no name follows: keep the dollar
            index += width
            start = index + 1
        index += 1
    out.append(text[start:])
    return Expanded("".join(out), tuple(dict.fromkeys(unset)))


def _shell_name(rest: str) -> tuple[str, int]:
    """Go's ``getShellName``: the name after ``$`` and how many characters it used."""
    if rest[0] == "{":
        if len(rest) > 2 and rest[1] in _SPECIAL and rest[2] == "}":
            return rest[1], 3
        close = rest.find("}", 1)
        if close == 1:
            return "", 2  # "${}": bad syntax, eaten
        if close < 0:
            return "", 1  # "${" without "}": bad syntax, eaten
        return rest[1:close], close + 1
    if rest[0] in _SPECIAL:
        return rest[0], 1
    width = 0
    while width < len(rest) and (
        rest[width] == "_" or (rest[width].isascii() and rest[width].isalnum())
    ):
        width += 1
    return rest[:width], width
