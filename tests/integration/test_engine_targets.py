"""The everyday commands against each engine booth supports: local Docker, Podman, Docker
over SSH, Docker over TLS (engine_targets.py selects them; by default only the local one).

A representative subset (apply, a converged plan, status, exec, destroy, the preflight
and the error for a code directory missing on the engine's host); the whole suite runs
against the local engine.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from engine_support import labelled_containers, labelled_networks, labelled_volumes
from engine_targets import EngineTarget

pytestmark = [pytest.mark.docker, pytest.mark.engines]


def test_apply_plan_status_exec_destroy(
    make_booth: Callable[..., Any], docker_client: docker.DockerClient, engine: EngineTarget
) -> None:
    b = make_booth()
    b.ok("apply")
    containers = labelled_containers(docker_client, b.instance)
    assert {c["State"] for c in containers.values()} == {"running"}, containers
    assert set(containers) == {b.booth, b.sidecar}

    converged = b.cli("plan", "--detailed-exitcode")
    assert converged.rc == 0, converged.explain()
    header, _, rest = converged.stdout.partition("\n\n")
    assert header.startswith("Engine: "), converged.stdout
    assert rest == "No changes. The booth matches the configuration.\n"

    status = json.loads(b.ok("status", "--json").stdout)
    assert status["engine"]["local"] is (engine.name in ("local", "podman"))
    assert status["engine"]["kind"] == ("podman" if engine.name == "podman" else "docker")
    assert {r["state"] for r in status["resources"] if r["role"] != "network"} >= {"running"}
    text = b.ok("status").stdout
    if engine.name == "ssh":
        assert f"-L {b.port}:127.0.0.1:{b.port}" in text, text

    inner = b.cli("exec", "--", "docker", "version", "--format", "{{.Server.Os}}")
    assert (inner.rc, inner.stdout.strip()) == (0, "linux"), inner.explain()
    # stdin ends (a half-close, over TLS too) and the output still arrives after it.
    piped = b.cli("exec", "-i", "--", "sh", "-c", "cat; echo done >&2", stdin="piped\n")
    assert (piped.rc, piped.stdout, piped.stderr) == (0, "piped\n", "done\n"), piped.explain()

    b.ok("destroy", "--volumes")
    assert labelled_containers(docker_client, b.instance) == {}
    assert labelled_networks(docker_client, b.instance) == []
    assert labelled_volumes(docker_client, b.instance) == []


def test_a_taken_host_port_fails_before_anything_is_created(
    make_booth: Callable[..., Any], docker_client: docker.DockerClient
) -> None:
    """On a local engine the port is probed here; on a remote one the engine is asked."""
    holder = make_booth()
    holder.ok("apply")
    second = make_booth(port=holder.port, name=f"{holder.name}x")
    failed = second.cli("apply")
    assert failed.rc == 1, failed.explain()
    assert str(holder.port) in failed.stderr and "nothing was created" in failed.stderr
    assert labelled_containers(docker_client, second.instance) == {}
    assert labelled_networks(docker_client, second.instance) == []


@pytest.mark.engines_without_code_dir
def test_a_code_dir_missing_on_the_engines_host_is_named(
    make_booth: Callable[..., Any], docker_client: docker.DockerClient, engine: EngineTarget
) -> None:
    b = make_booth(on_engine_host=False)
    for command in (["apply"], ["run", "--", "true"]):
        failed = b.cli(*command)
        assert failed.rc == 1, failed.explain()
        assert f"{b.path} does not exist on the engine's host" in failed.stderr, failed.stderr
        assert "nothing was created" in failed.stderr
        assert labelled_containers(docker_client, b.instance) == {}


def test_a_docker_context_reaches_the_same_engine(
    make_booth: Callable[..., Any], tmp_path: Path, engine: EngineTarget
) -> None:
    """A context made by the docker CLI itself, chosen with --context, DOCKER_CONTEXT or
    `docker context use`: booth reads the CLI's store (host and TLS files)."""
    b = make_booth()
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    spec = f"host={host}"
    if os.environ.get("DOCKER_TLS_VERIFY"):
        certs = Path(os.environ["DOCKER_CERT_PATH"])
        spec += "".join(f",{k}={certs / f'{k}.pem'}" for k in ("ca", "cert", "key"))
    config = tmp_path / "docker-config"
    env = {
        "DOCKER_CONFIG": str(config),
        "DOCKER_HOST": "",
        "DOCKER_TLS_VERIFY": "",
        "DOCKER_CERT_PATH": "",
    }
    made = subprocess.run(
        ["docker", "context", "create", "booth-test", "--docker", spec],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    for args, extra in (
        (("--context", "booth-test"), {}),
        ((), {"DOCKER_CONTEXT": "booth-test"}),
    ):
        result = b.cli(*args, "status", "--json", env={**env, **extra})
        assert result.rc == 0, result.explain()
        reached = json.loads(result.stdout)["engine"]
        assert (reached["endpoint"], reached["source"]) == (host, "context booth-test")
