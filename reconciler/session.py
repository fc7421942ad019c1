"""``booth run``: CodingBooth's session — apply, attach to the booth, tear down on exit.

With a terminal on stdin the session is ``docker run -it``: the booth gets a TTY and an
open stdin, and the terminal is attached to its main process (see ``terminal.py``; in raw
mode Ctrl-C goes to the booth as a key). Otherwise the booth's output is followed and it
gets no stdin, like ``docker run`` without ``-i``.

When the booth's main process ends (or booth itself is interrupted: Ctrl-C outside a
terminal session, SIGTERM, a hang-up) the booth and the sidecar are removed, and the
network too if this run created it; the data volume stays. The exit code is the booth's
own (130 when interrupted).
"""

from __future__ import annotations

import sys

import attrs
import docker
import docker.errors

from reconciler import terminal
from reconciler.config import BoothConfig
from reconciler.desired import BOOTH, NETWORK, DesiredGraph
from reconciler.errors import ExecutionError
from reconciler.execute import Executor
from reconciler.lock import instance_lock
from reconciler.logs import get_logger
from reconciler.observe import connect, endpoint, engine_is_local, observe
from reconciler.plan import Plan, Step, make_plan
from reconciler.progress import Progress
from reconciler.reconcile import destroy_changes, reconcile
from reconciler.state import ActualState

EXIT_INTERRUPTED = 130

log = get_logger()


def attached_config(config: BoothConfig) -> BoothConfig:
    """The config of a terminal session: the booth with a TTY and an open stdin.

    The same as ``--run-arg=-t --run-arg=-i``, applied before the desired graph is built,
    so the plan and the spec hash describe the booth that is really created. (A later
    ``booth apply`` sees a different spec; it never meets this booth, which ``run`` removes.)
    """
    options = attrs.evolve(config.booth_options, tty=True, stdin_open=True)
    return attrs.evolve(config, booth_options=options)


def run_session(
    config: BoothConfig, desired: DesiredGraph, progress: Progress, *, interactive: bool = False
) -> int:
    """Apply, attend the booth until its main process exits, tear down; the exit code.

    ``interactive`` (stdin is a terminal, and ``desired`` came from :func:`attached_config`)
    attaches the terminal; otherwise the booth's output is followed.
    """
    client = connect()
    booth = desired.get(BOOTH)
    assert booth is not None
    with instance_lock(endpoint(), config.instance):
        actual = observe(client, config.name, config.port)
        network = desired.get(NETWORK)
        network_existed = network is not None and actual.named("network", network.name) is not None
        plan = make_plan(desired.instance, reconcile(desired, actual))
        try:
            executor = Executor(
                client,
                desired,
                config.ready_timeout,
                engine_is_local(),
                progress=_WholePlanProgress(progress, len(plan.steps)),
            )
            stream = _converge(executor, plan, actual, booth.name, interactive=interactive)
        except BaseException:
            # We hold the instance lock already: taking it again (a new flock on a new
            # file descriptor) would wait for ourselves and then hide the real error.
            _remove_session_objects(client, config, desired, keep_network=network_existed)
            raise
    exit_code = EXIT_INTERRUPTED
    try:
        exit_code = _attend(client, executor.ids.get(BOOTH, booth.name), stream)
    except KeyboardInterrupt:
        log.warning("session.interrupted")
    finally:
        # Also on an unexpected error (a lost terminal, a dropped connection): a session
        # never leaves its booth and sidecar running.
        _teardown(client, config, desired, keep_network=network_existed)
    return exit_code


def _converge(
    executor: Executor, plan: Plan, actual: ActualState, booth: str, *, interactive: bool
) -> terminal.Stream | None:
    """Run the plan; in a terminal session, return the booth's open attach connection.

    The connection is opened after the booth is created and before it starts, as
    ``docker run -it`` does: attaching to a started booth loses what it wrote first (a
    shell's prompt), and never returns for one that has already exited.
    """
    if not interactive:
        executor.run(plan, actual)
        return None
    before, start = split_at_booth_start(plan)
    executor.run(before, actual)
    stream = _attach(executor.client, executor.ids.get(BOOTH, booth))
    try:
        executor.run(start, actual)
    except BaseException:
        stream.close()
        raise
    if not start.steps and not _running(executor.client, executor.ids.get(BOOTH, booth)):
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
        (i for i, s in enumerate(plan.steps) if s.role == BOOTH and s.op == "start-container"),
        len(plan.steps),
    )
    return attrs.evolve(plan, steps=plan.steps[:at]), Plan(plan.instance, (), plan.steps[at:])


def _attach(client: docker.APIClient, container: str) -> terminal.Stream:
    try:
        return terminal.attach(client, container)
    except docker.errors.APIError as err:
        raise ExecutionError(f"cannot attach to the booth: {err.explanation or err}") from None


def _running(client: docker.APIClient, container: str) -> bool:
    """Whether the booth runs; one that is gone counts as not running (nothing to attach)."""
    try:
        return bool(client.inspect_container(container)["State"]["Running"])
    except docker.errors.NotFound:
        return False


def _attend(client: docker.APIClient, container: str, stream: terminal.Stream | None) -> int:
    """Wait for the booth's main process, attached or following its output; its exit code."""
    if stream is not None:
        return terminal.run_attached(client, container, stream)
    return _follow(client, container)


def _follow(client: docker.APIClient, container: str) -> int:
    """Stream the booth's output until its main process exits; return its exit code.

    The booth is already started when we get here, so we follow its log rather than
    attach: attach (even with ``logs``) drops output written just before it connects,
    and never returns for a booth that has already exited; a followed log has all the
    output and ends when the container does.
    """
    for chunk in client.logs(container, stdout=True, stderr=True, stream=True, follow=True):
        sys.stdout.buffer.write(chunk)
        sys.stdout.flush()
    status: int = client.wait(container, timeout=None)["StatusCode"]
    return status


@attrs.frozen
class _WholePlanProgress:
    """Progress for a plan run in parts: steps are counted against the whole plan
    (``[7/7]``, not ``[7/1]`` for the booth's start after attaching)."""

    inner: Progress
    total: int

    def start(self, step: Step, total: int) -> None:
        self.inner.start(step, self.total)

    def done(self, step: Step, total: int, seconds: float, ok: bool = True) -> None:
        self.inner.done(step, self.total, seconds, ok)

    def note(self, message: str) -> None:
        self.inner.note(message)


def _teardown(
    client: docker.APIClient, config: BoothConfig, desired: DesiredGraph, *, keep_network: bool
) -> None:
    with instance_lock(endpoint(), config.instance):
        _remove_session_objects(client, config, desired, keep_network=keep_network)


def _remove_session_objects(
    client: docker.APIClient, config: BoothConfig, desired: DesiredGraph, *, keep_network: bool
) -> None:
    """Booth, sidecar and (unless it existed before) the network; the caller holds the lock."""
    actual = observe(client, config.name, config.port)
    changes = [
        c
        for c in destroy_changes(actual, remove_volumes=False)
        if not (keep_network and c.role == NETWORK)
    ]
    plan = make_plan(desired.instance, changes)
    Executor(client, desired, config.ready_timeout).run(plan)
    log.info("session.ended", removed=len(changes))
