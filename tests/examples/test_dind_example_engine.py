"""The dind-example walk-through of examples/dind-example/README.md, on a real engine.

apply (a copy of the example's config with the local test images and free host ports) →
start-server.sh in the booth (base image loaded from the host, no registry) → the page is
up from the host → reachability from the booth and from an inner container → stop-server.sh
→ down → destroy --volumes. Everything labelled with the instance is removed afterwards,
even when the test fails half-way.

Needs the Docker engine, the docker CLI and the images built by .ci/build-test-images.sh;
without them the test skips, or fails when BOOTH_REQUIRE_DOCKER=1.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from cli_support import free_port
from engine_support import engine_unavailable, load_image_into_booth, ready_engine, toml_value
from examples_support import (
    CI_EXAMPLE,
    DIND_EXAMPLE,
    KIND_EXAMPLE,
    CliResult,
    run,
)

pytestmark = pytest.mark.docker

DIND_IMAGE = os.environ.get("BOOTH_TEST_DIND_IMAGE", "booth-test/dind:latest")
BOOTH_IMAGE = os.environ.get("BOOTH_TEST_BOOTH_IMAGE", "booth-test/booth:latest")
BUSYBOX_IMAGE = os.environ.get("BOOTH_TEST_BUSYBOX_IMAGE", "booth-test/busybox:latest")
LABEL_INSTANCE = "io.codingbooth.instance"
LABEL_ROLE = "io.codingbooth.role"
CODE = "/home/coder/code"  # where the booth sees the example directory
PAGE_TEXT = "Hello from inside the booth"
TIMEOUT = 180.0


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    """A docker SDK client, once the engine, the docker CLI and the test images are there."""
    if shutil.which("docker") is None:
        engine_unavailable("the docker CLI is not installed (the example's scripts use it)")
    client = ready_engine()
    yield client
    client.close()


class Walk(NamedTuple):
    config: Path
    instance: str
    booth: str
    booth_port: int
    ports: dict[int, int]  # container port -> free host port

    def booth_cli(self, *args: str) -> CliResult:
        return run(
            [
                sys.executable,
                "-m",
                "reconciler",
                "-C",
                str(DIND_EXAMPLE),
                "--config",
                str(self.config),
                *args,
            ],
            timeout=TIMEOUT,
        )


def _purge(client: Any, instance: str) -> list[str]:
    """Remove every object labelled with the instance; return what could not be removed."""
    import docker.errors

    label = {"label": f"{LABEL_INSTANCE}={instance}"}
    failures = []
    found = client.api.containers(all=True, filters=label)
    found.sort(key=lambda c: (c.get("Labels") or {}).get(LABEL_ROLE) != "booth")
    for container in found:
        try:
            client.api.remove_container(container["Id"], force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as err:
            failures.append(f"container {container['Id'][:12]}: {err}")
    for network in client.api.networks(filters=label):
        try:
            client.api.remove_network(network["Id"])
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as err:
            failures.append(f"network {network['Name']}: {err}")
    for volume in (client.api.volumes(filters=label) or {}).get("Volumes") or []:
        try:
            client.api.remove_volume(volume["Name"], force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as err:
            failures.append(f"volume {volume['Name']}: {err}")
    return failures


@pytest.fixture
def walk(engine: Any, tmp_path: Path) -> Iterator[Walk]:
    """A copy of the example's config: local images, free host ports, same container ports."""
    original = tomllib.loads((DIND_EXAMPLE / ".booth" / "config.toml").read_text())
    assert original["run-args"] == ["-p", "8080:8080", "-p", "3000:3000"], (
        "the example's ports changed: update this test and the README"
    )
    booth_port = free_port()
    ports = {8080: free_port(), 3000: free_port()}
    assert len({booth_port, *ports.values()}) == 3
    config = dict(original)
    config.update(
        {
            "port": booth_port,
            "run-args": [w for c, h in ports.items() for w in ("-p", f"{h}:{c}")],
            "dind-image": DIND_IMAGE,
            "image": BOOTH_IMAGE,
            "cmds": ["sleep", "infinity"],
        }
    )
    path = tmp_path / "config.toml"
    path.write_text("".join(f"{k} = {toml_value(v)}\n" for k, v in config.items()))
    instance = "dind-example"
    try:
        yield Walk(path, instance, instance, booth_port, ports)
    finally:
        failures = _purge(engine, instance)
        assert not failures, "cleanup left objects behind: " + "; ".join(failures)


def in_booth(
    walk: Walk, *command: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> CliResult:
    flags = [w for k, v in (env or {}).items() for w in ("-e", f"{k}={v}")]
    if stdin is not None:
        flags.append("-i")
    return run(["docker", "exec", *flags, walk.booth, *command], stdin=stdin, timeout=TIMEOUT)


def check_server(*args: str) -> CliResult:
    return run(["sh", str(DIND_EXAMPLE / "check-server.sh"), *args])


def test_dind_example_walk_through(walk: Walk, engine: Any) -> None:
    web, dev = walk.ports[8080], walk.ports[3000]

    # 1. plan (against the engine: nothing there yet) and apply.
    plan = walk.booth_cli("plan", "--json")
    assert plan.rc == 0, plan.explain()
    sidecar = next(c for c in json.loads(plan.stdout)["changes"] if c["resource"] == "sidecar")
    assert sorted(sidecar["desired"]["ports"]) == sorted(
        [
            f"127.0.0.1:{walk.booth_port}:10000/tcp",
            f"127.0.0.1:{web}:8080/tcp",
            f"127.0.0.1:{dev}:3000/tcp",
        ]
    )
    applied = walk.booth_cli("apply")
    assert applied.rc == 0, applied.explain()

    drift = run(
        [
            "sh",
            str(CI_EXAMPLE / "drift-check.sh"),
            "-C",
            str(DIND_EXAMPLE),
            "--config",
            str(walk.config),
        ],
        env={"BOOTH": _booth_wrapper(walk.config.parent)},
        timeout=TIMEOUT,
    )
    assert drift.rc == 0 and drift.stdout == "", drift.explain()

    # The example directory is the booth's code directory: the scripts are there.
    listing = in_booth(walk, "ls", CODE)
    assert listing.rc == 0, listing.explain()
    assert {"start-server.sh", "stop-server.sh", "check-server.sh", "www"} <= set(
        listing.stdout.split()
    )

    # 2. start the server inside the booth. Without a registry busybox:latest cannot be
    #    pulled, and the script says how to load an image instead.
    no_base = in_booth(
        walk,
        "sh",
        f"{CODE}/start-server.sh",
        env={"SERVER_BASE_IMAGE": "booth-test/no-such-image:never"},
    )
    assert no_base.rc == 1, no_base.explain()
    assert (
        "docker save booth-test/busybox:latest | docker exec -i <booth> docker load"
        in no_base.stderr
    )
    load_image_into_booth(walk.booth, BUSYBOX_IMAGE)
    started = in_booth(
        walk, "sh", f"{CODE}/start-server.sh", env={"SERVER_BASE_IMAGE": BUSYBOX_IMAGE}
    )
    assert started.rc == 0, started.explain()
    assert "answers on http://127.0.0.1:8080/" in started.stdout

    # The host's daemon does not see the inner container.
    assert not engine.api.containers(all=True, filters={"name": "dind-example-server"})

    # 3. up from the host, on the sidecar's published port.
    host_up = check_server(
        "--expect=up", "--url", f"http://127.0.0.1:{web}/", "--contains", PAGE_TEXT, "--wait", "15"
    )
    assert host_up.rc == 0, host_up.explain()
    assert f"http://127.0.0.1:{web}/ is up" in host_up.stdout

    # 4. reachability (a part of the README's table).
    booth_up = in_booth(
        walk, "sh", f"{CODE}/check-server.sh", "--expect=up", "--contains", PAGE_TEXT
    )
    assert booth_up.rc == 0, booth_up.explain()
    # The inner daemon through the booth's DOCKER_HOST (mutual TLS on localhost:2376).
    daemon = in_booth(walk, "docker", "version", "--format", "{{.Server.Version}}")
    assert daemon.rc == 0, daemon.explain()
    undeclared = free_port()
    second = in_booth(
        walk,
        "docker",
        "run",
        "-d",
        "--name",
        "dind-example-undeclared",
        "-p",
        f"{undeclared}:8080",
        "dind-example-server:latest",
    )
    assert second.rc == 0, second.explain()
    booth_sees = in_booth(
        walk,
        "sh",
        f"{CODE}/check-server.sh",
        "--expect=up",
        "--wait",
        "15",
        "--url",
        f"http://localhost:{undeclared}/",
    )
    assert booth_sees.rc == 0, booth_sees.explain()
    host_does_not = check_server("--expect=down", "--url", f"http://127.0.0.1:{undeclared}/")
    assert host_does_not.rc == 0, host_does_not.explain()
    script = (DIND_EXAMPLE / "check-server.sh").read_text()
    gateway = in_booth(
        walk,
        "docker",
        "run",
        "--rm",
        BUSYBOX_IMAGE,
        "sh",
        "-c",
        "ip route | awk '/^default/ {print $3}'",
    )
    assert gateway.rc == 0 and gateway.stdout.strip(), gateway.explain()
    gw = gateway.stdout.strip()
    for url, expect in ((f"http://{gw}:8080/", "up"), (f"http://{gw}:2376/_ping", "down")):
        inner = in_booth(
            walk,
            "docker",
            "run",
            "-i",
            "--rm",
            BUSYBOX_IMAGE,
            "sh",
            "-s",
            "--",
            f"--expect={expect}",
            "--url",
            url,
            stdin=script,
        )
        assert inner.rc == 0, inner.explain()
    assert in_booth(walk, "docker", "rm", "-f", "dind-example-undeclared").rc == 0

    # The kind example's script stops at once in a booth without kind.
    kind = in_booth(walk, "sh", "-s", stdin=(KIND_EXAMPLE / "start-cluster.sh").read_text())
    assert kind.rc == 1 and "not installed in this booth: kind" in kind.stderr, kind.explain()

    # 5. stop: down from the host and from the booth; stopping twice is fine.
    stopped = in_booth(walk, "sh", f"{CODE}/stop-server.sh")
    assert stopped.rc == 0 and "removed dind-example-server" in stopped.stdout, stopped.explain()
    again = in_booth(walk, "sh", f"{CODE}/stop-server.sh")
    assert again.rc == 0 and "nothing to do" in again.stdout, again.explain()
    host_down = check_server("--expect=down", "--url", f"http://127.0.0.1:{web}/", "--wait", "15")
    assert host_down.rc == 0, host_down.explain()
    booth_down = in_booth(walk, "sh", f"{CODE}/check-server.sh", "--expect=down")
    assert booth_down.rc == 0, booth_down.explain()

    # 6. destroy, volumes included: nothing of the instance is left.
    destroyed = walk.booth_cli("destroy", "--volumes")
    assert destroyed.rc == 0, destroyed.explain()
    label = {"label": f"{LABEL_INSTANCE}={walk.instance}"}
    assert engine.api.containers(all=True, filters=label) == []
    assert engine.api.networks(filters=label) == []
    assert not (engine.api.volumes(filters=label) or {}).get("Volumes")


def _booth_wrapper(directory: Path) -> str:
    path = directory / "booth"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m reconciler "$@"\n')
    path.chmod(0o755)
    return str(path)
