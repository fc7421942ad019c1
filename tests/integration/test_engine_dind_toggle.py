"""Switching DinD off and on: the booth alone publishes its ports; switching converges."""

from __future__ import annotations

import pytest
from engine_support import (
    inspect_container,
    inspect_network,
    inspect_volume,
    labelled_containers,
    labelled_networks,
)

pytestmark = pytest.mark.docker


def test_dind_off_is_booth_alone_and_switching_on_converges(make_booth, docker_client):
    b = make_booth(dind=False)
    b.ok("apply")

    assert set(labelled_containers(docker_client, b.instance)) == {b.booth}
    booth = b.container("booth")
    assert booth is not None
    assert booth["HostConfig"]["PortBindings"] == {
        "10000/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(b.port)}]
    }
    assert inspect_container(docker_client, b.sidecar) is None
    assert inspect_network(docker_client, b.network) is None
    assert labelled_networks(docker_client, b.instance) == []

    b.write_config(dind=True)
    b.ok("apply")
    assert set(labelled_containers(docker_client, b.instance)) == {b.sidecar, b.booth}
    plan = b.cli("plan", "--detailed-exitcode")
    assert plan.rc == 0, plan.explain()


def test_dind_on_to_off_removes_sidecar_and_network_keeps_volume(make_booth, docker_client):
    b = make_booth(dind=True)
    b.ok("apply")
    assert inspect_volume(docker_client, b.volume) is not None

    b.write_config(dind=False)
    b.ok("apply")

    assert set(labelled_containers(docker_client, b.instance)) == {b.booth}
    assert inspect_container(docker_client, b.sidecar) is None
    assert inspect_network(docker_client, b.network) is None
    assert inspect_volume(docker_client, b.volume) is not None
    booth = b.container("booth")
    assert booth["HostConfig"]["PortBindings"] == {
        "10000/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(b.port)}]
    }
    plan = b.cli("plan", "--detailed-exitcode")
    assert plan.rc == 0, plan.explain()
