"""Convergence on a real engine: idempotence, drift repair, replacement that keeps data."""

from __future__ import annotations

import pytest
from cli_support import free_port
from engine_support import (
    BUSYBOX_IMAGE,
    in_booth,
    inspect_network,
    load_image_into_booth,
    pending,
)

pytestmark = pytest.mark.docker


def _started_at(b, role):
    container = b.container(role)
    assert container is not None
    return container["Id"], container["State"]["StartedAt"]


def test_second_plan_is_empty_and_second_apply_changes_nothing(make_booth):
    b = make_booth(run_args=["-p", f"{free_port()}:8080"])
    b.ok("apply")
    before = {role: _started_at(b, role) for role in ("sidecar", "booth")}
    network_id = inspect_network(b.client, b.network)["Id"]

    plan = b.cli("plan", "--detailed-exitcode")
    assert plan.rc == 0, plan.explain()
    assert "No changes." in plan.stdout
    assert pending(b.plan_json()) == {}

    again = b.ok("apply")
    assert "No changes." in again.stdout
    assert {role: _started_at(b, role) for role in ("sidecar", "booth")} == before
    assert inspect_network(b.client, b.network)["Id"] == network_id


def test_removed_booth_is_recreated_alone(make_booth, docker_client):
    b = make_booth()
    b.ok("apply")
    sidecar_id = b.container_id("sidecar")
    old_booth_id = b.container_id("booth")
    docker_client.api.remove_container(b.booth, force=True)

    plan = b.plan_json()
    assert pending(plan) == {"booth": "create"}
    assert [(s["op"], s["resource"]) for s in plan["steps"]] == [
        ("create-container", "booth"),
        ("wait-ready", "sidecar"),
        ("start-container", "booth"),
    ]

    b.ok("apply")
    assert b.container_id("sidecar") == sidecar_id
    booth = b.container("booth")
    assert booth is not None and booth["Id"] != old_booth_id
    assert booth["State"]["Running"]
    assert booth["HostConfig"]["NetworkMode"] == f"container:{sidecar_id}"
    in_booth(b.booth, "docker", "ps")
    assert b.cli("plan", "--detailed-exitcode").rc == 0


def test_stopped_sidecar_is_started_and_booth_restarted(make_booth, docker_client):
    b = make_booth()
    b.ok("apply")
    ids = {role: b.container_id(role) for role in ("sidecar", "booth")}
    docker_client.api.stop(b.sidecar, timeout=10)

    plan = b.plan_json()
    assert pending(plan) == {"sidecar": "start", "booth": "restart"}

    b.ok("apply")
    assert {role: b.container_id(role) for role in ("sidecar", "booth")} == ids
    in_booth(b.booth, "docker", "ps")  # the booth reaches the inner daemon again
    assert b.cli("plan", "--detailed-exitcode").rc == 0


def test_added_port_replaces_containers_keeps_network_and_inner_images(make_booth):
    b = make_booth()
    b.ok("apply")
    load_image_into_booth(b.booth)
    old = {role: b.container_id(role) for role in ("sidecar", "booth")}
    network_id = inspect_network(b.client, b.network)["Id"]
    new_port = free_port()

    plan = b.plan_json("-p", f"{new_port}:5000")
    assert pending(plan) == {"sidecar": "replace", "booth": "replace"}

    b.ok("apply", "-p", f"{new_port}:5000")
    new = {role: b.container_id(role) for role in ("sidecar", "booth")}
    assert all(new[role] != old[role] for role in old)
    assert inspect_network(b.client, b.network)["Id"] == network_id
    assert b.container("booth")["HostConfig"]["NetworkMode"] == f"container:{new['sidecar']}"
    in_booth(b.booth, "docker", "image", "inspect", BUSYBOX_IMAGE)  # survived on the data volume
    assert b.cli("plan", "--detailed-exitcode", "-p", f"{new_port}:5000").rc == 0
