"""Plans (and status) as text for people and JSON for machines.

Text follows Terraform's conventions so a plan reads the same in a CI log:
``+`` create, ``-`` remove, ``-/+`` replace, ``~`` start or restart.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from typing import Any

from reconciler.core.model import CODE_MOUNT, ActualState, Kind, Role
from reconciler.core.plan import Plan, Step
from reconciler.core.reconcile import Action, Change
from reconciler.core.status import StatusRow, urls
from reconciler.errors import shown as escaped
from reconciler.ui import colour

FORMAT_VERSION = 1
SYMBOL = {
    Action.CREATE: "+",
    Action.REMOVE: "-",
    Action.REPLACE: "-/+",
    Action.START: "~",
    Action.RESTART: "~",
    Action.EXTERNAL: "=",
}
# Terraform's colours for its symbols; a replacement is its removal and its creation.
SYMBOL_COLOUR = {"+": colour.GREEN, "-": colour.RED, "~": colour.YELLOW}
PlanPrinter = Callable[[Plan, ActualState], None]


def plan_text(plan: Plan, *, coloured: bool = False) -> str:
    """The plan for people; ``coloured`` adds Terraform's colours (for a terminal only:
    the bytes are otherwise exactly the golden files')."""
    shown = [
        c
        for c in plan.changes
        if c.action != Action.NONE and (plan.has_changes or c.action != Action.EXTERNAL)
    ]
    if not plan.has_changes:
        no_changes = colour.paint("No changes.", colour.GREEN, colour.BOLD, on=coloured)
        return f"{no_changes} The booth matches the configuration.\n"
    name_width = max(len(c.name) for c in shown)
    lines = [f"booth will perform the following actions on instance {plan.instance}:", ""]
    for change in shown:
        lines.extend(_change_lines(change, name_width, coloured))
    counts = plan.summary()
    lines += [
        "",
        (
            f"{colour.paint('Plan:', colour.BOLD, on=coloured)} {counts['create']} to create, "
            f"{counts['replace']} to replace, "
            f"{counts['start']} to start, {counts['remove']} to remove."
        ),
    ]
    # One element is one line: a value holding a newline or a terminal escape stays on it.
    # Coloured, the colours painted here stay (only SGR codes: no cursor move or title).
    escape = _escaped_keeping_colour if coloured else escaped
    return "\n".join(escape(line) for line in lines) + "\n"


_SGR = re.compile(r"(\x1b\[[0-9;]*m)")


def _escaped_keeping_colour(line: str) -> str:
    """``line`` escaped as ``errors.shown`` does, except for its colour codes."""
    return "".join(part if _SGR.fullmatch(part) else escaped(part) for part in _SGR.split(line))


def _symbol(action: Action, coloured: bool) -> str:
    symbol = SYMBOL[action]
    painted = "".join(
        colour.paint(char, SYMBOL_COLOUR[char], on=coloured) if char in SYMBOL_COLOUR else char
        for char in symbol
    )
    return " " * (3 - len(symbol)) + painted


def _change_lines(change: Change, name_width: int, coloured: bool = False) -> list[str]:
    verb = "restart" if change.action == Action.RESTART else ""
    reason = f"({verb + ': ' if verb else ''}{change.reason})"
    if change.action == Action.REPLACE:
        reason += " " + colour.paint("# forces replacement", colour.RED, on=coloured)
    symbol = _symbol(change.action, coloured)
    lines = [f"{symbol} {change.role:<8} {change.name:<{name_width}}  {reason}"]
    summary = change.desired_summary()
    creating = change.action in (Action.CREATE, Action.REPLACE)
    if summary and change.kind == Kind.CONTAINER and creating:
        detail = f"image: {summary['image']}"
        if summary["privileged"]:
            warning = "! privileged (root on the host kernel)"
            detail += "  " + colour.paint(warning, colour.YELLOW, on=coloured)
        lines.append(f"{'':>16}{detail}")
    if summary and change.kind == Kind.IMAGE and creating:
        dockerfile = os.path.relpath(summary["dockerfile"], summary["context"])
        lines.append(f"{'':>16}build: {dockerfile} (context: the code directory)")
    if summary and summary.get("ports") and change.action != Action.REMOVE:
        lines.append(f"{'':>16}ports: {', '.join(summary['ports'])}")
    if summary and change.role == Role.BOOTH and change.action != Action.REMOVE:
        lines.extend(f"{'':>16}{line}" for line in review_lines(summary))
    return lines


def review_lines(summary: dict[str, Any]) -> list[str]:
    """The booth's security- and resource-relevant settings that differ from booth's own
    defaults (the code mount, the inner listener's and CodingBooth's variables, the
    network namespace), one per line."""
    mounts = [m for m in summary["mounts"] if m["target"] != CODE_MOUNT]
    network = summary["network_mode"]
    limits = [
        f"{name} {summary[key]}{unit}"
        for key, name, unit in (
            ("memory", "memory", " B"),
            ("cpus", "cpus", ""),
            ("shm_size", "shm", " B"),
        )
        if summary[key] is not None
    ]
    items = [
        ("user", summary["user"] or ""),
        (
            "capabilities",
            ", ".join(
                [*(f"+{c}" for c in summary["cap_add"]), *(f"-{c}" for c in summary["cap_drop"])]
            ),
        ),
        ("devices", ", ".join(summary["devices"])),
        ("security-opt", ", ".join(summary["security_opt"])),
        ("mounts", ", ".join(_mount_text(m) for m in mounts)),
        ("tmpfs", ", ".join(f"{p}:{o}" if o else p for p, o in summary["tmpfs"].items())),
        ("limits", ", ".join(limits)),
        ("network", "" if network == "default" or network.startswith("container:") else network),
        ("env", ", ".join(n for n in summary["env"] if not _booths_own_env(n))),
        ("labels", ", ".join(f"{k}={v}" for k, v in summary["labels"].items())),
        *_runtime_lines(summary),
    ]
    return [f"{name}: {text}" for name, text in items if text]


def _runtime_lines(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The settings of the flags CodingBooth passes through (``desired._runtime_summary``)."""
    namespaces = [
        f"{kind}={summary[f'{kind}_mode']}" for kind in ("pid", "ipc") if summary[f"{kind}_mode"]
    ]
    lifecycle = [f"restart={summary['restart']}"] if summary["restart"] else []
    if summary["auto_remove"]:
        lifecycle.append("removed when its command ends (--rm)")
    return [
        ("namespaces", ", ".join(namespaces)),
        ("groups", ", ".join(summary["group_add"])),
        ("gpus", "; ".join(summary["gpus"])),
        ("ulimits", ", ".join(summary["ulimits"])),
        ("sysctls", ", ".join(f"{k}={v}" for k, v in summary["sysctls"].items())),
        ("lifecycle", ", ".join(lifecycle)),
    ]


# Set by booth itself: how the booth reaches its daemon (endpoints.py) and CodingBooth's
# image contract (codingbooth.py). Listing them under every booth would hide the user's.
_OWN_ENV = frozenset(
    {"DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "HOST_UID", "HOST_GID", "TZ"}
)


def _booths_own_env(name: str) -> bool:
    return name in _OWN_ENV or name.startswith("CB_")


def _mount_text(mount: dict[str, Any]) -> str:
    source = mount["source"] or "(anonymous)"
    access = "read-only" if mount["read_only"] else "writable"
    return f"{mount['type']} {source} -> {mount['target']} ({access})"


def plan_json(plan: Plan) -> str:
    document: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "instance": plan.instance,
        "changes": [_change_json(c) for c in plan.changes],
        "steps": [_step_json(s) for s in plan.steps],
        "summary": plan.summary(),
    }
    return json.dumps(document, indent=2) + "\n"


def _step_json(step: Step) -> dict[str, Any]:
    return {
        "index": step.index,
        "op": step.op.value,
        "resource": step.role.value,
        "name": step.name,
        "reason": step.reason,
        "reason_code": step.reason_code.value,
        "depends_on": list(step.depends_on),
    }


def _change_json(change: Change) -> dict[str, Any]:
    item: dict[str, Any] = {
        "resource": change.role.value,
        "name": change.name,
        "action": change.action.value,
        "reason": change.reason,
        "reason_code": change.reason_code.value,
    }
    summary = change.desired_summary()
    if summary is not None:
        item["desired"] = summary
    return item


def status_text(instance: str, rows: Sequence[StatusRow], *, coloured: bool = False) -> str:
    """A table of the instance's resources, then the URLs of its published TCP ports."""
    headers = ("RESOURCE", "NAME", "STATE", "UP TO DATE", "PORTS")
    table = [headers] + [
        (
            row.role,
            row.name,
            row.state,
            "yes" if row.up_to_date else ("not desired" if not row.desired else "no"),
            ", ".join(row.ports) or "-",
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(headers) - 1)]
    lines = [f"Instance {instance}", ""]
    for number, line in enumerate(table):
        cells = [cell.ljust(w) for cell, w in zip(line, widths, strict=False)]
        if number and coloured:
            cells[2] = colour.paint(cells[2], STATE_COLOUR.get(line[2], colour.YELLOW))
            cells[3] = colour.paint(cells[3], colour.GREEN if line[3] == "yes" else colour.YELLOW)
        lines.append("  ".join([*cells, line[-1]]))
    published = urls(port for row in rows for port in row.ports)
    if published:
        lines += ["", "URLs: " + "  ".join(published)]
    return "\n".join(lines) + "\n"


STATE_COLOUR = {"running": colour.GREEN, "external": colour.GREEN, "missing": colour.RED}


def status_json(
    instance: str,
    rows: Sequence[StatusRow],
    engine: dict[str, Any] | None = None,
    reach: Sequence[str] = (),
) -> str:
    document: dict[str, Any] = {
        "instance": instance,
        "resources": [
            {
                "role": row.role,
                "name": row.name,
                "state": row.state,
                "up_to_date": row.up_to_date,
                "ports": list(row.ports),
            }
            for row in rows
        ],
        "urls": list(urls(port for row in rows for port in row.ports)),
    }
    if engine is not None:
        document["engine"] = engine
        document["reach"] = list(reach)
    return json.dumps(document, indent=2) + "\n"
