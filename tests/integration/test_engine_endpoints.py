"""Every ``daemon-endpoint`` end to end: the booth's docker CLI runs an inner container
that publishes a declared port reachable from the host; a client that reads only
DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH works; a booth replaced alone still
reaches the daemon; ``destroy`` leaves nothing (the certificates live in the containers)."""

from __future__ import annotations

import pytest
from engine_support import (
    BUSYBOX_IMAGE,
    docker_cli,
    eventually,
    free_port,
    http_get,
    in_booth,
    labelled_containers,
    listening_addresses,
    load_image_into_booth,
)

pytestmark = pytest.mark.docker

# Only what the environment says: no config file, no other variable.
ENV_ONLY_CLIENT = (
    'env -i PATH="$PATH" HOME=/nonexistent DOCKER_HOST="$DOCKER_HOST" '
    'DOCKER_TLS_VERIFY="${DOCKER_TLS_VERIFY:-}" DOCKER_CERT_PATH="${DOCKER_CERT_PATH:-}" '
    "docker version --format '{{.Server.Version}}'"
)
PORTS = {"tls": 2376, "tcp": 2375}


@pytest.mark.parametrize("mode", ["tls", "unix", "tcp"])
def test_endpoint_serves_the_booth_and_inner_ports(make_booth, docker_client, mode):
    web = free_port()
    b = make_booth(daemon_endpoint=mode, run_args=["-p", f"{web}:8080"])
    b.ok("apply")

    env = dict(e.partition("=")[::2] for e in b.container("booth")["Config"]["Env"])
    expected_host = {
        "tls": "tcp://localhost:2376",
        "unix": "unix:///booth-docker/docker.sock",
        "tcp": "tcp://localhost:2375",
    }[mode]
    assert env["DOCKER_HOST"] == expected_host
    assert in_booth(b.booth, "sh", "-c", ENV_ONLY_CLIENT).stdout.strip()
    for port in (2375, 2376):
        expected = {"0100007F"} if PORTS.get(mode) == port else set()
        assert listening_addresses(b.sidecar, port) == expected, port

    load_image_into_booth(b.booth)
    serve = (
        "mkdir -p /www && echo booth-endpoint-ok > /www/index.html && exec httpd -f -p 8080 -h /www"
    )
    in_booth(
        b.booth,
        "docker",
        "run",
        "-d",
        "--init",
        "-p",
        "8080:8080",
        BUSYBOX_IMAGE,
        "sh",
        "-c",
        serve,
    )
    assert "booth-endpoint-ok" in eventually(lambda: http_get(web), what=f"{mode} inner server")

    # The booth alone is replaced: the new one gets its client files from the sidecar.
    sidecar_id = b.container_id("sidecar")
    b.ok("apply", "--run-arg=-e", "--run-arg=REPLACED=1")
    assert b.container_id("sidecar") == sidecar_id
    assert in_booth(b.booth, "sh", "-c", ENV_ONLY_CLIENT).stdout.strip()

    b.ok("destroy", "--volumes")
    assert labelled_containers(docker_client, b.instance) == {}


def test_tls_refuses_a_client_without_the_instance_certificate(make_booth):
    b = make_booth(daemon_endpoint="tls")
    b.ok("apply")
    # TLS without a client certificate: the daemon ends the handshake.
    anonymous = in_booth(
        b.booth,
        "sh",
        "-c",
        "env -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH docker --tls version",
        check=False,
    )
    assert anonymous.rc != 0
    plain = docker_cli(
        "exec", b.sidecar, "wget", "-q", "-O-", "http://127.0.0.1:2376/_ping", check=False
    )
    assert plain.rc != 0
    logs = docker_cli("logs", b.sidecar).stderr + docker_cli("logs", b.sidecar).stdout
    assert "without --tlsverify" not in logs  # no penalty, no warning
    # Another instance's certificate is not accepted either: each sidecar has its own CA.
    other = make_booth(daemon_endpoint="tls")
    other.ok("apply")
    ca = docker_cli("exec", b.sidecar, "cat", "/etc/booth/tls/server/ca.pem").stdout
    assert ca != docker_cli("exec", other.sidecar, "cat", "/etc/booth/tls/server/ca.pem").stdout
