"""The value grammars of the flag table, called as the router calls them.

Every parser of :data:`reconciler.config.runargs.flags.FLAGS` gets the flag's place (``where``: the
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

from reconciler.config.runargs.flags import LONG, Merge, ParseContext, Placed
from reconciler.errors import ConfigError, RunArgError
from reconciler.files import MAX_CONFIG_BYTES

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
    assert str(caught.value) == f"{WHERE}: {tmp_path / 'missing.env'}: no such file"


def test_a_directory_as_env_file_is_named_with_its_kind(tmp_path: Path) -> None:
    (tmp_path / "vars.env").mkdir()
    with pytest.raises(ConfigError) as caught:
        parse("env-file", "vars.env", tmp_path)
    assert str(caught.value) == (
        f"{WHERE}: {tmp_path / 'vars.env'}: not a regular file (a directory)"
    )


@pytest.mark.parametrize(("path", "kind"), [("/dev/zero", "a device"), ("fifo.env", "a FIFO")])
def test_an_env_file_that_would_never_end_is_not_read(tmp_path: Path, path: str, kind: str) -> None:
    os.mkfifo(tmp_path / "fifo.env")  # reading it would block forever
    with pytest.raises(ConfigError) as caught:
        parse("env-file", path, tmp_path)
    assert str(caught.value).endswith(f": not a regular file ({kind})")


def test_an_env_file_is_capped_as_the_config_is(tmp_path: Path) -> None:
    (tmp_path / "vars.env").write_bytes(b"A=" + b"a" * MAX_CONFIG_BYTES)
    with pytest.raises(ConfigError, match="more than the 1 MiB"):
        parse("env-file", "vars.env", tmp_path)


def test_a_read_error_without_a_system_reason_names_its_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> str:
        raise PermissionError  # no errno, no strerror: as some file systems report it

    (tmp_path / "vars.env").write_text("A=1\n")
    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(ConfigError) as caught:
        parse("env-file", "vars.env", tmp_path)
    assert str(caught.value) == f"{WHERE}: {tmp_path / 'vars.env'}: cannot read: PermissionError"


def test_an_env_file_that_is_not_utf8_names_the_offset(tmp_path: Path) -> None:
    (tmp_path / "vars.env").write_bytes(b"A=\xff\n")
    with pytest.raises(ConfigError) as caught:
        parse("env-file", "vars.env", tmp_path)
    assert str(caught.value) == (
        f"{WHERE}: {tmp_path / 'vars.env'}:1: not UTF-8 (byte 0xff at offset 2)"
    )


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


@pytest.mark.parametrize("source", ["name", "/abs", "vol.v2_x-y"])
def test_other_volume_sources_are_passed_as_written(source: str) -> None:
    assert parse("volume", f"{source}:/c") == f"{source}:/c"


@pytest.mark.parametrize("source", ["..data", ".hidden"])
def test_every_source_starting_with_a_dot_is_a_path_as_the_docker_cli_reads_it(
    tmp_path: Path, source: str
) -> None:
    code = tmp_path / "code"
    assert parse("volume", f"{source}:/c", code) == f"{(code / source).resolve()}:/c"


def test_a_tilde_volume_source_is_the_home_directory() -> None:
    home = os.path.expanduser("~")
    assert parse("volume", "~/work:/w") == f"{home}/work:/w"


def test_only_a_bind_mount_source_is_a_host_path() -> None:
    # A volume's source is the volume's name: booth does not resolve it, and refuses one
    # the engine's local driver would refuse.
    assert parse("mount", "type=volume,source=cache,target=/c") == {
        "Type": "volume",
        "Source": "cache",
        "Target": "/c",
    }
    with pytest.raises(RunArgError, match=r"volume name '\./cache' may hold only"):
        parse("mount", "type=volume,source=./cache,target=/c")


def test_a_bind_source_that_loops_names_the_flag(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for flag, value in (("volume", "./loop:/c"), ("mount", "type=bind,source=./loop,target=/c")):
        with pytest.raises(ConfigError) as caught:
            parse(flag, value, tmp_path)
        assert str(caught.value) == f"{WHERE}: ./loop is a symlink loop"
