"""Destroy is the exact reverse of apply and never removes what booth did not create."""

from __future__ import annotations

import pytest
from engine_support import (
    engine_snapshot,
    inspect_container,
    inspect_network,
    inspect_volume,
    labelled_containers,
    labelled_networks,
)

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
