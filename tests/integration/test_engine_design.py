"""The observable effects of CodingBooth's DinD design, on a real engine.

The host sees exactly two containers (sidecar and booth); the booth's Docker is the
sidecar's inner daemon; inner containers share the sidecar's network namespace, so the
booth reaches all of them on localhost while the host reaches only declared ports.
"""

from __future__ import annotations

import socket

import pytest
from cli_support import free_port
from engine_support import (
    BUSYBOX_IMAGE,
    eventually,
    http_get,
    in_booth,
    inspect_container,
    labelled_containers,
    load_image_into_booth,
)

pytestmark = pytest.mark.docker


def _serve(booth: str, port: int, text: str) -> str:
    """Start an inner httpd (published on the inner daemon) serving ``text``; return its ID.

    ``--init`` so the inner container stops at once when its daemon shuts down.
    """
    script = f"mkdir -p /www && echo {text} > /www/index.html && exec httpd -f -p {port} -h /www"
    result = in_booth(
        booth,
        "docker",
        "run",
        "-d",
        "--init",
        "-p",
        f"{port}:{port}",
        BUSYBOX_IMAGE,
        "sh",
        "-c",
        script,
    )
    return result.stdout.strip()


def test_host_sees_sidecar_and_booth_and_only_declared_ports(make_booth, docker_client):
    declared = free_port()
    undeclared = free_port()  # free on the host: nothing there may answer
    b = make_booth(run_args=["-p", f"{declared}:8080"])

    b.ok("apply")

    assert set(labelled_containers(docker_client, b.instance)) == {
        f"{b.name}-{b.port}-dind",
        b.name,
    }
    assert in_booth(b.booth, "docker", "ps", "-q").stdout.strip() == ""

    load_image_into_booth(b.booth)
    inner = [_serve(b.booth, 8080, "declared-ok"), _serve(b.booth, undeclared, "undeclared-ok")]

    for port, text in ((8080, "declared-ok"), (undeclared, "undeclared-ok")):
        body = eventually(
            lambda port=port: in_booth(b.booth, "wget", "-qO-", f"http://localhost:{port}/").stdout,
            what=f"inner port {port} answering inside the booth",
        )
        assert body.strip() == text

    body = eventually(
        lambda: http_get(declared), what=f"127.0.0.1:{declared} answering on the host"
    )
    assert body.strip() == "declared-ok"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", undeclared), timeout=3).close()

    for container_id in inner:
        assert inspect_container(docker_client, container_id) is None, "inner container on host"
    assert set(labelled_containers(docker_client, b.instance)) == {b.sidecar, b.booth}
