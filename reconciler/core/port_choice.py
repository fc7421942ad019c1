"""``port = "NEXT" | "RANDOM"``: CodingBooth's port choice, made stable under reconciliation.

CodingBooth picks the booth port each time it starts (``port_determination.go``: NEXT is
the first free one of 10000, 11000, … 65000; RANDOM a free one of those at random). A
reconciler must not: a second ``apply`` would see 10000 held by its own sidecar and make
a second booth on 11000. So an instance of the same code directory that already exists
(found by its ``io.codingbooth.code-dir`` label, or by the code directory it mounts)
keeps its port; only a new one is chosen the CodingBooth way.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from reconciler.errors import ConfigError

if TYPE_CHECKING:  # imported where RANDOM is chosen: every booth command loads this module
    import random

FIRST_PORT, LAST_PORT, STEP = 10000, 65000, 1000
CHOICES = ("NEXT", "RANDOM")


def parse_setting(value: object, where: str) -> int | str:
    """An integer port, or NEXT/RANDOM (any case, as CodingBooth accepts them)."""
    if isinstance(value, bool):
        raise ConfigError(f"{where}: port must be an integer in 1..65535, NEXT or RANDOM")
    if isinstance(value, int) and 1 <= value <= 65535:
        return value
    if isinstance(value, str):
        if value.upper() in CHOICES:
            return value.upper()
        if value.isascii() and value.isdigit() and 1 <= int(value) <= 65535:
            return int(value)
    shown = value if isinstance(value, int) else repr(value)
    raise ConfigError(f"{where}: port must be an integer in 1..65535, NEXT or RANDOM, not {shown}")


def choose(
    setting: int | str,
    existing: Sequence[int],
    is_free: Callable[[int], bool],
    rng: random.Random | None = None,
) -> int:
    """The booth port: a number as given; else an existing instance's; else a free slot."""
    if isinstance(setting, int):
        return setting
    if existing:
        return min(existing)
    slots = list(range(FIRST_PORT, LAST_PORT + 1, STEP))
    if setting == "NEXT":
        found = next((port for port in slots if is_free(port)), None)
    else:
        import random

        # Every slot once, in a random order: a free one is always found (drawing with
        # replacement a fixed number of times could miss the only free slot).
        order = (rng or random.Random()).sample(slots, len(slots))
        found = next((port for port in order if is_free(port)), None)
    if found is None:
        raise ConfigError(f"no free {setting} port among {FIRST_PORT}, {FIRST_PORT + STEP}, …")
    return found


def port_free_here(port: int) -> bool:
    """Whether this host could bind ``port`` on all interfaces (CodingBooth's
    ``isPortFree`` asks the same of ``:port``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", port))
        except OSError as err:
            return err.errno not in (errno.EADDRINUSE, errno.EACCES)
    return True
