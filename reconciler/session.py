"""``booth run``: CodingBooth's session — apply, follow the booth, tear down on exit.

When the booth's main process ends (or the user presses Ctrl-C) the booth and the
sidecar are removed, and the network too if this run created it; the data volume stays.
The exit code is the booth's own.
"""

from __future__ import annotations

import sys

import docker

from reconciler.config import BoothConfig
from reconciler.desired import BOOTH, NETWORK, DesiredGraph
from reconciler.execute import Executor
from reconciler.lock import instance_lock
from reconciler.logs import get_logger
from reconciler.observe import connect, endpoint, engine_is_local, observe
from reconciler.plan import make_plan
from reconciler.progress import Progress
from reconciler.reconcile import destroy_changes, reconcile

EXIT_INTERRUPTED = 130

log = get_logger()


def run_session(config: BoothConfig, desired: DesiredGraph, progress: Progress) -> int:
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
                client, desired, config.ready_timeout, engine_is_local(), progress=progress
            )
            executor.run(plan, actual)
        except BaseException:
            # We hold the instance lock already: taking it again (a new flock on a new
            # file descriptor) would wait for ourselves and then hide the real error.
            _remove_session_objects(client, config, desired, keep_network=network_existed)
            raise
    try:
        exit_code = _follow(client, booth.name)
    except KeyboardInterrupt:
        log.warning("session.interrupted")
        exit_code = EXIT_INTERRUPTED
    _teardown(client, config, desired, keep_network=network_existed)
    return exit_code


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
