"""Ports from config and command line end up on the sidecar, once each; the booth has none."""

from __future__ import annotations

import pytest
from cli_support import free_port
from engine_support import host_ports

pytestmark = pytest.mark.docker


def test_config_and_cli_ports_merge_onto_the_sidecar(make_booth):
    port_a, port_b = free_port(), free_port()
    b = make_booth(run_args=["-p", f"{port_a}:8080"])

    b.ok("apply", "-p", f"{port_a}:8080", "-p", f"{port_b}:3000")

    sidecar = b.container("sidecar")
    booth = b.container("booth")
    assert sidecar is not None and booth is not None
    bindings = sidecar["HostConfig"]["PortBindings"]
    assert sorted(host_ports(bindings)) == sorted(str(p) for p in (b.port, port_a, port_b))
    assert set(bindings) == {"10000/tcp", "8080/tcp", "3000/tcp"}
    assert all(x["HostIp"] == "127.0.0.1" for v in bindings.values() for x in v)

    assert not booth["HostConfig"].get("PortBindings")
    assert booth["HostConfig"]["NetworkMode"] == f"container:{sidecar['Id']}"
    assert "DOCKER_HOST=tcp://localhost:2375" in booth["Config"]["Env"]
