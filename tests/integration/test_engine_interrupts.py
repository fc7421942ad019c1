"""Ctrl-C, SIGTERM and concurrent runs of one instance, on a real engine (issue 4).

A gated DinD image keeps ``booth apply`` inside wait-ready for as long as a test needs;
reconciler's test-only pause hook holds ``destroy`` before a chosen step.
"""

from __future__ import annotations

import json
import signal
import time

import pytest
from engine_support import (
    PAUSE_MARKER,
    assert_converges,
    assert_destroy_leaves_nothing,
    assert_no_raw_errors,
    container_states,
    inspect_network,
    inspect_volume,
    labelled_containers,
    labelled_networks,
    labelled_volumes,
    open_gate,
    wait_ready_in_progress,
)

pytestmark = pytest.mark.docker


def _steps_done(stderr: str) -> list[int]:
    """Indexes of the ``step.done`` events of ``--log-format json`` on stderr."""
    done = []
    for line in stderr.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("event") == "step.done":
            done.append(event["index"])
    return done


def _error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    return lines[-1]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_during_wait_ready_exits_130_at_once_and_apply_converges(
    make_booth, gated_dind_image, signum
):
    b = make_booth(dind_image=gated_dind_image)
    # The JSON plan tells which steps there are; JSON events tell which ones were done.
    run = b.start("--log-format", "json", "apply", "--json")
    wait_ready_in_progress(b)

    started = time.monotonic()
    run.send(signum)
    result = run.result(timeout=30)
    elapsed = time.monotonic() - started

    assert result.rc == 130, result.explain()
    assert elapsed < 5, f"took {elapsed:.1f}s to stop: {result.explain()}"
    steps = json.loads(result.stdout)["steps"]
    wait = next(s["index"] for s in steps if s["op"] == "wait-ready")
    total = len(steps)
    assert _error_line(result.stderr) == (
        f"booth: error: interrupted during step {wait}/{total} (wait-ready {b.sidecar}); "
        "run `booth apply` to converge or `booth destroy` to clean up"
    ), result.explain()
    assert _steps_done(result.stderr) == list(range(1, wait)), result.explain()
    assert_no_raw_errors(result)
    states = container_states(b)
    # The booth was created before the sidecar started, and is not started yet.
    assert states == {"sidecar": "running", "booth": "created"}

    open_gate(b)
    assert_converges(b)
    assert_destroy_leaves_nothing(b)


def test_sigint_during_destroy_exits_130_and_a_second_destroy_finishes(make_booth, docker_client):
    b = make_booth()
    b.ok("apply")
    point = "stop-container:sidecar"
    run = b.start("--log-format", "json", "destroy", "--volumes", pause_before=point)
    run.wait_for(PAUSE_MARKER)

    run.send(signal.SIGINT)
    result = run.result(timeout=30)

    # The current step (stopping the sidecar) is finished, then destroy stops.
    assert result.rc == 130, result.explain()
    assert _error_line(result.stderr) == (
        f"booth: error: interrupted after step 3/6 (stop-container {b.sidecar}); "
        "run `booth apply` to converge or `booth destroy` to clean up"
    ), result.explain()
    assert _steps_done(result.stderr) == [1, 2, 3], result.explain()
    assert_no_raw_errors(result)
    assert container_states(b) == {"sidecar": "exited", "booth": None}
    assert inspect_network(docker_client, b.network) is not None
    assert inspect_volume(docker_client, b.volume) is not None

    assert_destroy_leaves_nothing(b)


def test_four_concurrent_applies_make_exactly_one_of_each(make_booth, docker_client):
    b = make_booth()

    runs = [b.start("apply") for _ in range(4)]  # the default lock wait (10 s)
    results = [run.result() for run in runs]

    for result in results:
        assert_no_raw_errors(result)
        if result.rc != 0:
            assert result.rc == 1, result.explain()
            assert "locked by pid" in _error_line(result.stderr), result.explain()
    succeeded = [r for r in results if r.rc == 0]
    assert succeeded, "\n".join(r.explain() for r in results)
    # One run built everything; the others, serialised by the lock, found nothing to do.
    outputs = "\n".join(r.explain() for r in results)
    assert sum("Plan: 4 to create" in r.stdout for r in succeeded) == 1, outputs
    assert sum("No changes." in r.stdout for r in succeeded) == len(succeeded) - 1, outputs
    assert set(labelled_containers(docker_client, b.instance)) == {b.sidecar, b.booth}
    assert [n["Name"] for n in docker_client.api.networks(names=[b.network])] == [b.network]
    assert len(labelled_networks(docker_client, b.instance)) == 1
    assert len(labelled_volumes(docker_client, b.instance)) == 1
    assert_converges(b)
    assert_destroy_leaves_nothing(b)


def test_second_run_fails_fast_naming_the_pid_that_holds_the_lock(
    make_booth, docker_client, gated_dind_image
):
    b = make_booth(dind_image=gated_dind_image)
    first = b.start("apply")
    wait_ready_in_progress(b)
    before = {name: c["Id"] for name, c in labelled_containers(docker_client, b.instance).items()}

    for command in ("apply", "destroy"):
        started = time.monotonic()
        second = b.cli(command, env={"BOOTH_LOCK_TIMEOUT": "0.5"})
        elapsed = time.monotonic() - started

        assert second.rc == 1, second.explain()
        assert elapsed < 5, f"{command} took {elapsed:.1f}s: {second.explain()}"
        assert f"locked by pid {first.pid}" in _error_line(second.stderr), second.explain()
        assert_no_raw_errors(second)
    after = {name: c["Id"] for name, c in labelled_containers(docker_client, b.instance).items()}
    assert after == before

    open_gate(b)
    result = first.result(timeout=60)
    assert result.rc == 0, result.explain()
    assert b.cli("plan", "--detailed-exitcode").rc == 0
    assert_destroy_leaves_nothing(b)
