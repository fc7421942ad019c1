"""``booth list``: every booth on the engine, of any code directory, as ``docker compose
ls`` lists projects: name, code directory, state, published ports as URLs, age.

One label-filtered list of containers (``io.codingbooth.managed=true``), grouped by the
``io.codingbooth.instance`` label; the name shown is the booth container's as the engine
reports it, so it follows whatever naming the booth was created with. Networks and
volumes are not listed (a destroyed booth's kept data volume is not a booth). Pure but
for :func:`list_booths`'s one engine call.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from reconciler.core.model import LABEL_CODE_DIR, LABEL_INSTANCE, LABEL_ROLE, Role
from reconciler.core.status import urls
from reconciler.engine.engine import Engine
from reconciler.ui import colour

Document = Mapping[str, Any]


@attrs.frozen
class BoothRow:
    name: str
    instance: str
    code_dir: str
    state: str  # "running", or e.g. "exited(1), running(1)" when its containers differ
    containers: tuple[tuple[str, str, str], ...]  # (role, name, state)
    ports: tuple[str, ...]  # "IP:PUBLIC:PRIVATE/PROTO", as status shows them
    created: int  # seconds since the epoch, of its oldest container

    @property
    def urls(self) -> tuple[str, ...]:
        return urls(self.ports)


def list_booths(engine: Engine) -> list[BoothRow]:
    return booth_rows(engine.managed_containers())


def booth_rows(containers: Iterable[Document]) -> list[BoothRow]:
    """One row per instance among listed containers, sorted by name."""
    groups: dict[str, list[Document]] = {}
    for container in containers:
        labels = container.get("Labels") or {}
        groups.setdefault(str(labels.get(LABEL_INSTANCE, "")), []).append(container)
    rows = [_row(instance, group) for instance, group in groups.items() if instance]
    return sorted(rows, key=lambda row: (row.name, row.instance))


def _row(instance: str, group: Sequence[Document]) -> BoothRow:
    members = sorted(
        (
            str((c.get("Labels") or {}).get(LABEL_ROLE, "")),
            _name(c),
            str(c.get("State") or "unknown"),
        )
        for c in group
    )
    booth = next((name for role, name, _ in members if role == Role.BOOTH.value), instance)
    code_dirs = {str((c.get("Labels") or {}).get(LABEL_CODE_DIR, "")) for c in group}
    states = Counter(state for _, _, state in members)
    return BoothRow(
        name=booth,
        instance=instance,
        code_dir=max(code_dirs),  # one per instance; "" only when no container has it
        state=next(iter(states)) if len(states) == 1 else _counted(states),
        containers=tuple(members),
        ports=tuple(sorted({port for c in group for port in _ports(c)})),
        created=min(int(c.get("Created") or 0) for c in group),
    )


def _name(container: Document) -> str:
    return str((container.get("Names") or ["/"])[0]).lstrip("/")


def _counted(states: Counter[str]) -> str:
    return ", ".join(f"{state}({count})" for state, count in sorted(states.items()))


def _ports(container: Document) -> list[str]:
    return [
        f"{p.get('IP', '')}:{p['PublicPort']}:{p['PrivatePort']}/{p.get('Type', 'tcp')}"
        for p in container.get("Ports") or []
        if "PublicPort" in p
    ]


def age(created: int, now: float) -> str:
    """``45s``, ``12m``, ``3h``, ``2d``: the largest whole unit, as ``kubectl get`` shows."""
    seconds = max(0, int(now) - created)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def render_text(rows: Sequence[BoothRow], now: float | None = None, coloured: bool = False) -> str:
    if not rows:
        return "No booths on this engine.\n"
    when = time.time() if now is None else now
    table = [("NAME", "CODE DIR", "STATE", "AGE", "URLS")] + [
        (
            row.name,
            row.code_dir or "-",
            row.state,
            age(row.created, when),
            " ".join(row.urls) or "-",
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(4)]
    lines = []
    for number, line in enumerate(table):
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        if number and coloured:
            cells[2] = colour.paint(cells[2], _state_colour(line[2]))
        lines.append("  ".join([*cells, line[4]]))
    return "\n".join(lines) + "\n"


def _state_colour(state: str) -> str:
    return colour.GREEN if state == "running" else colour.YELLOW


def render_json(rows: Sequence[BoothRow], now: float | None = None) -> str:
    when = time.time() if now is None else now
    document = [
        {
            "name": row.name,
            "instance": row.instance,
            "code_dir": row.code_dir,
            "state": row.state,
            "urls": list(row.urls),
            "ports": list(row.ports),
            "containers": [
                {"role": role, "name": name, "state": state} for role, name, state in row.containers
            ],
            "created": row.created,
            "age_seconds": max(0, int(when) - row.created),
        }
        for row in rows
    ]
    return json.dumps(document, indent=2) + "\n"
