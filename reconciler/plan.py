"""Changes → an ordered list of steps, each one API call with its cause. Pure.

Teardown first, dependents before what they hang on (booth, sidecar, network, volume);
then build-up in creation order (network, volume → sidecar create → start → wait-ready
→ booth create → start).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from reconciler.desired import BOOTH, NETWORK, ROLES, SIDECAR, VOLUME
from reconciler.reconcile import (
    CREATE,
    EXTERNAL,
    NONE,
    REMOVE,
    REPLACE,
    RESTART,
    START,
    TEARDOWN_RANK,
    Change,
)

CREATE_OP = {NETWORK: "create-network", VOLUME: "create-volume"}
REMOVE_OP = {
    "network": "remove-network",
    "volume": "remove-volume",
    "container": "remove-container",
}


@attrs.frozen
class Step:
    index: int
    op: str
    role: str
    name: str
    reason: str


@attrs.frozen
class Plan:
    instance: str
    changes: tuple[Change, ...]
    steps: tuple[Step, ...]

    @property
    def has_changes(self) -> bool:
        return bool(self.steps)

    def summary(self) -> dict[str, int]:
        counts = {"create": 0, "replace": 0, "start": 0, "remove": 0}
        for change in self.changes:
            key = {
                CREATE: "create",
                REPLACE: "replace",
                START: "start",
                RESTART: "start",
                REMOVE: "remove",
            }.get(change.action)
            if key:
                counts[key] += 1
        return counts


def make_plan(instance: str, changes: Sequence[Change]) -> Plan:
    ops: list[tuple[str, Change, str]] = []
    teardown = [c for c in changes if c.action in (REPLACE, REMOVE)]
    teardown.sort(key=lambda c: (TEARDOWN_RANK.get(c.role, len(TEARDOWN_RANK)), c.name))
    for change in teardown:
        observed = change.actual
        if change.kind == "container" and observed is not None and observed.running:
            ops.append(("stop-container", change, change.reason))
        ops.append((REMOVE_OP[change.kind], change, change.reason))

    buildup = [c for c in changes if c.action not in (REMOVE, NONE, EXTERNAL)]
    buildup.sort(key=lambda c: ROLES.index(c.role))
    for change in buildup:
        if change.role == BOOTH and not any(op == "wait-ready" for op, _, _ in ops):
            ops.extend(_wait_for_running_sidecar(changes))
        ops.extend(_buildup_ops(change))
    _create_booth_while_daemon_boots(ops)
    steps = tuple(
        Step(index, op, change.role, change.name, reason)
        for index, (op, change, reason) in enumerate(ops, start=1)
    )
    return Plan(instance, tuple(changes), steps)


def _create_booth_while_daemon_boots(ops: list[tuple[str, Change, str]]) -> None:
    """Move the booth's create-container before wait-ready.

    Creating a container needs only the sidecar to exist, not its daemon, so it overlaps
    the inner daemon's boot instead of adding to it; the booth still starts after.
    """
    ops_only = [(op, change.role) for op, change, _ in ops]
    if ("wait-ready", SIDECAR) not in ops_only or ("create-container", BOOTH) not in ops_only:
        return
    wait = ops_only.index(("wait-ready", SIDECAR))
    create = ops_only.index(("create-container", BOOTH))
    if create > wait:
        ops.insert(wait, ops.pop(create))


def _wait_for_running_sidecar(changes: Sequence[Change]) -> list[tuple[str, Change, str]]:
    """A booth (re)started next to a sidecar that is left as it is still waits for the
    inner daemon: after a crash mid-apply the daemon may not be up yet."""
    sidecar = next((c for c in changes if c.role == SIDECAR and c.action == NONE), None)
    if sidecar is None:
        return []
    return [("wait-ready", sidecar, "the booth starts only once the inner daemon answers")]


def _buildup_ops(change: Change) -> list[tuple[str, Change, str]]:
    if change.kind != "container":
        return [(CREATE_OP[change.role], change, change.reason)]
    ops: list[tuple[str, Change, str]] = []
    if change.action in (CREATE, REPLACE):
        ops.append(("create-container", change, change.reason))
        ops.append(("start-container", change, change.reason))
    elif change.action == START:
        ops.append(("start-container", change, change.reason))
    elif change.action == RESTART:
        ops.append(("restart-container", change, change.reason))
    if change.role == SIDECAR and ops:
        ops.append(("wait-ready", change, "inner Docker daemon starting"))
    return ops
