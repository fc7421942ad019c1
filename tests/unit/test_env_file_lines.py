"""``--env-file`` is read as the docker CLI reads it (pkg/kvfile/kvfile.go).

Its format (the package's own documentation): "Both keys and values are used as-is; no
interpolation, substitution or escaping is supported, and quotes are considered part of
the key or value. Whitespace in values (including leading and trailing) is preserved."
Lines are what Go's ``bufio.ScanLines`` returns: cut at ``\\n`` only, one ``\\r`` before
it dropped; leading whitespace is what Go's ``unicode.IsSpace`` says. So ``A="x"`` gives
the container the three characters ``"x"``, as ``docker run --env-file`` does, unlike a
shell or Compose's ``.env`` reader, which would strip the quotes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config.runargs.flags import LONG, ParseContext
from reconciler.config.runargs.values import parse_env_file


@pytest.mark.parametrize(
    ("line", "entry"),
    [
        ('A="x"', ("A", '"x"')),
        ("A='x'", ("A", "'x'")),
        ('A="two words"', ("A", '"two words"')),
        ('A="x" # not a comment', ("A", '"x" # not a comment')),
        ('A=""', ("A", '""')),
        ("A=", ("A", "")),
        ('A=="x"', ("A", '="x"')),
        ("A=$HOME", ("A", "$HOME")),
        ("A=x\\n", ("A", "x\\n")),
        ("export A=1", None),  # a space in the name: an error, see below
        ('"A"=1', ('"A"', "1")),
        ("  A= x ", ("A", " x ")),
        ("\tA=\tx\t", ("A", "\tx\t")),
    ],
)
def test_values_and_names_are_kept_verbatim_quotes_included(
    line: str, entry: tuple[str, str] | None
) -> None:
    if entry is None:
        with pytest.raises(Exception, match="contains whitespace"):
            parse_env_file(line + "\n", "env file f")
        return
    assert parse_env_file(line + "\n", "env file f") == [entry]
    assert parse_env_file(line, "env file f") == [entry]  # no final newline


@pytest.mark.parametrize(
    ("text", "entries"),
    [
        # Only \n ends a line; one \r before it (or at the end) is dropped.
        ("A=1\r\nB=2\r", [("A", "1"), ("B", "2")]),
        ("A=p\rq\n", [("A", "p\rq")]),
        ("A=1\r\r\n", [("A", "1\r")]),
        # Go's ScanLines knows nothing of the other line breaks Python's splitlines cuts at.
        ("A=x\x0by\x0cz\n", [("A", "x\x0by\x0cz")]),
        ("A=x\x1cy\x1dz\x1e\n", [("A", "x\x1cy\x1dz\x1e")]),
        ("A=x\x85y\u2028z\u2029\n", [("A", "x\x85y\u2028z\u2029")]),
        # Leading whitespace is Go's unicode.IsSpace: U+001F is not, U+3000 is.
        ("\x1fA=1\n", [("\x1fA", "1")]),
        ("\u3000\x85A=1\n", [("A", "1")]),
        # The BOM is dropped from the first line only.
        ("\ufeffA=1\n\ufeffB=2\n", [("A", "1"), ("\ufeffB", "2")]),
        ("\n\n  # comment\n#A=1\n B\n", [("B", None)]),
    ],
)
def test_lines_are_cut_as_go_scans_them(text: str, entries: list[tuple[str, str | None]]) -> None:
    assert parse_env_file(text, "env file f") == entries


def test_the_container_gets_the_quotes(tmp_path: Path) -> None:
    (tmp_path / "vars.env").write_text("A=\"x\"\nB='y'\nC\n", encoding="utf-8")
    context = ParseContext(tmp_path, {"C": '"from host"'})
    assert LONG["env-file"].parse("vars.env", "run-arg", context) == [
        'A="x"',
        "B='y'",
        'C="from host"',
    ]


def test_a_carriage_return_inside_a_value_reaches_the_container(tmp_path: Path) -> None:
    # What `docker create --env-file` (CLI 28.2) put in Config.Env for this very file.
    (tmp_path / "vars.env").write_bytes(
        b'A="x"\nB=p\rq\r\nC=x\x0cy\n\x1fD=1\n\xe3\x80\x80E=2\nF=1\r\r\n'
    )
    context = ParseContext(tmp_path, {})
    assert LONG["env-file"].parse("vars.env", "run-arg", context) == [
        'A="x"',
        "B=p\rq",
        "C=x\fy",
        "\x1fD=1",
        "E=2",
        "F=1\r",
    ]
