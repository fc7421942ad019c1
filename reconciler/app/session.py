"""``booth run``: CodingBooth's session — apply, attach to the booth, tear down on exit.

With a terminal on stdin the session is ``docker run -it``: the booth gets a TTY and an
open stdin, and the terminal is attached to its main process (see ``app/terminal.py``; in raw
mode Ctrl-C goes to the booth as a key). Otherwise the booth's output is followed and it
gets no stdin, like ``docker run`` without ``-i``.

When the booth's main process ends (or booth itself is interrupted: Ctrl-C outside a
terminal session, SIGTERM, a hang-up) the booth and the sidecar are removed, and the
network too if this run created it; the data volume stays. The exit code is the booth's
own (130 when interrupted).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

import attrs

from reconciler.app import piping, terminal
from reconciler.app.flow import Flow, Goal, run_steps
from reconciler.app.loading import Loading
from reconciler.apply.progress import NullProgress
from reconciler.config.booth_config import BoothConfig, InstanceRef
from reconciler.core.model import ActualState, DesiredGraph, Kind, Role
from reconciler.core.plan import Op, Plan
from reconciler.core.reconcile import Action, Change, destroy_changes, reconcile
from reconciler.engine.engine import Engine
from reconciler.engine.seam import Stream
from reconciler.errors import EXIT_INTERRUPTED, EngineError, ExecutionError, InstanceTakenError
from reconciler.ui.logs import get_logger

if TYPE_CHECKING:
    from reconciler.apply.execute import Executor

log = get_logger()


class Attach(StrEnum):
    """How a session connects to its booth's main process."""

    FOLLOW = "follow"  # its output is followed; no stdin (`docker run`)
    STDIN = "stdin"  # stdin open and copied, no TTY (`docker run -i`)
    TTY = "tty"  # the local terminal, raw (`docker run -it`)


def attached_config(config: BoothConfig, attach: Attach = Attach.TTY) -> BoothConfig:
    """The config of a session's booth: with a TTY and an open stdin, or an open stdin
    that closes when this session closes it.

    The same as ``--run-arg=-t --run-arg=-i`` (or ``-i``), applied before the desired
    graph is built, so the plan and the spec hash describe the booth that is really
    created. (A later ``booth apply`` sees a different spec; it never meets this booth,
    which ``run`` removes.)
    """
    if attach == Attach.FOLLOW:
        return config
    values = {"Tty": True} if attach == Attach.TTY else {"StdinOnce": True}
    fields = config.booth_fields.with_values(OpenStdin=True, **values)
    return attrs.evolve(config, booth_fields=fields)


def refuse_taking_over(plan: Plan, *, attending: bool) -> None:
    """A booth another session runs is never replaced, restarted or removed by a session
    (CodingBooth's ``docker run --name`` fails the same way); and a session that attends
    its booth (and removes it at the end) does not take over one that runs already."""
    for change in plan.changes:
        running = change.actual is not None and change.actual.running
        if change.role != Role.BOOTH or not running:
            continue
        if change.action in (Action.REPLACE, Action.RESTART, Action.REMOVE) or attending:
            raise InstanceTakenError(
                f"the booth {change.name!r} is running already (another session started it); "
                "booth will not take it over: open a shell in it with `booth exec`, or "
                "remove it with `booth destroy` first"
            )


@attrs.frozen
class _Attending:
    """A session's booth once its plan has run: what the session attends and tears down."""

    booth: str  # its container's ID (or name)
    stream: Stream | None  # its attach connection (None: its output is followed)
    keep_network: bool  # the network existed before this run: the clean-up leaves it


def run_session(flow: Flow, loading: Loading, *, attach: Attach) -> int:
    """Apply, attend the booth until its main process exits, tear down; the exit code.

    ``attach`` (``loading`` read the config for it) says how the booth's main process is
    connected: the local terminal, this process's stdin and output, or its output
    followed. The engine is asked before the desired graph is completed, as ``apply``
    does (a build that reads no file of its context is then not walked).
    """
    config = loading.config
    ref = InstanceRef(config.name, config.port)

    def refuse(plan: Plan, _actual: ActualState) -> None:
        refuse_taking_over(plan, attending=True)

    def execute(executor: Executor, plan: Plan, actual: ActualState) -> _Attending:
        desired = loading.result(actual)[1]  # completed by the goal's ``changes``
        booth = desired.get(Role.BOOTH)
        assert booth is not None
        keep_network = network_existed(desired, actual)
        try:
            stream = _converge(executor, plan, actual, booth.name, attach=attach)
        except BaseException:
            # Still under the lock; quietly, as the failure is what the user sees.
            quiet = attrs.evolve(flow, progress=NullProgress(), before_step=None)
            remove_session_objects(quiet, ref, keep_network=keep_network, locked=True)
            raise
        return _Attending(executor.ids.get(Role.BOOTH, booth.name), stream, keep_network)

    goal = Goal(
        ref,
        lambda actual: reconcile(loading.result(actual)[1], actual),
        observe=lambda: flow.observe_loading(loading, pull=config.pull),
        on_plan=refuse,
        ready_timeout=config.ready_timeout,
        silence_build=config.silence_build,
        pull=config.pull,
    )
    attending = flow.converge(goal, execute).result
    # A booth that does not run is started, and a running one refused: a session's plan
    # always has steps, so it always ran.
    assert attending is not None
    exit_code = EXIT_INTERRUPTED
    try:
        exit_code = _attend(flow.engine, attending.booth, attending.stream, attach)
    except KeyboardInterrupt:
        log.warning("session.interrupted")
    finally:
        # Also on an unexpected error (a lost terminal, a dropped connection): a session
        # never leaves its booth and sidecar running — unless the config says keep-alive
        # (CodingBooth's: no --rm), when they stay for the next `booth run` or `apply`.
        if config.keep_alive:
            log.info("session.kept", instance=config.instance)
        else:
            remove_session_objects(flow, ref, keep_network=attending.keep_network, locked=False)
    return exit_code


def remove_session_objects(
    flow: Flow, ref: InstanceRef, *, keep_network: bool, locked: bool
) -> None:
    """Booth, sidecar and (unless it existed before) the network; the volume stays.

    ``locked``: the caller holds the instance lock already (``Flow.converge``)."""

    def changes(actual: ActualState) -> list[Change]:
        return [
            c
            for c in destroy_changes(actual, remove_volumes=False)
            if not (keep_network and c.role == Role.NETWORK)
        ]

    converged = flow.converge(Goal(ref, changes), run_steps, locked=locked)
    log.info("session.ended", removed=len(converged.plan.changes))


def _converge(
    executor: Executor, plan: Plan, actual: ActualState, booth: str, *, attach: Attach
) -> Stream | None:
    """Run the plan; in an attached session, return the booth's open attach connection.

    The connection is opened after the booth is created and before it starts, as
    ``docker run -i`` does: attaching to a started booth loses what it wrote first (a
    shell's prompt), and never returns for one that has already exited.
    """
    if attach == Attach.FOLLOW:
        executor.run(plan, actual)
        return None
    before, start = split_at_booth_start(plan)
    executor.run(before, actual)
    stream = _attach(executor.engine, executor.ids.get(Role.BOOTH, booth))
    try:
        executor.run(start, actual)
    except BaseException:
        stream.close()
        raise
    if not start.steps and not _running(executor.engine, executor.ids.get(Role.BOOTH, booth)):
        # The plan left an existing booth as it was, and its process has ended since:
        # nothing to attach to, so the session shows its output instead.
        stream.close()
        return None
    return stream


def split_at_booth_start(plan: Plan) -> tuple[Plan, Plan]:
    """The plan up to the booth's ``start-container``, and that step (with anything after).

    The second part is empty when this plan does not start the booth (it is running
    already, or is only restarted; then the terminal attaches once the plan is done).
    """
    at = next(
        (
            i
            for i, s in enumerate(plan.steps)
            if s.role == Role.BOOTH and s.op == Op.START_CONTAINER
        ),
        len(plan.steps),
    )
    return attrs.evolve(plan, steps=plan.steps[:at]), Plan(plan.instance, (), plan.steps[at:])


def _attach(engine: Engine, container: str) -> Stream:
    """Open the booth's attach connection between create and start: the engine then
    sends everything the booth writes from its first byte on (raw bytes with a TTY)."""
    try:
        return engine.primitives.attach(container)
    except EngineError as err:
        raise ExecutionError(f"cannot attach to the booth: {err}") from None


def _running(engine: Engine, container: str) -> bool:
    """Whether the booth runs; one that is gone counts as not running (nothing to attach)."""
    try:
        return bool(engine.container_state(container).get("Running"))
    except EngineError:
        return False


def _attend(engine: Engine, container: str, stream: Stream | None, attach: Attach) -> int:
    """Wait for the booth's main process, attached or following its output; its exit code."""
    if stream is None:
        return _follow(engine, container)
    if attach == Attach.TTY:
        terminal.run_attached(
            stream, lambda rows, cols: engine.primitives.resize(container, rows, cols)
        )
    else:
        terminal.write_streams(piping.piped(stream))
    return engine.primitives.wait(container)


def _follow(engine: Engine, container: str) -> int:
    """Stream the booth's output until its main process exits; return its exit code.

    The booth is already started when we get here, so we follow its log rather than
    attach: attach (even with ``logs``) drops output written just before it connects,
    and never returns for a booth that has already exited; a followed log has all the
    output and ends when the container does.
    """
    terminal.write_streams(engine.primitives.log_stream(container, follow=True, tail=None))
    return engine.primitives.wait(container)


def network_existed(desired: DesiredGraph, actual: ActualState) -> bool:
    network = desired.get(Role.NETWORK)
    return network is not None and actual.named(Kind.NETWORK, network.name) is not None
