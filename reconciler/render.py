"""Plans (and status) as text for people and JSON for machines.

Text follows Terraform's conventions so a plan reads the same in a CI log:
``+`` create, ``-`` remove, ``-/+`` replace, ``~`` start or restart.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from reconciler.model import ActualState, Kind
from reconciler.plan import Plan, Step
from reconciler.reconcile import Action, Change
from reconciler.status import StatusRow

FORMAT_VERSION = 1
SYMBOL = {
    Action.CREATE: "+",
    Action.REMOVE: "-",
    Action.REPLACE: "-/+",
    Action.START: "~",
    Action.RESTART: "~",
    Action.EXTERNAL: "=",
}
PlanPrinter = Callable[[Plan, ActualState], None]


def plan_text(plan: Plan) -> str:
    shown = [
        c
        for c in plan.changes
        if c.action != Action.NONE and (plan.has_changes or c.action != Action.EXTERNAL)
    ]
    if not plan.has_changes:
        return "No changes. The booth matches the configuration.\n"
    name_width = max(len(c.name) for c in shown)
    lines = [f"booth will perform the following actions on instance {plan.instance}:", ""]
    for change in shown:
        lines.extend(_change_lines(change, name_width))
    counts = plan.summary()
    lines += [
        "",
        (
            f"Plan: {counts['create']} to create, {counts['replace']} to replace, "
            f"{counts['start']} to start, {counts['remove']} to remove."
        ),
    ]
    return "\n".join(lines) + "\n"


def _change_lines(change: Change, name_width: int) -> list[str]:
    symbol = SYMBOL[change.action]
    verb = "restart" if change.action == Action.RESTART else ""
    reason = f"({verb + ': ' if verb else ''}{change.reason})"
    if change.action == Action.REPLACE:
        reason += " # forces replacement"
    lines = [f"{symbol:>3} {change.role:<8} {change.name:<{name_width}}  {reason}"]
    summary = change.desired_summary()
    creating = change.action in (Action.CREATE, Action.REPLACE)
    if summary and change.kind == Kind.CONTAINER and creating:
        detail = f"image: {summary['image']}"
        if summary["privileged"]:
            detail += "  ! privileged (root on the host kernel)"
        lines.append(f"{'':>16}{detail}")
    if summary and summary.get("ports") and change.action != Action.REMOVE:
        lines.append(f"{'':>16}ports: {', '.join(summary['ports'])}")
    return lines


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


def status_text(instance: str, rows: Sequence[StatusRow]) -> str:
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
    for line in table:
        lines.append(
            "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=False))
            + "  "
            + line[-1]
        )
    return "\n".join(lines) + "\n"


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
    }
    if engine is not None:
        document["engine"] = engine
        document["reach"] = list(reach)
    return json.dumps(document, indent=2) + "\n"
