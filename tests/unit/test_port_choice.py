"""``port = "RANDOM"`` takes a free slot, whatever the random draw, or fails naming why.

One seed proves little (a planted bug that took a busy slot survived the single-seed test),
so these draw the busy slots and the seed, and check every seed of a range.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.core.port_choice import FIRST_PORT, LAST_PORT, STEP, choose
from reconciler.errors import ConfigError

SLOTS = tuple(range(FIRST_PORT, LAST_PORT + 1, STEP))


def test_the_slots_are_codingbooths() -> None:
    assert SLOTS[:3] == (10000, 11000, 12000) and SLOTS[-1] == 65000 and len(SLOTS) == 56


@settings(max_examples=300, deadline=None)
@given(
    busy=st.sets(st.sampled_from(SLOTS), max_size=len(SLOTS) - 1),
    seed=st.integers(0, 2**32 - 1),
    setting=st.sampled_from(("RANDOM", "NEXT")),
)
def test_a_free_slot_is_taken_whenever_there_is_one(
    busy: set[int], seed: int, setting: str
) -> None:
    asked: list[int] = []

    def is_free(port: int) -> bool:
        asked.append(port)
        return port not in busy

    port = choose(setting, [], is_free, random.Random(seed))
    assert port in SLOTS and port not in busy
    assert port in asked  # the slot returned was the one found free
    if setting == "NEXT":
        assert port == min(set(SLOTS) - busy)


@pytest.mark.parametrize("free", [10000, 37000, 65000])
def test_the_only_free_slot_is_found_for_every_seed(free: int) -> None:
    for seed in range(300):
        assert choose("RANDOM", [], lambda p: p == free, random.Random(seed)) == free


@pytest.mark.parametrize("setting", ["RANDOM", "NEXT"])
def test_no_free_slot_is_an_error(setting: str) -> None:
    with pytest.raises(ConfigError, match=f"no free {setting} port among 10000, 11000"):
        choose(setting, [], lambda p: False, random.Random(0))


def test_random_spreads_over_the_free_slots() -> None:
    free = {12000, 30000, 64000}
    picks = {choose("RANDOM", [], free.__contains__, random.Random(s)) for s in range(60)}
    assert picks == free


def test_an_existing_instance_or_a_number_is_kept_whatever_is_free() -> None:
    assert choose("RANDOM", [13000, 12000], lambda p: False, random.Random(1)) == 12000
    assert choose(20000, [], lambda p: False) == 20000
