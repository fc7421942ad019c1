"""The edges of ``port_choice`` that the mutation run found untested: the bounds of a
port setting, RANDOM without a generator of the caller's, and a seeded draw."""

from __future__ import annotations

import random
import socket

import pytest

from reconciler.core.port_choice import choose, parse_setting, port_free_here
from reconciler.errors import ConfigError


@pytest.mark.parametrize(
    ("value", "setting"),
    [(1, 1), (65535, 65535), ("1", 1), ("65535", 65535), ("next", "NEXT"), ("Random", "RANDOM")],
)
def test_the_bounds_and_the_words_are_settings(value: object, setting: int | str) -> None:
    assert parse_setting(value, "config.toml: port") == setting


@pytest.mark.parametrize("value", [0, 65536, "0", "65536", True, "", "NEXT1", 1.0])
def test_a_setting_outside_the_bounds_is_one_line_naming_where(value: object) -> None:
    with pytest.raises(ConfigError, match=r"^config.toml: port: port must be an integer"):
        parse_setting(value, "config.toml: port")


def test_random_without_a_generator_draws_a_free_slot() -> None:
    assert choose("RANDOM", [], lambda port: port == 42000) == 42000


def test_random_draws_with_the_generator_it_is_given() -> None:
    drawn = {choose("RANDOM", [], lambda port: True, random.Random(seed)) for seed in range(5)}
    again = {choose("RANDOM", [], lambda port: True, random.Random(seed)) for seed in range(5)}
    assert drawn == again
    order = random.Random(3).sample(range(10000, 65001, 1000), 56)
    assert choose("RANDOM", [], lambda port: True, random.Random(3)) == order[0]


@pytest.mark.parametrize(("value", "shown"), [(0, "0"), ("0", "'0'"), (1.0, "1.0"), ("x", "'x'")])
def test_the_refusal_shows_the_value_as_written(value: object, shown: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_setting(value, "port")
    assert str(raised.value) == (
        f"port: port must be an integer in 1..65535, NEXT or RANDOM, not {shown}"
    )


def test_a_port_held_on_any_address_here_is_not_free_and_is_once_released() -> None:
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        port = int(holder.getsockname()[1])
        assert not port_free_here(port)
    assert port_free_here(port)
