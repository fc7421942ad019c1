"""Messages of the flag-value parsers: one line, naming the input and what was expected."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.config.runargs.mounts import parse_mount, split_csv_record
from reconciler.config.runargs.values import (
    parse_bool,
    parse_cpus,
    parse_device,
    parse_env,
    parse_env_file,
    parse_size,
    parse_tmpfs,
)
from reconciler.errors import RunArgError

WHERE = "run-arg '-m 1x' (command line --run-arg)"


@pytest.mark.parametrize(
    ("parse", "value", "why"),
    [
        (parse_bool, "yes", "expected true or false (or 1, t, 0, f), not 'yes'"),
        (parse_size, "1x", "'x' in '1x' is not a unit"),
        (parse_size, "-1m", "size '-1m' is negative"),
        (parse_size, "lots", "expected a size like 512m, 1.5g or 2GiB, not 'lots'"),
        (parse_cpus, "0.0000000001", "is too precise"),
        (parse_cpus, "many", "expected a CPU count like 1.5, not 'many'"),
        (parse_device, "/dev/sda:/dev/xvda:rwx", "permissions 'rwx' must be made of r, w and m"),
        (parse_device, "/dev/sda:xvda", "device path 'xvda' in the container must be absolute"),
        (parse_tmpfs, "run:size=1m", "expected an absolute container path, not 'run'"),
        (parse_env, "=foo", "expected NAME=value or NAME, not '=foo'"),
        (parse_mount, "src=v,dst=/b,readonly=yes", "readonly=yes is not a boolean"),
        (parse_mount, "src=v,dst=/b,bind-propagation=shared", "bind-* options cannot be used"),
        (parse_mount, "src=v,dst=/b,colour=red", "unknown option 'colour' in 'colour=red'"),
        (parse_mount, "src=v", "target is required"),
        (parse_mount, "type=tmpfs,dst=/t,tmpfs-size=1x", "tmpfs-size: expected a size"),
    ],
)
def test_errors_start_with_where_and_stay_on_one_line(parse: object, value: str, why: str) -> None:
    assert callable(parse)
    with pytest.raises(RunArgError) as info:
        parse(value, WHERE)
    message = str(info.value)
    assert message.startswith(f"{WHERE}: ")
    assert why in message
    assert "\n" not in message
    assert "True" not in message and "False" not in message


def test_readonly_yes_never_mounts_read_write() -> None:
    # The old parser read readonly=yes as read-write; Docker refuses it, so does booth.
    with pytest.raises(RunArgError):
        parse_mount("type=bind,src=/a,dst=/b,readonly=yes", WHERE)
    assert parse_mount("type=bind,src=/a,dst=/b,readonly=1", WHERE)["ReadOnly"] is True


def test_env_file_lines_follow_docker() -> None:
    text = "\ufeff# comment\n\n  A=1\nB\nC= spaced \n"
    assert parse_env_file(text, "env file x") == [("A", "1"), ("B", None), ("C", " spaced ")]
    with pytest.raises(RunArgError, match="line 1 has no variable name"):
        parse_env_file("=x\n", "env file x")
    with pytest.raises(RunArgError, match="contains whitespace"):
        parse_env_file("A B=1\n", "env file x")


def test_csv_record_matches_go_encoding_csv() -> None:
    assert split_csv_record('a,"b,c","d""e",', WHERE) == ["a", "b,c", 'd"e', ""]
    assert split_csv_record('"multi\nline",x', WHERE) == ["multi\nline", "x"]


UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


@given(
    number=st.integers(0, 1 << 20),
    unit=st.sampled_from(sorted(UNITS)),
    tail=st.sampled_from(("", "b", "ib")),
    upper=st.booleans(),
    space=st.booleans(),
)
def test_size_round_trip(number: int, unit: str, tail: str, upper: bool, space: bool) -> None:
    suffix = unit + (tail if unit not in ("", "b") else "")
    text = f"{number}{' ' if space else ''}{suffix.upper() if upper else suffix}"
    assert parse_size(text, WHERE) == number * UNITS[unit]


@given(nanos=st.integers(0, 64 * 10**9))
def test_cpus_round_trip(nanos: int) -> None:
    text = f"{nanos // 10**9}.{nanos % 10**9:09d}"
    assert parse_cpus(text, WHERE) == nanos
