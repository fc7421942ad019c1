"""Neighbouring instances are never touched, on a real engine (issue 4).

Docker's name filters match substrings, and instance names share prefixes easily
(``foo-8080`` and ``foo-1-8080``, ``foo-8080-net`` inside ``xfoo-8080-net``). Whatever
``apply``, ``plan``, ``status`` and ``destroy`` of one instance do, the objects of the
others keep their IDs and states.
"""

from __future__ import annotations

import json

import pytest
from cli_support import free_port
from engine_support import (
    assert_converges,
    assert_destroy_leaves_nothing,
    labelled_containers,
    labelled_networks,
    labelled_volumes,
)

pytestmark = pytest.mark.docker


def _fingerprint(client, instance: str) -> dict[str, object]:
    """What must not change: each object's ID and, for containers, state and start time."""
    containers = {}
    for name, summary in labelled_containers(client, instance).items():
        state = client.api.inspect_container(summary["Id"])["State"]
        containers[name] = (summary["Id"], state["Status"], state["StartedAt"])
    return {
        "containers": containers,
        "networks": sorted((n["Name"], n["Id"]) for n in labelled_networks(client, instance)),
        "volumes": sorted(v["Name"] for v in labelled_volumes(client, instance)),
    }


def test_apply_and_destroy_leave_instances_with_similar_names_alone(make_booth, docker_client):
    b = make_booth()
    # Same port, names extending this one's (their port is this one's, so they cannot run
    # while it does: they are left exited); a booth *named* as an earlier booth named b's
    # (``{name}-{port}``, which b's observation inspects to find what an earlier booth
    # left), on another port, left running: today's labels tell it is not b's.
    suffixed = make_booth(name=f"{b.name}-1", port=b.port)
    prefixed = make_booth(name=f"x{b.name}", port=b.port)  # every name of b is a substring
    other_port = make_booth(name=f"{b.name}-{b.port}", port=free_port())
    running = other_port.start("apply")
    for neighbour in (suffixed, prefixed):
        neighbour.ok("apply")
        for role in ("booth", "sidecar"):
            docker_client.api.kill(neighbour.container_id(role))
            docker_client.api.wait(neighbour.container_id(role), timeout=30)
    assert running.result().rc == 0, running.result().explain()
    neighbours = (suffixed, prefixed, other_port)
    before = {n.instance: _fingerprint(docker_client, n.instance) for n in neighbours}
    assert all(len(f["containers"]) == 2 for f in before.values()), before

    assert_converges(b)
    status = json.loads(b.ok("status", "--json").stdout)
    names = {r["name"] for r in status["resources"]}
    assert names == {b.network, b.volume, b.sidecar, b.booth}, status
    assert_destroy_leaves_nothing(b)
    again = b.ok("destroy", "--volumes")  # nothing of b left: nothing to do
    assert "Nothing to destroy" in again.stdout, again.explain()

    after = {n.instance: _fingerprint(docker_client, n.instance) for n in neighbours}
    assert after == before
    assert other_port.cli("plan", "--detailed-exitcode").rc == 0
