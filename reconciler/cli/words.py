"""The command line's words before argparse reads them: the booth's command after
``--``, bytes that are not UTF-8, a flag whose value starts with ``-``, a misspelled
command. Kept apart from ``cli/main.py`` (the parser and exit codes)."""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Mapping, Sequence

from reconciler.cli.session_words import global_options_end
from reconciler.errors import ConfigError


def split_command(argv: Sequence[str]) -> tuple[list[str], tuple[str, ...] | None]:
    """Words after the first ``--`` are the booth's command (they replace ``cmds``)."""
    if "--" in argv:
        at = list(argv).index("--")
        return list(argv[:at]), tuple(argv[at + 1 :])
    return list(argv), None


def check_utf8(argv: Sequence[str]) -> None:
    """Python keeps undecodable argument bytes as lone surrogates; Docker's API (JSON)
    cannot carry them, so refuse them here rather than send something else."""
    for number, word in enumerate(argv, start=1):
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            raw = word.encode("utf-8", "surrogateescape")  # the bytes as given
            shown = raw.decode("utf-8", "backslashreplace")
            raise ConfigError(f"argument {number} ({shown}) is not valid UTF-8") from None


def attach_hint(words: Sequence[str]) -> str:
    """argparse reads ``--run-arg -e`` as two options; the value must be attached."""
    for option, value in itertools.pairwise(words):
        if option in ("--run-arg", "-p", "--publish") and value.startswith("-"):
            return f" (write {option}={value}: a value starting with '-' must follow '=')"
    return ""


def check_misspelled_command(
    given: Sequence[str], options: Mapping[str, int], commands: Sequence[str]
) -> None:
    """``booth stauts``: a first word (after global options) that is no command and no
    docker run flag (a CodingBooth session starts with one: ``booth -p 8080:8080``) and
    is close to a command is a typo of it, not a stray run-arg."""
    rest = list(given)[global_options_end(given, options) :]
    if rest and not rest[0].startswith("-"):
        for close in difflib.get_close_matches(rest[0].lower(), commands, 1, 0.75):
            raise ConfigError(f"unknown command {rest[0]!r}; did you mean `{close}`?")
