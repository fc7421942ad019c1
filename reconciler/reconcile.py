"""Desired × actual → changes. Pure: no Docker calls, deterministic order.

Rules (design.md §5): missing → create; spec hash differs → replace; stopped → start;
owned but not desired → remove. Replacement and restarts cascade along the edges that
need it: a booth lives in its sidecar's network namespace, so a new sidecar means a new
booth, and a (re)started sidecar means a restarted booth.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from reconciler.desired import (
    ATTACH,
    NETNS,
    ROLES,
    TEARDOWN_ORDER,
    VOLUME,
    DesiredGraph,
    Resource,
    changed_fields,
)
from reconciler.errors import ForeignObjectError
from reconciler.state import ActualState, Observed

CREATE, REPLACE, START, RESTART, REMOVE, NONE, EXTERNAL = (
    "create",
    "replace",
    "start",
    "restart",
    "remove",
    "none",
    "external",
)
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
TEARDOWN_RANK = {role: rank for rank, role in enumerate(TEARDOWN_ORDER)}


@attrs.frozen
class Change:
    """What happens to one resource, and why."""

    role: str
    name: str
    kind: str
    action: str
    reason: str
    desired: Resource | None = None
    actual: Observed | None = None

    def desired_summary(self) -> dict[str, Any] | None:
        return None if self.desired is None else self.desired.summary


def reconcile(desired: DesiredGraph, actual: ActualState) -> tuple[Change, ...]:
    """The changes that take ``actual`` to ``desired``, in creation order."""
    changes: dict[str, Change] = {}
    for resource in desired:
        changes[resource.role] = _base_change(resource, actual)
    _cascade(desired, changes)
    removals = _not_desired(desired, actual)
    ordered = sorted(changes.values(), key=lambda c: ROLE_RANK[c.role])
    return (*ordered, *removals)


def destroy_changes(actual: ActualState, *, remove_volumes: bool) -> tuple[Change, ...]:
    """Everything this instance owns, removed; the data volume only when asked."""
    changes = []
    for observed in sorted(_owned(actual), key=_teardown_key):
        if observed.role == VOLUME and not remove_volumes:
            continue
        changes.append(_removal(observed, "not desired: destroy"))
    return tuple(changes)


def _base_change(resource: Resource, actual: ActualState) -> Change:
    named = actual.named(resource.kind, resource.name)
    if named is not None and not named.owned:
        if resource.kind == "container":
            raise ForeignObjectError(
                f"container {resource.name!r} exists but was not created by booth "
                "(no io.codingbooth labels for this instance); booth will not touch it: "
                "remove or rename it yourself, or choose another `name` or `port`"
            )
        return Change(
            resource.role,
            resource.name,
            resource.kind,
            EXTERNAL,
            f"{resource.kind} exists, not created by booth: used as is",
            resource,
            named,
        )
    observed = actual.owned_by_role(resource.role)

    def make(action: str, reason: str) -> Change:
        return Change(
            resource.role, resource.name, resource.kind, action, reason, resource, observed
        )

    if observed is None:
        return make(CREATE, "not found")
    if observed.name != resource.name:
        return make(REPLACE, f"spec changed: name (was {observed.name})")
    if observed.spec_hash != resource.spec_hash:
        fields = changed_fields(dict(observed.field_hashes), dict(resource.field_hashes))
        if resource.role == VOLUME:
            # Replacing the data volume would drop the inner daemon's images and containers,
            # and the engine refuses to remove it while the sidecar mounts it (the mount
            # edge does not cascade): keep it, as a volume that is no longer desired is kept.
            return make(NONE, f"spec changed: {', '.join(fields) or 'spec'}; kept: holds data")
        return make(REPLACE, f"spec changed: {', '.join(fields) or 'spec'}")
    if resource.kind == "container" and observed.state == "dead":
        return make(REPLACE, "dead")
    if resource.kind == "container" and not observed.running:
        return make(START, "stopped")
    return make(NONE, "up to date")


def _cascade(desired: DesiredGraph, changes: dict[str, Change]) -> None:
    """Push replacements and restarts along the edges that need them (creation order).

    A dependent that exists is replaced when what it hangs on is created or replaced
    (its namespace or network is gone); a running booth is restarted when its sidecar
    is started, because a booth that joined a namespace keeps the dead one.
    """
    for role in ROLES:
        source = changes.get(role)
        if source is None:
            continue
        for edge in desired.edges:
            if edge.src != role or edge.kind not in (NETNS, ATTACH):
                continue
            target = changes[edge.dst]
            if target.actual is None or target.action in (CREATE, REPLACE):
                continue
            if source.action in (CREATE, REPLACE):
                why = "namespace owner replaced" if edge.kind == NETNS else f"{role} replaced"
                changes[edge.dst] = attrs.evolve(target, action=REPLACE, reason=why)
            elif source.action == START and edge.kind == NETNS and target.action == NONE:
                changes[edge.dst] = attrs.evolve(
                    target, action=RESTART, reason="namespace owner restarted"
                )


def _owned(actual: ActualState) -> Iterable[Observed]:
    return (o for o in actual if o.owned)


def _not_desired(desired: DesiredGraph, actual: ActualState) -> list[Change]:
    """Owned objects nothing asks for any more, booth first (reverse creation order).

    A data volume is never removed implicitly: it holds the inner daemon's images and
    containers, and only ``destroy --volumes`` may drop it.
    """
    wanted = {(r.kind, r.name) for r in desired}
    leftovers = [o for o in _owned(actual) if (o.kind, o.name) not in wanted and o.role != VOLUME]
    leftovers.sort(key=_teardown_key)
    return [_removal(o, "not desired") for o in leftovers]


def _teardown_key(observed: Observed) -> tuple[int, str]:
    return TEARDOWN_RANK.get(observed.role or "", len(TEARDOWN_ORDER)), observed.name


def _removal(observed: Observed, reason: str) -> Change:
    return Change(
        observed.role or observed.kind, observed.name, observed.kind, REMOVE, reason, None, observed
    )
