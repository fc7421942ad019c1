"""Crash safety and engine faults on a real engine (issue 4).

``booth apply`` is killed with SIGKILL at exact points (reconciler's test-only pause hook
``pause_before="op:role"`` (pausing_booth.py) holds it before a step; a gated DinD image holds it
inside wait-ready). Whatever it left behind, the next ``apply`` converges, the plan after
it is empty and ``destroy --volumes`` leaves nothing with the instance label. A host port
held by a local process is refused before anything is created; a sidecar that dies while
booth waits for it fails the run at once with its own last words; containers left exited
by an engine restart are brought back.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest
from cli_support import free_port
from engine_support import (
    PAUSE_MARKER,
    assert_converges,
    assert_destroy_leaves_nothing,
    assert_no_raw_errors,
    container_states,
    eventually,
    host_ports,
    inspect_container,
    labelled_containers,
    labelled_networks,
    labelled_volumes,
    open_gate,
    pending,
    wait_ready_in_progress,
)

from reconciler.apply.readiness import wait_ready
from reconciler.engine.docker import engine as docker_engine
from reconciler.errors import NotReadyError

pytestmark = pytest.mark.docker


def _killed_at(b, point: str, *args: str) -> None:
    """Run ``apply args…`` until it pauses before step ``point``, then ``kill -9`` it."""
    run = b.start("apply", *args, pause_before=point)
    run.wait_for(PAUSE_MARKER)
    run.kill()
    assert run.proc.returncode == -signal.SIGKILL


# Paused before this step of a first apply → the containers the engine holds at the kill,
# and what the next plan must still do (only that: the rest is kept). In order: network
# and volume made, no container yet; sidecar created, never started, no booth yet; both
# created, neither started; inner daemon answered, booth created but not started.
FIRST_APPLY_POINTS = {
    "create-container:sidecar": (
        {"sidecar": None, "booth": None},
        {"sidecar": "create", "booth": "create"},
    ),
    "create-container:booth": (
        {"sidecar": "created", "booth": None},
        {"sidecar": "start", "booth": "create"},
    ),
    "start-container:sidecar": (
        {"sidecar": "created", "booth": "created"},
        {"sidecar": "start", "booth": "start"},
    ),
    "start-container:booth": ({"sidecar": "running", "booth": "created"}, {"booth": "start"}),
}


@pytest.mark.parametrize("point", list(FIRST_APPLY_POINTS))
def test_apply_killed_during_first_apply_then_apply_converges(make_booth, docker_client, point):
    b = make_booth()

    _killed_at(b, point)

    left, still_to_do = FIRST_APPLY_POINTS[point]
    assert container_states(b) == left
    assert len(labelled_networks(docker_client, b.instance)) == 1
    assert pending(b.plan_json()) == still_to_do
    assert_converges(b)
    assert_destroy_leaves_nothing(b)


def test_apply_killed_during_wait_ready_then_apply_converges(make_booth, gated_dind_image):
    b = make_booth(dind_image=gated_dind_image)
    run = b.start("apply")
    wait_ready_in_progress(b)

    run.kill()

    states = container_states(b)
    # Created before the sidecar started; not started before the daemon was ready.
    assert states == {"sidecar": "running", "booth": "created"}
    open_gate(b)
    assert_converges(b)
    assert_destroy_leaves_nothing(b)


# Paused before this step of the replacement a new port causes (booth and sidecar are
# replaced) → the containers the engine holds at the kill, and what the next plan must do.
REPLACEMENT_POINTS = {
    "remove-container:sidecar": (
        {"sidecar": "exited", "booth": None},
        {"sidecar": "replace", "booth": "create"},
    ),
    "create-container:sidecar": (
        {"sidecar": None, "booth": None},
        {"sidecar": "create", "booth": "create"},
    ),
    "create-container:booth": (
        {"sidecar": "created", "booth": None},
        {"sidecar": "start", "booth": "create"},
    ),
}


@pytest.mark.parametrize("point", list(REPLACEMENT_POINTS))
def test_apply_killed_during_a_replacement_then_apply_converges(make_booth, point):
    b = make_booth()
    b.ok("apply")
    old_sidecar = b.container_id("sidecar")
    added = ("-p", f"{free_port()}:5000")

    _killed_at(b, point, *added)

    left, still_to_do = REPLACEMENT_POINTS[point]
    assert container_states(b) == left
    assert pending(b.plan_json(*added)) == still_to_do
    assert_converges(b, *added)
    sidecar = b.container("sidecar")
    assert sidecar is not None and sidecar["Id"] != old_sidecar
    assert added[1].split(":")[0] in host_ports(sidecar["HostConfig"]["PortBindings"])
    assert_destroy_leaves_nothing(b)


@pytest.mark.parametrize("held", ["booth port", "published port"])
def test_host_port_held_by_a_local_process_is_refused_before_anything_is_created(
    make_booth, docker_client, held
):
    if held == "booth port":
        b = make_booth()
        port = b.port
    else:
        port = free_port()
        b = make_booth(run_args=["-p", f"{port}:8080"])
    holder = f"{Path('/proc/self/comm').read_text().strip()}[{os.getpid()}]"

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        result = b.cli("apply")

    assert result.rc == 1, result.explain()
    assert f"127.0.0.1:{port}/tcp" in result.stderr, result.explain()
    assert f"held by {holder}" in result.stderr, result.explain()
    assert_no_raw_errors(result)
    assert labelled_containers(docker_client, b.instance) == {}
    assert labelled_networks(docker_client, b.instance) == []
    assert labelled_volumes(docker_client, b.instance) == []
    assert inspect_container(docker_client, b.sidecar) is None


def test_sidecar_dying_during_wait_ready_fails_at_once_with_its_last_log_lines(
    make_booth, failing_dind_image
):
    b = make_booth(dind_image=failing_dind_image, ready_timeout=60)

    started = time.monotonic()
    result = b.cli("apply")
    elapsed = time.monotonic() - started

    assert result.rc == 1, result.explain()
    assert elapsed < 15, f"took {elapsed:.1f}s with ready-timeout 60: {result.explain()}"
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("booth: error:"), result.explain()
    assert b.sidecar in error and "exited" in error, result.explain()
    assert "fake-dockerd: cannot start" in error, result.explain()
    assert_no_raw_errors(result)
    # The failed apply took back what it created (its last words are in the message).
    assert "taken back what this run did" in error, result.explain()
    assert container_states(b) == {"sidecar": None, "booth": None}
    assert labelled_networks(b.client, b.instance) == []
    assert_destroy_leaves_nothing(b)


def test_wait_ready_longer_than_the_api_read_timeout_ends_in_a_verdict(
    make_booth, gated_dind_image
):
    """booth reads the poller's output with a 60 s socket timeout while ready-timeout
    defaults to 120 s; scaled down here: a 1 s client timeout and a 3 s ready-timeout."""
    b = make_booth(dind_image=gated_dind_image)
    run = b.start("apply")
    wait_ready_in_progress(b)
    run.kill()  # the gate stays closed: the inner daemon never answers
    engine = docker_engine.connect()
    engine.primitives.client.timeout = 1  # type: ignore[attr-defined]

    started = time.monotonic()
    with pytest.raises(NotReadyError, match=f"{b.sidecar} did not answer within 3s"):
        wait_ready(engine, b.sidecar, b.sidecar, 3)
    elapsed = time.monotonic() - started

    assert 3 <= elapsed < 6, f"took {elapsed:.1f}s"
    open_gate(b)
    assert_converges(b)
    assert_destroy_leaves_nothing(b)


def test_containers_left_exited_by_an_engine_restart_are_brought_back(make_booth, docker_client):
    b = make_booth()
    b.ok("apply")
    ids = {role: b.container_id(role) for role in ("sidecar", "booth")}

    def both_exited() -> None:
        assert container_states(b) == {"sidecar": "exited", "booth": "exited"}

    # Twice: a restarted inner daemon must not trip over what the killed one left behind
    # (stale pid files whose numbers new processes reuse made it fail now and then).
    for _ in range(2):
        # An engine restart kills every container the same way: no clean shutdown.
        for role in ("sidecar", "booth"):
            docker_client.api.kill(ids[role])
        eventually(both_exited, what="sidecar and booth exited")
        assert pending(b.plan_json()) == {"sidecar": "start", "booth": "start"}

        assert_converges(b)
        assert {role: b.container_id(role) for role in ("sidecar", "booth")} == ids
    assert_destroy_leaves_nothing(b)
