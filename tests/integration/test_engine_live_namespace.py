"""A booth left in a dead network namespace is found and restarted (found by the stateful
test on the in-memory engine): after a ``docker restart`` of the sidecar both containers
run, but the booth still sits in the namespace of the sidecar's earlier process, where
the inner daemon is not. Their ``State.StartedAt`` tell it; the next apply restarts the
booth into the live namespace."""

from __future__ import annotations

import json

import pytest
from engine_support import BoothDir, docker_cli, eventually, in_booth

pytestmark = pytest.mark.docker


def test_a_booth_behind_a_restarted_sidecar_is_restarted_into_its_namespace(make_booth):
    b: BoothDir = make_booth()
    b.ok("apply")
    docker_cli("restart", "-t", "1", b.sidecar)
    changes = {c["resource"]: c for c in b.plan_json()["changes"]}
    assert changes["booth"]["action"] == "restart", changes
    assert changes["booth"]["reason_code"] == "namespace_owner_restarted"
    assert changes["sidecar"]["action"] == "none"
    b.ok("apply")

    def reaches_the_inner_daemon() -> None:
        assert in_booth(b.booth, "docker", "version", "--format", "{{.Server.Version}}").stdout

    eventually(reaches_the_inner_daemon, timeout=30, what="the booth reaching its daemon")
    assert json.loads(b.ok("plan", "--json").stdout)["steps"] == []
    b.ok("destroy", "--volumes")
