"""``booth exec`` and ``booth logs``: the running booth, reached as ``docker exec -it`` and
``docker logs`` reach a container.

Both need only what identifies the instance, so they work whatever else the config says.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from reconciler.app import piping, terminal
from reconciler.app.workspace import Workspace
from reconciler.core.model import ActualState, Role, resource_names
from reconciler.engine.engine import Engine
from reconciler.errors import ExecutionError

# A login shell: bash where the image has it (CodingBooth's do), else sh.
LOGIN_SHELL = ("sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash -l; fi; exec sh -l")


def running_container(actual: ActualState, role: Role, name: str) -> str:
    """The ID of the instance's running ``role`` container, or a one-line error."""
    observed = actual.owned_by_role(role)
    if observed is None or not observed.running:
        state = "missing" if observed is None else observed.state
        raise ExecutionError(f"the {role} {name} is not running ({state}); `booth apply` starts it")
    return observed.id


# What the engine writes into an exec's *stdout* when it cannot start the command (moby
# writes the error into the already hijacked stream); it belongs on stderr.
EXEC_FAILED = b"OCI runtime exec failed"


def exec_in_booth(
    workspace: Workspace, command: tuple[str, ...] | None, *, interactive: bool = False
) -> int:
    """Run ``command`` (default: a login shell) in the booth; its exit code.

    With a terminal on stdin: a TTY, stdin forwarded, raw mode and resizes, as
    ``docker exec -it``. Otherwise: output only, as ``docker exec``, and with
    ``interactive`` our stdin is passed on until it ends, as ``docker exec -i``.
    """
    ref, actual, engine = workspace.observe()
    names = resource_names(ref.name, ref.port)
    booth = running_container(actual, Role.BOOTH, names[Role.BOOTH])
    argv = list(command or LOGIN_SHELL)
    if os.isatty(0):
        exec_id, stream = engine.exec_attached(booth, argv, tty=True)
        terminal.run_attached(
            stream, lambda rows, cols: engine.primitives.exec_resize(exec_id, rows, cols)
        )
    elif interactive:
        exec_id, stream = engine.exec_attached(booth, argv, tty=False)
        terminal.write_streams(_failures_to_stderr(piping.piped(stream, stdin_fd=0)))
    else:
        exec_id, chunks = engine.exec_streamed(booth, argv)
        terminal.write_streams(_failures_to_stderr(chunks))
    code = engine.exec_exit_code(exec_id)
    return 126 if code is None else code


def _failures_to_stderr(
    chunks: Iterable[tuple[bytes | None, bytes | None]],
) -> Iterator[tuple[bytes | None, bytes | None]]:
    """The chunks as they are, except the engine's own "cannot start it" message, which
    arrives as the first chunk on stdout and is moved to stderr."""
    first = True
    for out, err in chunks:
        failed = first and out is not None and out.startswith(EXEC_FAILED)
        first = False
        yield (None, out) if failed else (out, err)


def show_logs(workspace: Workspace, role: Role, *, follow: bool, tail: int | None) -> int:
    """0 also when Ctrl-C or SIGTERM ends ``--follow``: that is how a follow ends, as
    with ``docker logs -f``, not an error to report."""
    ref, actual, engine = workspace.observe()
    try:
        _print_log(engine, actual, role, resource_names(ref.name, ref.port)[role], follow, tail)
    except KeyboardInterrupt:
        if not follow:
            raise
    return 0


def _print_log(
    engine: Engine, actual: ActualState, role: Role, name: str, follow: bool, tail: int | None
) -> None:
    observed = actual.owned_by_role(role)
    if observed is None:
        raise ExecutionError(f"the {role} {name} does not exist; `booth apply` creates it")
    terminal.write_streams(engine.primitives.log_stream(observed.id, follow=follow, tail=tail))
