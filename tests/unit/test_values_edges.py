"""The edges of ``values`` that the mutation run found untested: the largest CPU count,
device modes made of other letters, and where an env file's errors say they are."""

from __future__ import annotations

import pytest

from reconciler.errors import RunArgError
from reconciler.values import parse_cpus, parse_device, parse_env_file, valid_device_mode

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
