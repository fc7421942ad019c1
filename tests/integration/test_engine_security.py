"""Secure defaults, seen from the engine and from inside the sidecar (issue 4).

The inner daemon listens on 127.0.0.1 only (the booth shares the namespace; nothing else
needs it), published ports bind 127.0.0.1 unless asked otherwise, and publishing the
daemon port 2375 is refused unless ``allow-daemon-port = true``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import free_port
from engine_support import (
    assert_no_raw_errors,
    in_booth,
    labelled_containers,
    labelled_networks,
    labelled_volumes,
    listening_addresses,
)

pytestmark = pytest.mark.docker

DAEMON_PORT = 2375
LOOPBACK = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it


def _host_listeners(port: int) -> set[str]:
    """Hex addresses with a LISTEN socket on ``port`` on this host (its own /proc)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, _, hex_port = fields[1].partition(":")
            if int(hex_port, 16) == port and fields[3] == "0A":
                found.add(address)
    return found


def test_inner_daemon_listens_on_loopback_only_and_ports_bind_loopback(make_booth):
    extra = free_port()
    b = make_booth(run_args=["-p", f"{extra}:8080"])
    b.ok("apply")

    assert listening_addresses(b.sidecar, DAEMON_PORT) == {LOOPBACK}
    in_booth(b.booth, "docker", "version")  # ... and the booth reaches it as localhost

    sidecar = b.container("sidecar")
    assert sidecar is not None
    bindings = sidecar["HostConfig"]["PortBindings"]
    assert set(bindings) == {"10000/tcp", "8080/tcp"}
    assert {x["HostIp"] for v in bindings.values() for x in v} == {"127.0.0.1"}
    published = sidecar["NetworkSettings"]["Ports"]
    assert {x["HostIp"] for v in published.values() if v for x in v} == {"127.0.0.1"}
    assert f"{DAEMON_PORT}/tcp" not in bindings
    assert not (b.container("booth")["HostConfig"].get("PortBindings"))
    for port in (b.port, extra):
        # docker-proxy (when the engine uses it) listens for the published port: on
        # 127.0.0.1, never on all interfaces.
        assert _host_listeners(port) <= {LOOPBACK}, port


@pytest.mark.parametrize(
    ("where", "spec", "canonical"),
    [
        ("cli", "2375:2375", "127.0.0.1:2375:2375/tcp"),
        ("cli", "127.0.0.1:12375:2375", "127.0.0.1:12375:2375/tcp"),
        ("cli", "2370-2380:2370-2380", "127.0.0.1:2370-2380:2370-2380/tcp"),
        ("config", "2375:2375", "127.0.0.1:2375:2375/tcp"),
    ],
)
def test_publishing_the_daemon_port_is_refused_unless_allowed(
    make_booth, docker_client, where, spec, canonical
):
    b = make_booth(run_args=["-p", spec] if where == "config" else [])
    args = ("-p", spec) if where == "cli" else ()

    result = b.cli("apply", *args)

    assert result.rc == 1, result.explain()
    assert str(DAEMON_PORT) in result.stderr and "allow-daemon-port" in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) == 1
    assert_no_raw_errors(result)
    assert labelled_containers(docker_client, b.instance) == {}
    assert labelled_networks(docker_client, b.instance) == []
    assert labelled_volumes(docker_client, b.instance) == []

    b.write_config(allow_daemon_port=True)
    plan = b.cli("plan", "--offline", "--json", *args)
    assert plan.rc == 0, plan.explain()
    sidecar = next(c for c in json.loads(plan.stdout)["changes"] if c["resource"] == "sidecar")
    assert canonical in sidecar["desired"]["ports"], plan.stdout
