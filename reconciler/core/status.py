"""Desired × actual → one status row per resource (what ``booth status`` shows). Pure."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from reconciler.core.model import ActualState, DesiredGraph, Kind
from reconciler.core.reconcile import Action, reconcile


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


# A port published on every address is reached here on the loopback.
_ANY_ADDRESS = ("", "0.0.0.0", "::")


def urls(ports: Iterable[str]) -> tuple[str, ...]:
    """``http://`` URLs of the published TCP ports (``IP:PUBLIC:PRIVATE/tcp``), what
    people open next; a port bound to every address is shown on ``127.0.0.1``."""
    found: dict[tuple[int, str], str] = {}
    for port in ports:
        address, proto = port.rsplit("/", 1)
        ip, public, _private = address.rsplit(":", 2)
        if proto != "tcp" or not public.isdigit():
            continue
        host = "127.0.0.1" if ip.strip("[]") in _ANY_ADDRESS else ip
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        found[(int(public), host)] = f"http://{host}:{public}"
    return tuple(found[key] for key in sorted(found))
