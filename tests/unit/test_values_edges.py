"""The edges of ``values`` that the mutation run found untested: the largest CPU count,
device modes made of other letters, and where an env file's errors say they are."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from reconciler.config.runargs.values import (
    parse_cpus,
    parse_device,
    parse_env_file,
    parse_extra_host,
    parse_label,
    parse_security_opt,
    parse_size,
    parse_tmpfs,
    valid_device_mode,
)
from reconciler.errors import RunArgError

WHERE = "run-arg --env-file a.env"


def test_the_largest_cpu_count_is_accepted_and_one_nano_cpu_more_is_not() -> None:
    assert parse_cpus("1048576", "--cpus") == 1048576 * 1_000_000_000
    with pytest.raises(RunArgError, match="is too large"):
        parse_cpus("1048576.000000001", "--cpus")


@pytest.mark.parametrize("mode", ["X", "rX", "rwx", "R"])
def test_a_device_mode_has_only_r_w_and_m(mode: str) -> None:
    assert not valid_device_mode(mode)
    with pytest.raises(RunArgError, match="must be made of r, w and m"):
        parse_device(f"/dev/a:/dev/b:{mode}", "--device")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("A=1\nB\0=2\n", "line 2 contains a NUL byte"),
        ("A B=1\n", "line 1: variable 'A B' contains whitespace"),
        ("A\tB=1\n", "line 1: variable 'A\\tB' contains whitespace"),
    ],
)
def test_an_env_file_error_names_the_file_first(text: str, why: str) -> None:
    with pytest.raises(RunArgError) as raised:
        parse_env_file(text, WHERE)
    assert str(raised.value).startswith(f"{WHERE}: {why}")


def test_a_hex_size_needs_its_exponent_in_either_case() -> None:
    assert parse_size("0x1p4", "--shm-size") == 16
    assert parse_size("0X1P4k", "--shm-size") == 16 << 10
    assert parse_size("1k", "--shm-size") == 1024


@pytest.mark.parametrize(
    ("parse", "value", "message"),
    [
        (parse_size, "lots", "expected a size like 512m, 1.5g or 2GiB, not 'lots'"),
        (parse_size, "1.2.3m", "expected a size like 512m, 1.5g or 2GiB, not '1.2.3m'"),
        (parse_size, "1X", "expected a size like 512m, 1.5g or 2GiB; 'X' in '1X' is not a unit"),
        (parse_size, "8589934592g", "size '8589934592g' is too large"),
        (parse_cpus, "1048577", "CPU count '1048577' is too large"),
        (parse_tmpfs, "/", "a tmpfs cannot be mounted on /"),
        (parse_tmpfs, "/a/..:size=1m", "a tmpfs cannot be mounted on /"),
    ],
)
def test_each_error_is_the_place_and_the_whole_reason(
    parse: Callable[[str, str], object], value: str, message: str
) -> None:
    with pytest.raises(RunArgError) as raised:
        parse(value, "run-arg x")
    assert str(raised.value) == f"run-arg x: {message}"


@pytest.mark.parametrize("value", ["disable", "no-new-privileges", "label=type:a=b", "label:x"])
def test_security_options_docker_takes(value: str) -> None:
    assert parse_security_opt(value, "--security-opt") == value


def test_no_new_privileges_takes_a_go_boolean_naming_the_place() -> None:
    assert parse_security_opt("no-new-privileges=T", "--security-opt") == "no-new-privileges=T"
    with pytest.raises(RunArgError) as raised:
        parse_security_opt("no-new-privileges=maybe", "--security-opt")
    assert str(raised.value) == (
        "--security-opt: no-new-privileges takes true or false, not 'maybe'"
    )


@pytest.mark.parametrize("value", ["DISABLE", "labels=x", "seccomp"])
def test_security_options_docker_refuses(value: str) -> None:
    with pytest.raises(RunArgError, match="expected no-new-privileges or KEY=VALUE"):
        parse_security_opt(value, "--security-opt")


@pytest.mark.parametrize(
    ("value", "label"),
    [("Xkey=v", ("Xkey", "v")), (" \tk=v", ("k", "v")), ("\vk=v", ("\vk", "v"))],
)
def test_a_label_loses_only_leading_spaces_and_tabs(value: str, label: tuple[str, str]) -> None:
    assert parse_label(value, "--label") == label


def test_a_label_name_with_a_tab_is_refused_naming_it() -> None:
    with pytest.raises(RunArgError) as raised:
        parse_label("a\tb=1", "--label")
    assert str(raised.value) == "--label: label name 'a\\tb' contains whitespace"


@pytest.mark.parametrize(
    ("value", "sent"),
    [("db:::1", "db:::1"), ("db=[::1]", "db:::1"), ("db=host-gateway", "db:host-gateway")],
)
def test_extra_hosts_docker_takes(value: str, sent: str) -> None:
    assert parse_extra_host(value, "--add-host") == sent


@pytest.mark.parametrize(
    ("value", "address"),
    [
        ("a=b=1.2.3.4", "b=1.2.3.4"),
        ("db=::1]", "::1]"),
        ("db=[]", "[]"),
        ("db=[1]", "1"),
        ("db=fe80::1%eth0", "fe80::1%eth0"),
    ],
)
def test_an_extra_host_s_bad_address_is_named_as_read(value: str, address: str) -> None:
    with pytest.raises(RunArgError) as raised:
        parse_extra_host(value, "--add-host")
    assert str(raised.value) == (
        f"--add-host: {address!r} in {value!r} is not an IP address (or host-gateway)"
    )
