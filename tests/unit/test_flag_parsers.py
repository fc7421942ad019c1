"""The value grammars of the flag table, called as the router calls them.

Every parser of :data:`reconciler.flags.FLAGS` gets the flag's place (``where``: the
run-arg as written and its source) so that its errors can name it: booth promises one
line that says which flag, given where, was wrong and what was expected. These tests call
each parser with a bad value and check that line; the ones the router never reaches with
a bad value (it checks a boolean flag's value itself first) are checked here directly,
because the table is also the contract for any other caller.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.errors import ConfigError
from reconciler.flags import LONG, Merge, ParseContext, Placed

WHERE = "run-arg '--x' (config run-args)"


def parse(flag: str, value: str, code: Path = Path("/srv/demo-app"), **env: str) -> object:
    return LONG[flag].parse(value, WHERE, ParseContext(code, env))


@pytest.mark.parametrize(
    ("flag", "value", "why"),
    [
        ("env", "=x", "expected NAME=value or NAME, not '=x'"),
        ("device", ":/x", "expected HOST[:CONTAINER][:PERMISSIONS]"),
        ("tmpfs", "run", "expected an absolute container path, not 'run'"),
        ("shm-size", "lots", "expected a size like 512m, 1.5g or 2GiB, not 'lots'"),
        ("memory", "-1", "size '-1' is negative"),
        ("cpus", "many", "expected a CPU count like 1.5, not 'many'"),
        ("privileged", "maybe", "expected true or false (or 1, t, 0, f), not 'maybe'"),
        ("init", "yes", "expected true or false (or 1, t, 0, f), not 'yes'"),
        ("volume", "~nosuchuser/x:/c", "cannot expand '~nosuchuser': no home for user"),
        ("volume", "a\0:/b", "a path cannot contain a NUL byte"),
        ("mount", "type=bind,source=/a\0,target=/d", "a path cannot contain a NUL byte"),
        ("env-file", "~nosuchuser/vars.env", "cannot expand '~nosuchuser': no home for user"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_flag_first(flag: str, value: str, why: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(flag, value)
    assert str(caught.value).startswith(f"{WHERE}: {why}"), str(caught.value)


def test_a_reserved_label_is_refused_saying_why() -> None:
    with pytest.raises(ConfigError) as caught:
        parse("label", "io.codingbooth.role=booth")
    assert str(caught.value) == (
        f"{WHERE}: labels under io.codingbooth.* are reserved for booth's ownership tracking"
    )


def test_a_label_without_a_value_is_an_empty_label() -> None:
    assert parse("label", "team") == ("team", "")
    assert parse("label", "team=a=b") == ("team", "a=b")


# -- env files ------------------------------------------------------------------------


def test_an_env_file_that_cannot_be_read_names_it_and_the_reason(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse("env-file", "missing.env", tmp_path)
    assert str(caught.value) == (
        f"{WHERE}: cannot read {tmp_path / 'missing.env'}: No such file or directory"
    )


def test_a_directory_as_env_file_is_named_with_the_system_reason(tmp_path: Path) -> None:
    (tmp_path / "vars.env").mkdir()
    with pytest.raises(ConfigError) as caught:
        parse("env-file", "vars.env", tmp_path)
    assert str(caught.value) == f"{WHERE}: cannot read {tmp_path / 'vars.env'}: Is a directory"


def test_a_read_error_without_a_system_reason_names_its_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> bytes:
        raise PermissionError  # no errno, no strerror: as some file systems report it

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(ConfigError) as caught:
        parse("env-file", "vars.env", tmp_path)
    assert str(caught.value) == f"{WHERE}: cannot read {tmp_path / 'vars.env'}: PermissionError"


def test_an_env_file_that_is_not_utf8_names_the_offset(tmp_path: Path) -> None:
    (tmp_path / "vars.env").write_bytes(b"A=\xff\n")
    with pytest.raises(ConfigError) as caught:
        parse("env-file", "vars.env", tmp_path)
    assert str(caught.value) == f"{WHERE}: {tmp_path / 'vars.env'} is not UTF-8 (offset 2)"


def test_a_bad_line_of_an_env_file_names_the_flag_and_the_file(tmp_path: Path) -> None:
    (tmp_path / "vars.env").write_text("A=1\n=oops\n")
    with pytest.raises(ConfigError) as caught:
        parse("env-file", "vars.env", tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{WHERE} {tmp_path / 'vars.env'}: line 2 "), message


def test_an_absolute_env_file_is_read_where_it_is(tmp_path: Path) -> None:
    (tmp_path / "vars.env").write_text("A=1\nHOME_ONLY\n")
    assert parse("env-file", str(tmp_path / "vars.env"), Path("/nowhere"), HOME_ONLY="h") == [
        "A=1",
        "HOME_ONLY=h",
    ]


# -- host paths -----------------------------------------------------------------------


def test_an_anonymous_volume_is_placed_in_volumes() -> None:
    assert parse("volume", "/data") == Placed("Volumes", Merge.UPDATE, ("/data", {}))


@pytest.mark.parametrize(
    ("source", "resolved"),
    [(".", "code"), ("..", ""), ("./sub", "code/sub"), ("../peer", "peer")],
)
def test_relative_bind_sources_resolve_against_the_code_directory(
    tmp_path: Path, source: str, resolved: str
) -> None:
    code = tmp_path / "code"
    expected = str((tmp_path / resolved).resolve())
    assert parse("volume", f"{source}:/c:ro", code) == f"{expected}:/c:ro"
    assert parse("mount", f"type=bind,source={source},target=/c", code) == {
        "Type": "bind",
        "Source": expected,
        "Target": "/c",
    }


@pytest.mark.parametrize("source", ["..data", ".hidden", "name", "/abs"])
def test_other_volume_sources_are_passed_as_written(source: str) -> None:
    assert parse("volume", f"{source}:/c") == f"{source}:/c"


def test_a_tilde_volume_source_is_the_home_directory() -> None:
    home = os.path.expanduser("~")
    assert parse("volume", "~/work:/w") == f"{home}/work:/w"


def test_only_a_bind_mount_source_is_a_host_path() -> None:
    # A volume's source is the volume's name: the engine judges it, booth does not resolve it.
    assert parse("mount", "type=volume,source=./cache,target=/c") == {
        "Type": "volume",
        "Source": "./cache",
        "Target": "/c",
    }


def test_a_bind_source_that_loops_names_the_flag(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for flag, value in (("volume", "./loop:/c"), ("mount", "type=bind,source=./loop,target=/c")):
        with pytest.raises(ConfigError) as caught:
            parse(flag, value, tmp_path)
        assert str(caught.value) == f"{WHERE}: ./loop is a symlink loop"
