"""Desired × actual → one status row per resource (what ``booth status`` shows). Pure."""

from __future__ import annotations

import attrs

from reconciler.model import ActualState, DesiredGraph, Kind
from reconciler.reconcile import Action, reconcile


@attrs.frozen
class StatusRow:
    role: str
    name: str
    state: str  # running | exited | created | missing | external (+ other Docker states)
    up_to_date: bool
    ports: tuple[str, ...]
    desired: bool = True


def status_rows(desired: DesiredGraph, actual: ActualState) -> list[StatusRow]:
    rows = []
    for change in reconcile(desired, actual):
        observed = change.actual
        if change.action == Action.EXTERNAL:
            state = "external"
        elif observed is None:
            state = "missing"
        elif observed.kind == Kind.CONTAINER:
            state = observed.state or "unknown"
        else:
            state = "created"
        rows.append(
            StatusRow(
                role=change.role,
                name=change.name,
                state=state,
                up_to_date=change.action in (Action.NONE, Action.EXTERNAL),
                ports=observed.ports if observed else (),
                desired=change.action != Action.REMOVE,
            )
        )
    return rows
