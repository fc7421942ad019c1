"""``booth status --json`` reports what the engine really has."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.docker


def _status(b):
    document = json.loads(b.ok("status", "--json").stdout)
    assert document["instance"] == b.instance
    return {r["role"]: r for r in document["resources"]}


def test_status_after_apply_and_with_a_stopped_sidecar(make_booth, docker_client):
    b = make_booth()
    b.ok("apply")

    rows = _status(b)
    assert set(rows) == {"network", "volume", "sidecar", "booth"}
    assert {role: row["state"] for role, row in rows.items()} == {
        "network": "created",
        "volume": "created",
        "sidecar": "running",
        "booth": "running",
    }
    assert all(row["up_to_date"] is True for row in rows.values())
    assert rows["sidecar"]["name"] == b.sidecar and rows["booth"]["name"] == b.booth
    assert f"127.0.0.1:{b.port}:10000/tcp" in rows["sidecar"]["ports"]

    docker_client.api.stop(b.sidecar, timeout=10)
    rows = _status(b)
    assert rows["sidecar"]["state"] == "exited"
    assert rows["sidecar"]["up_to_date"] is False
