"""Typed access to the TOML table of ``.booth/config.toml``: every error names the file,
the key and its line, and shows the value as TOML writes it."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.errors import ConfigError
from reconciler.files import toml_text


class KeyReader:
    """Typed access to the TOML table; every error names the file, key and line."""

    def __init__(
        self,
        raw: dict[str, Any],
        text: str,
        where: str,
        from_cli: frozenset[str] = frozenset(),
        from_env: Mapping[str, str] | None = None,
    ) -> None:
        self.raw = raw
        self.text = text
        self.where = where
        # Keys whose value came from a command-line flag (``--variant`` …) or a CB_*
        # variable (key → variable): an error in one names the flag or the variable,
        # not the file the user did not write it in.
        self.from_cli = from_cli
        self.from_env = dict(from_env or {})

    def check_keys(self, known: Sequence[str], ignored: Sequence[str]) -> tuple[str, ...]:
        """Warnings for keys booth does not use: CodingBooth's own that booth ignores, and
        any other key, named with its file and line and the closest known key. As
        CodingBooth (whose TOML decoder skips unknown keys), the run goes on: a folder
        written for a newer CodingBooth still loads."""
        warnings = []
        for key in self.raw:
            if key in known:
                continue
            if key in ignored:
                warnings.append(f"{self.where}: key {key!r} is accepted but ignored by booth")
                continue
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            warnings.append(f"{self.at(key)}: unknown key {key!r} ignored{hint}")
        return tuple(warnings)

    def at(self, key: str) -> str:
        if key in self.from_cli:
            return f"command line --{key}"
        if key in self.from_env:
            return f"environment {self.from_env[key]}"
        # `key = …`, a dotted `key.sub = …`, or a table header `[key]`, `[[key]]`, `[key.sub]`:
        # a mistyped table name deserves a line number as much as a mistyped key.
        quoted = rf"[\"']?{re.escape(key)}[\"']?"
        pattern = re.compile(rf"^\s*(?:{quoted}\s*[=.]|\[\[?\s*{quoted}\s*[\].])")
        for number, line in enumerate(self.text.splitlines(), start=1):
            if pattern.match(line):
                return f"{self.where}:{number}"
        return self.where

    def fail(self, key: str, expected: str) -> ConfigError:
        shown = toml_text(self.raw[key])
        return ConfigError(f"{self.at(key)}: {key} must be {expected}, got {shown}")

    def string(self, key: str, default: str) -> str:
        value = self.raw.get(key, default)
        if not isinstance(value, str):
            raise self.fail(key, "a string")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "true or false")
        return value

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        if key not in self.raw:
            return default
        value = self.raw[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(key, f"an integer in {low}..{high}")
        return value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        if key not in self.raw:
            return default
        value = self.raw[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not low < value <= high:
            raise self.fail(key, f"a number of seconds in ({low:g}, {high:g}]")
        return float(value)

    def string_list(self, key: str, *, allow_joined: bool) -> tuple[str, ...] | None:
        if key not in self.raw:
            return None
        value = self.raw[key]
        if allow_joined and isinstance(value, str):
            return split_semicolons(value)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            joined = " or one ';'-separated string" if allow_joined else ""
            raise self.fail(key, f"an array of strings{joined}")
        return tuple(value)


# Go's unicode.IsSpace, which strings.TrimSpace trims (Python's str.strip also trims
# U+001C..U+001F, which Go keeps).
GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000")
)


def split_semicolons(value: str) -> tuple[str, ...]:
    """CodingBooth's ``;`` string form (``ilist.SemicolonStringList``): split on ``;``,
    trim each part, drop empty parts; each part is one argument."""
    parts = (part.strip(GO_SPACE) for part in value.split(";"))
    return tuple(part for part in parts if part)
