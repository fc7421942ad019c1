"""``.dockerignore`` as Docker reads and applies it, for the build's fingerprint
(``image/context.py``).

The rules are Docker's, from: ``moby/patternmatcher`` ``ignorefile.ReadAll`` (BOM
dropped; a line *starting* with ``#`` is a comment; trimmed; ``!`` exceptions;
``filepath.Clean``; leading ``/`` dropped), ``patternmatcher.New`` and ``Pattern.compile``
(checked by ``filepath.Match(p, ".")``; exact, prefix ``foo/**``, suffix ``**/foo`` or
regexp match: ``*`` → ``[^/]*``, ``?`` → ``[^/]``, ``**`` → ``(.*/)?``, ``[...]`` kept),
``MatchesUsingParentResults`` (a pattern that matched a directory matches below it; the
LAST matching pattern decides); ``tonistiigi/fsutil`` ``filter.go``, BuildKit's walker (an
excluded directory is walked only if an exception could match inside it; unreadable paths
in it are ignored); ``moby/buildkit`` ``frontend/dockerui/config.go``
(``<Dockerfile>.dockerignore`` replaces the context's ``.dockerignore``); ``docker/cli``
``TrimBuildFilesFromExcludes`` (``.dockerignore`` and the Dockerfile are always sent).
"""

from __future__ import annotations

import posixpath
import re
import warnings
from enum import Enum

import attrs

from reconciler.errors import ConfigError

DOCKERIGNORE = ".dockerignore"
# Go's strings.TrimSpace trims unicode.IsSpace, which is not quite str.isspace.
_GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    chr(c) for c in range(0x2000, 0x200B)
)
_REGEX_META = ".+()|{}$"  # patternmatcher's shouldEscape: regexp-special, not glob-special
_WILDCARDS = "*[]?^\\"  # fsutil's patternChars on Unix
_GO_ESCAPES = {c: "\\" + c for c in "dDwWsSbBAftnrvx"} | {"z": r"\Z"}
_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z",
    "print": " -~", "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z", "word": "0-9A-Za-z_", "xdigit": "0-9A-Fa-f",
}  # fmt: skip
_CLASS_CHAR = r"(?:[^\\\-\]]|\\.)"  # getEsc: not "-" or "]"; "\\" escapes any character
_GLOB_SYNTAX = re.compile(rf"(?:[^\\\[]|\\.|\[\^?(?:{_CLASS_CHAR}(?:-{_CLASS_CHAR})?)+\])*", re.S)
_POSIX_RE = re.compile(r"\[:(\^?)(" + "|".join(_POSIX) + r"):\]")
_CLASS_RE = re.compile(r"\\.|\[\^?(?:\[:\^?[a-z]+:\]|\\.|[^\]\\])+\]", re.S)  # Go's parseClass


class MatchType(Enum):
    """How a compiled pattern is tested, as patternmatcher's ``matchType``."""

    EXACT = "exact"
    PREFIX = "prefix"
    SUFFIX = "suffix"
    REGEXP = "regexp"


@attrs.frozen
class Pattern:
    """One cleaned ``.dockerignore`` pattern (``text`` has no ``!``)."""

    text: str
    exclusion: bool
    match_type: MatchType
    regex: re.Pattern[str] = attrs.field(eq=False, repr=False)

    def matches(self, path: str) -> bool:
        """patternmatcher's ``Pattern.match``: ``==``, ``HasPrefix``, ``HasSuffix`` (or
        ``**/foo`` is ``foo``) or the regexp, each as one anchored Python regexp."""
        return self.regex.fullmatch(path) is not None


def go_clean(path: str) -> str:
    """Go's ``filepath.Clean`` on Unix: ``normpath``, but a leading ``//`` is one ``/``."""
    cleaned = posixpath.normpath(path)
    return cleaned[1:] if cleaned.startswith("//") else cleaned


def check_glob_syntax(pat: str) -> None:
    """ValueError where Go's ``filepath.Match(pat, ".")`` returns ``ErrBadPattern``: a
    trailing ``\\``, a class that is empty, unclosed, or has a range without an end."""
    if _GLOB_SYNTAX.fullmatch(pat) is None:
        raise ValueError


def _translate(pat: str) -> tuple[MatchType, str]:  # complexity: one branch per glob token
    """patternmatcher's ``Pattern.compile``, token by token, into a Python regexp body."""
    out: list[str] = []
    kind = MatchType.EXACT
    i, token = 0, 0
    while i < len(pat):
        ch = pat[i]
        i += 1
        if ch == "*" and pat[i : i + 1] == "*":
            i += 1 + (pat[i + 1 : i + 2] == "/")
            if i >= len(pat):
                kind = MatchType.PREFIX if kind is MatchType.EXACT else MatchType.REGEXP
                out.append(".*" if kind is MatchType.REGEXP else "")
            else:
                out.append("(.*/)?")
                kind = MatchType.REGEXP
            kind = MatchType.SUFFIX if token == 0 else kind
        elif ch in "*?":
            out.append("[^/]*" if ch == "*" else "[^/]")
            kind = MatchType.REGEXP
        elif ch in _REGEX_META:
            out.append("\\" + ch)
        elif ch == "\\" and i < len(pat):
            out.append(_go_escape(pat[i]))
            i += 1
            kind = MatchType.REGEXP
        else:
            out.append(ch)
            kind = MatchType.REGEXP if ch in "[]" else kind
        token += 1
    return kind, "".join(out)


def _go_escape(ch: str) -> str:
    """``\\ch`` as Go's regexp reads it: punctuation is literal, a few letters are classes."""
    if ch.isascii() and not ch.isalnum():
        return re.escape(ch)
    if ch in _GO_ESCAPES:
        return _GO_ESCAPES[ch]
    raise ValueError


def _posix_classes(body: str) -> str:
    """Spell out Go's ``[[:alpha:]]`` (ValueError for ``[[:^alpha:]]``: no Python form)."""

    def spell(posix: re.Match[str]) -> str:
        if posix.group(1):
            raise ValueError
        return _POSIX[posix.group(2)]

    def in_class(m: re.Match[str]) -> str:
        text = m.group()  # the outer "[" cannot start a POSIX class, the inner ones can
        return "[" + _POSIX_RE.sub(spell, text[1:]) if text.startswith("[") else text

    return _CLASS_RE.sub(in_class, body)


def compile_pattern(line: str) -> Pattern:
    """patternmatcher's ``New`` for one ``ReadAll`` line; ValueError where Docker refuses it."""
    text = go_clean(line.strip(_GO_SPACE))
    if text == "!":
        raise ValueError
    exclusion = text.startswith("!")
    text = text[1:] if exclusion else text
    check_glob_syntax(text)
    kind, body = _translate(text)
    suffix = text[2:]
    source = {
        MatchType.EXACT: re.escape(text),
        MatchType.PREFIX: re.escape(text[:-2]) + "(?s:.*)",
        MatchType.SUFFIX: f"(?s:.*){re.escape(suffix)}"
        + (f"|{re.escape(suffix[1:])}" if suffix.startswith("/") else ""),
        MatchType.REGEXP: _posix_classes(body),
    }[kind]
    return Pattern(text=text, exclusion=exclusion, match_type=kind, regex=_compile(source))


def _compile(source: str) -> re.Pattern[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "[[" is a literal, as in Go
        try:
            return re.compile(source, re.ASCII)
        except re.error as err:
            raise ValueError from err


def _read_all_line(raw: str) -> str | None:
    """ignorefile's ``ReadAll`` for one line: None for a comment or a blank line."""
    pattern = raw.strip(_GO_SPACE)
    if raw.startswith("#") or not pattern:
        return None
    invert = pattern.startswith("!")
    pattern = pattern[1:].strip(_GO_SPACE) if invert else pattern
    if pattern:
        pattern = go_clean(pattern)
        pattern = pattern[1:] if len(pattern) > 1 and pattern.startswith("/") else pattern
    return "!" + pattern if invert else pattern


def dockerignore_patterns(text: str, source: str = DOCKERIGNORE) -> tuple[Pattern, ...]:
    """The patterns of an ignore file's text; ConfigError naming the line Docker refuses."""
    patterns = []
    for number, raw in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        line = _read_all_line(raw.removesuffix("\r"))
        try:
            patterns += [] if line is None else [compile_pattern(line)]
        except ValueError:
            raise ConfigError(f"{source}: line {number}: bad pattern {line!r}") from None
    return tuple(patterns)


MatchInfo = tuple[bool, ...]


@attrs.frozen
class IgnoreMatcher:
    """A list of patterns, matched as BuildKit's walker matches them."""

    patterns: tuple[Pattern, ...]
    prefix_exceptions: tuple[str, ...] | None = attrs.field(init=False)
    clear: MatchInfo = attrs.field(init=False)
    any_exclusion: re.Pattern[str] = attrs.field(init=False, repr=False)

    @clear.default
    def _clear(self) -> MatchInfo:
        return (False,) * len(self.patterns)

    @any_exclusion.default
    def _any_exclusion(self) -> re.Pattern[str]:
        """One regexp for every non-``!`` pattern: most paths match none of them."""
        sources = [f"(?:{p.regex.pattern})" for p in self.patterns if not p.exclusion]
        return _compile("|".join(sources) or "(?!)")

    @prefix_exceptions.default
    def _prefix_exceptions(self) -> tuple[str, ...] | None:
        """fsutil's ``onlyPrefixExcludeExceptions`` (None: an exception has a wildcard)."""
        stems = [
            p.text.removesuffix("/**").removesuffix("/*") for p in self.patterns if p.exclusion
        ]
        if any(c in stem for stem in stems for c in _WILDCARDS):
            return None
        return tuple(stem + "/" for stem in stems)

    def match(self, path: str, parent: MatchInfo = ()) -> tuple[bool, MatchInfo]:
        """patternmatcher's ``MatchesUsingParentResults``: whether ``path`` is excluded,
        and the per-pattern results its children start from."""
        fresh = parent == self.clear or (not parent and "/" not in path)
        if fresh and not self.any_exclusion.fullmatch(path):
            return False, self.clear  # every pattern misses: the loop below would say so
        matched, info = False, []
        for i, pattern in enumerate(self.patterns):
            hit = bool(parent) and parent[i]
            if not hit and pattern.exclusion == matched:
                hit = pattern.matches(path) or (not parent and self._parent_hit(pattern, path))
            info.append(hit)
            if hit:
                matched = not pattern.exclusion
        return matched, tuple(info)

    @staticmethod
    def _parent_hit(pattern: Pattern, path: str) -> bool:
        parts = path.split("/")[:-1]
        return any(pattern.matches("/".join(parts[: i + 1])) for i in range(len(parts)))

    def excludes(self, path: str) -> bool:
        """Whether the walk leaves ``path`` out (each parent matched first, as fsutil does)."""
        matched, info, parts = False, MatchInfo(), go_clean(path).split("/")
        for i in range(len(parts)):
            matched, info = self.match("/".join(parts[: i + 1]), info)
        return matched

    def walks_excluded_dir(self, directory: str) -> bool:
        """fsutil's test for descending into an excluded directory (never without exceptions)."""
        stems = self.prefix_exceptions
        return stems is None or any(stem.startswith(directory + "/") for stem in stems)
