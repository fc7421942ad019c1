"""``booth --dryrun``: the docker commands of the session ``booth`` would run, as
``coding-booth --dryrun`` prints its own.

A session (``app/session.py``) applies the plan, then stays with the booth's main process
(attached to a terminal, as ``docker run -it``, or following its output) and, when that
ends, removes the booth and the sidecar, and the network if this run created it (the
data volume stays; nothing is removed with ``keep-alive``); it exits with the booth's
code. A daemon booth (``--daemon``) is the plan alone, as ``apply``. Names come from the
plan's resources.
"""

from __future__ import annotations

from reconciler.core.model import Role
from reconciler.core.plan import Op, Plan
from reconciler.core.reconcile import Action
from reconciler.render.docker import STOP_SECONDS, plan_docker, shell_line


def session_docker(plan: Plan, *, attach: str, keep_alive: bool) -> str:
    """The plan's commands, the booth in the foreground, then the session's clean-up.

    ``attach`` is how the session meets the booth's main process (``app/session.py``):
    ``follow`` its output, or ``stdin`` / ``tty``: this script's stdin attached (the
    booth created with an open stdin, and a TTY for ``tty``, as the session creates it).
    """
    interactive = attach != "follow"
    booth = _named(plan, Role.BOOTH)
    if booth is None:  # pragma: no cover - a session's plan always has its booth
        return plan_docker(plan)
    starts = any(s.role == Role.BOOTH and s.op == Op.START_CONTAINER for s in plan.steps)
    tail = [
        "",
        "# Running booth in foreground: the session stays with the booth's main process"
        + (" (attached to this script's stdin)" if interactive else " (following its output)"),
    ]
    if interactive and not starts:
        tail.append(f"{shell_line('docker', 'attach', booth)} || booth_status=$?")
    elif not interactive:
        tail.append(shell_line("docker", "logs", "--follow", booth))
        tail.append(f"booth_status=$({shell_line('docker', 'wait', booth)})")
    if keep_alive:
        tail.append("# keep-alive: the booth and the sidecar stay when the session ends")
    else:
        tail += _clean_up(plan, booth)
    tail.append('exit "$booth_status"')
    script = plan_docker(plan, attach_booth=interactive, tail=tail)
    # the attached start sets booth_status; it must exist before the plan's commands
    return script.replace("\nset -e\n", "\nset -e\nbooth_status=0\n", 1) if interactive else script


def _clean_up(plan: Plan, booth: str) -> list[str]:
    """What the session removes when the booth's main process ends."""
    lines = [
        "# the session ends: booth removes the booth and the sidecar, and the network this "
        "run created (the data volume stays)"
    ]
    containers = [booth, *filter(None, [_named(plan, Role.SIDECAR)])]
    for name in containers:
        lines.append(shell_line("docker", "stop", "-t", str(STOP_SECONDS), name))
        lines.append(shell_line("docker", "rm", "--force", "--volumes", name))
    network = next((c for c in plan.changes if c.role == Role.NETWORK), None)
    if network is not None and network.action == Action.CREATE:
        lines.append(shell_line("docker", "network", "rm", network.name))
    return lines


def _named(plan: Plan, role: Role) -> str | None:
    """The name of the plan's desired resource of ``role`` (one it does not remove)."""
    for change in plan.changes:
        if change.role == role and change.action not in (Action.REMOVE, Action.EXTERNAL):
            return change.name
    return None
