"""``booth exec`` and ``booth logs``: the running booth, reached as ``docker exec -it`` and
``docker logs`` reach a container.

Both need only what identifies the instance, so they work whatever else the config says.
"""

from __future__ import annotations

import os

from reconciler import terminal
from reconciler.engine import Engine
from reconciler.errors import ExecutionError
from reconciler.model import ActualState, Role, resource_names
from reconciler.workspace import Workspace

# A login shell: bash where the image has it (CodingBooth's do), else sh.
LOGIN_SHELL = ("sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash -l; fi; exec sh -l")


def running_container(actual: ActualState, role: Role, name: str) -> str:
    """The ID of the instance's running ``role`` container, or a one-line error."""
    observed = actual.owned_by_role(role)
    if observed is None or not observed.running:
        state = "missing" if observed is None else observed.state
        raise ExecutionError(f"the {role} {name} is not running ({state}); `booth apply` starts it")
    return observed.id


def exec_in_booth(workspace: Workspace, command: tuple[str, ...] | None) -> int:
    """Run ``command`` (default: a login shell) in the booth; its exit code.

    With a terminal on stdin: a TTY, stdin forwarded, raw mode and resizes, as
    ``docker exec -it``. Otherwise: output only, as ``docker exec``.
    """
    ref, actual, engine = workspace.observe()
    names = resource_names(ref.name, ref.port)
    booth = running_container(actual, Role.BOOTH, names[Role.BOOTH])
    argv = list(command or LOGIN_SHELL)
    if os.isatty(0):
        exec_id, stream = engine.exec_attached(booth, argv)
        terminal.run_attached(stream, lambda rows, cols: engine.exec_resize(exec_id, rows, cols))
    else:
        exec_id, chunks = engine.exec_streamed(booth, argv)
        terminal.write_streams(chunks)
    code = engine.exec_exit_code(exec_id)
    return 126 if code is None else code


def show_logs(workspace: Workspace, role: Role, *, follow: bool, tail: int | None) -> int:
    ref, actual, engine = workspace.observe()
    _print_log(engine, actual, role, resource_names(ref.name, ref.port)[role], follow, tail)
    return 0


def _print_log(
    engine: Engine, actual: ActualState, role: Role, name: str, follow: bool, tail: int | None
) -> None:
    observed = actual.owned_by_role(role)
    if observed is None:
        raise ExecutionError(f"the {role} {name} does not exist; `booth apply` creates it")
    terminal.write_streams(engine.log_stream(observed.id, follow=follow, tail=tail))
