"""The actual state as the reconciler sees it: a plain value the observer fills in.

Kept free of Docker types so reconcile tests can build it by hand.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

RUNNING_STATES = frozenset({"running", "restarting", "paused"})


@attrs.frozen
class Observed:
    """One Docker object that matters to an instance.

    ``owned`` is true only when booth's labels say this instance created it; an object
    with an expected name but without them is foreign and is never modified.
    """

    kind: str  # "container" | "network" | "volume"
    name: str
    id: str
    owned: bool
    role: str | None = None
    spec_hash: str | None = None
    field_hashes: tuple[tuple[str, str], ...] = ()
    state: str | None = None  # containers only: running, exited, created, dead, …
    ports: tuple[str, ...] = ()

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES


@attrs.frozen
class ActualState:
    objects: tuple[Observed, ...] = ()

    def __iter__(self) -> Iterator[Observed]:
        return iter(self.objects)

    def owned_by_role(self, role: str) -> Observed | None:
        return next((o for o in self.objects if o.owned and o.role == role), None)

    def named(self, kind: str, name: str) -> Observed | None:
        return next((o for o in self.objects if o.kind == kind and o.name == name), None)
