"""Destroy is the exact reverse of apply and never removes what booth did not create."""

from __future__ import annotations

import time

import pytest
from engine_support import (
    BUSYBOX_IMAGE,
    engine_snapshot,
    inspect_container,
    inspect_network,
    inspect_volume,
    labelled_containers,
    labelled_networks,
)

from reconciler.apply.readiness import SHUTDOWN_COMPLETE
from reconciler.engine.docker import engine as docker_engine

pytestmark = pytest.mark.docker


def test_destroy_volumes_restores_the_engine_exactly(make_booth, docker_client):
    b = make_booth()
    before = engine_snapshot(docker_client)

    b.ok("apply")
    assert engine_snapshot(docker_client) != before
    b.ok("destroy", "--volumes")

    assert engine_snapshot(docker_client) == before


def test_destroy_without_volumes_keeps_the_data_volume(make_booth, docker_client):
    b = make_booth()
    b.ok("apply")

    b.ok("destroy")

    assert labelled_containers(docker_client, b.instance) == {}
    assert labelled_networks(docker_client, b.instance) == []
    volume = inspect_volume(docker_client, b.volume)
    assert volume is not None
    assert volume["Labels"]["io.codingbooth.instance"] == b.instance


def test_existing_unlabelled_network_is_used_and_kept(make_booth, docker_client, cleanup):
    b = make_booth()
    network_id = docker_client.api.create_network(b.network, driver="bridge")["Id"]
    cleanup.networks.append(network_id)

    plan = b.plan_json()
    network_change = next(c for c in plan["changes"] if c["resource"] == "network")
    assert network_change["action"] == "external"
    assert "create-network" not in [s["op"] for s in plan["steps"]]

    b.ok("apply")
    sidecar = b.container("sidecar")
    assert sidecar is not None
    attached = sidecar["NetworkSettings"]["Networks"]
    assert attached[b.network]["NetworkID"] == network_id
    plan = b.cli("plan", "--detailed-exitcode")
    assert plan.rc == 0, plan.explain()

    b.ok("destroy", "--volumes")
    assert inspect_container(docker_client, b.sidecar) is None
    assert inspect_container(docker_client, b.booth) is None
    kept = inspect_network(docker_client, b.network)
    assert kept is not None and kept["Id"] == network_id


def sidecar_docker(b, *words: str) -> str:
    """The inner daemon's docker CLI, run in the sidecar."""
    result = b.client.api.exec_create(b.sidecar, ["docker", *words])
    return b.client.api.exec_start(result["Id"]).decode()


def wait_for_log(client, container: str, text: str) -> None:
    deadline = time.monotonic() + 30
    while text not in client.api.logs(container).decode():
        assert time.monotonic() < deadline, f"{container} never logged {text!r}"
        time.sleep(0.05)


def test_the_sidecar_stops_after_the_inner_daemons_graceful_shutdown(make_booth, docker_client):
    """The stop is cut short only once dockerd has logged that its shutdown is complete:
    the line is in its log, and the kill that follows shows in the exit code (the test
    image's dockerd, 20.10, then still waits a second for its containerd)."""
    b = make_booth()
    b.ok("apply")
    engine = docker_engine.connect()
    engine.primitives.stop(b.booth, 10)

    engine.stop_until_logged(b.sidecar, 10, SHUTDOWN_COMPLETE)

    state = docker_client.api.inspect_container(b.sidecar)["State"]
    assert state["Status"] == "exited"
    assert state["ExitCode"] == 137  # killed after the line, not by dockerd's own exit
    log = docker_client.api.logs(b.sidecar).decode()
    assert SHUTDOWN_COMPLETE.decode() in log
    assert "Processing signal 'terminated'" in log


def test_a_container_that_never_logs_the_line_is_stopped_as_docker_stop_does(
    docker_client, cleanup
):
    """Without the line the stop request decides: the container's own SIGTERM handler runs."""
    script = "trap 'echo bye; exit 3' TERM; echo up; while :; do sleep 0.1; done"
    container = docker_client.api.create_container(BUSYBOX_IMAGE, ["sh", "-c", script])["Id"]
    cleanup.containers.append(container)
    docker_client.api.start(container)
    wait_for_log(docker_client, container, "up")

    docker_engine.connect().stop_until_logged(container, 10, SHUTDOWN_COMPLETE)

    state = docker_client.api.inspect_container(container)["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 3)
    assert docker_client.api.logs(container).decode().split() == ["up", "bye"]


def test_inner_state_survives_destroy_and_apply(make_booth, docker_client):
    """What the inner daemon stored (in the kept data volume) is there after destroy."""
    b = make_booth()
    b.ok("apply")
    sidecar_docker(b, "volume", "create", "--label", "kept=yes", "booth-inner-kept")

    b.ok("destroy")
    b.ok("apply")

    listed = sidecar_docker(b, "volume", "ls", "-q", "--filter", "label=kept=yes")
    assert listed.split() == ["booth-inner-kept"]
