"""``--format docker`` against the real engine: the script creates what booth creates.

The script ``booth plan --format docker`` prints is run with ``sh``; ``booth plan``
afterwards must have nothing to do, the booth must reach its inner daemon over the
``tls`` endpoint (certificates made by the script), and the containers must carry the
same settings as those ``booth apply`` creates for the same config. The ``destroy``
script removes everything; a stopped sidecar's script starts and waits as booth does.
CodingBooth's ``--dryrun`` prints such a script and creates nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from engine_support import (
    BOOTH_IMAGE,
    BoothDir,
    docker_cli,
    free_port,
    in_booth,
    labelled_containers,
    labelled_networks,
    labelled_volumes,
    remove_image,
)

pytestmark = pytest.mark.docker

TOKEN = f"token-{uuid.uuid4().hex}"
FILE_VALUE = f"file-{uuid.uuid4().hex}"
# The booth's docker CLI with nothing but what the environment says (DOCKER_HOST,
# DOCKER_TLS_VERIFY, DOCKER_CERT_PATH): it answers only with the instance's certificate.
ENV_ONLY_CLIENT = (
    'env -i PATH="$PATH" HOME=/nonexistent DOCKER_HOST="$DOCKER_HOST" '
    'DOCKER_TLS_VERIFY="${DOCKER_TLS_VERIFY:-}" DOCKER_CERT_PATH="${DOCKER_CERT_PATH:-}" '
    "docker version --format '{{.Server.Version}}'"
)
# Settings compared between the script's containers and booth's own.
CONFIG_KEYS = ("Image", "Cmd", "Entrypoint", "WorkingDir", "User", "Tty", "OpenStdin")
CONFIG_KEYS += ("Hostname", "Labels", "ExposedPorts", "Volumes")
HOST_KEYS = ("Binds", "Mounts", "Tmpfs", "CapAdd", "CapDrop", "Devices", "SecurityOpt")
HOST_KEYS += ("ShmSize", "Memory", "NanoCpus", "Init", "Privileged", "PortBindings", "Dns")
HOST_KEYS += ("DnsSearch", "DnsOptions", "ExtraHosts", "VolumesFrom")


def run_script(b: BoothDir, script: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", script],
        stdin=subprocess.DEVNULL,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=b.path,
    )


def settings(b: BoothDir, role: str) -> dict[str, Any]:
    """What a container was created with; ``null`` and empty are one (the docker CLI
    sends empty lists where the SDK sends nothing), env order does not matter."""
    found = b.container(role)
    assert found is not None, role
    config, host = found["Config"], found["HostConfig"]
    picked = {f"Config.{k}": config.get(k) for k in CONFIG_KEYS}
    picked |= {f"HostConfig.{k}": host.get(k) for k in HOST_KEYS}
    picked["Config.Env"] = sorted(config.get("Env") or [])
    for key in ("HostConfig.CapAdd", "HostConfig.CapDrop"):
        # The docker CLI writes MKNOD as CAP_MKNOD, the engine takes both as one.
        picked[key] = [c.removeprefix("CAP_") for c in picked[key] or []]
    picked["NetworkMode"] = str(host["NetworkMode"]).startswith("container:") or host["NetworkMode"]
    return {key: value or None for key, value in picked.items()}


def test_the_plan_script_creates_what_booth_creates(make_booth, tmp_path: Path) -> None:
    web = free_port()
    b = make_booth(
        keep_dind_data=True,
        run_args=[
            *("-p", f"{web}:8080", "-e", f"TOKEN={TOKEN}", "--env-file", "vars.env"),
            *("--memory", "256m", "--cpus", "0.5", "--shm-size", "32m", "-t", "-i"),
            *("--tmpfs", "/scratch:size=1m", "--mount", "type=tmpfs,target=/t,tmpfs-size=1m"),
            *("-v", "/anonymous", "--label", "team=a b", "--cap-drop", "MKNOD"),
            *("--security-opt", "no-new-privileges", "--device", "/dev/null:/dev/nothing:r"),
            *("-w", "/tmp", "--hostname", "box", "--dns", "127.0.0.1"),
            *("--add-host", "db:127.0.0.2"),
        ],
    )
    (b.path / "vars.env").write_text(f"FROM_FILE={FILE_VALUE}\n", encoding="utf-8")

    script = b.ok("plan", "--format", "docker").stdout
    assert TOKEN not in script and FILE_VALUE not in script
    assert b.ok("apply", "--dry-run", "--format", "docker").stdout == script
    # Without the values exported, the script stops before it creates anything.
    refused = run_script(b, script)
    assert refused.returncode == 1, refused.stderr
    assert "booth: export FROM_FILE first" in refused.stderr
    assert labelled_containers(b.client, b.instance) == {}

    done = run_script(b, script, TOKEN=TOKEN, FROM_FILE=FILE_VALUE)
    assert done.returncode == 0, done.stderr
    plan = b.cli("plan", "--detailed-exitcode")
    assert plan.rc == 0, plan.explain()
    assert "No changes." in plan.stdout
    assert in_booth(b.booth, "sh", "-c", ENV_ONLY_CLIENT).stdout.strip()  # tls files work
    env = b.container("booth")["Config"]["Env"]  # type: ignore[index]
    assert f"TOKEN={TOKEN}" in env and f"FROM_FILE={FILE_VALUE}" in env
    by_script = {role: settings(b, role) for role in ("sidecar", "booth")}

    # A stopped sidecar: the script starts it (its tls files are there), waits, restarts.
    docker_cli("stop", b.sidecar)
    again = b.ok("plan", "--format", "docker").stdout
    assert "until docker exec" in again and "docker restart" in again
    done = run_script(b, again, TOKEN=TOKEN, FROM_FILE=FILE_VALUE)
    assert done.returncode == 0, done.stderr
    assert b.cli("plan", "--detailed-exitcode").rc == 0
    assert in_booth(b.booth, "sh", "-c", ENV_ONLY_CLIENT).stdout.strip()

    # booth's own containers for the same config have the same settings.
    b.ok("destroy")
    b.ok("apply")
    assert {role: settings(b, role) for role in ("sidecar", "booth")} == by_script

    # The destroy script removes everything booth would.
    goodbye = b.ok("destroy", "--dry-run", "--volumes", "--format", "docker").stdout
    assert run_script(b, goodbye).returncode == 0
    assert labelled_containers(b.client, b.instance) == {}
    assert labelled_networks(b.client, b.instance) == []
    assert labelled_volumes(b.client, b.instance) == []


CODINGBOOTH_DIND = """\
variant  = "base"
dind     = true
run-args = [
    "-p", "8080:8080",
    "-p", "3000:3000"
]
"""


def test_codingbooth_dryrun_prints_the_script_and_creates_nothing(
    tmp_path: Path, docker_client
) -> None:
    """CodingBooth's tests/dryrun/dind facts: on the line with the DinD image every port
    exactly once, one physical line; the booth joins the sidecar and publishes none."""
    project = f"dryrun-{uuid.uuid4().hex[:8]}"
    code = tmp_path / project
    code.mkdir()
    (code / "test--config.toml").write_text(CODINGBOOTH_DIND, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "--config", "test--config.toml", "--dryrun"],
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    sidecar = [line for line in lines if "docker:dind" in line]
    assert len(sidecar) == 1 and sidecar[0].startswith("docker create --name ")
    for port in (8080, 3000):
        assert sidecar[0].count(f"-p 127.0.0.1:{port}:{port}") == 1
    # port = NEXT: the first free host port from 10000 on, for the booth's 10000
    assert len(re.findall(r" -p 127\.0\.0\.1:\d+:10000 ", sidecar[0])) == 1
    assert sidecar[0].count(" -p ") == 3
    booth = [line for line in lines if "--network container:" in line]
    assert len(booth) == 1 and " -p " not in booth[0]
    assert docker_client.api.containers(all=True, filters={"name": project}) == []
    assert docker_client.api.networks(filters={"name": project}) == []


def test_the_build_script_builds_what_booth_builds(make_booth, cleanup) -> None:
    """A booth image booth builds: `docker build` with booth's labels and build args (the
    user's from the environment) converges as booth's own build does."""
    b = make_booth(dind=False, build_args=["--build-arg", f"NPM_TOKEN={TOKEN}"])
    b.write_config(image=None, project_name=b.name)
    (b.path / ".booth").mkdir(exist_ok=True)
    (b.path / ".booth" / "Dockerfile").write_text(
        f'FROM {BOOTH_IMAGE}\nARG NPM_TOKEN\nRUN test -n "$NPM_TOKEN"\n', encoding="utf-8"
    )
    tag = next(c["name"] for c in b.plan_json()["changes"] if c["resource"] == "image")

    def remove_built_image() -> list[str]:
        remove_image(b.client, tag)
        return []

    cleanup.finally_.append(remove_built_image)
    script = b.ok("plan", "--format", "docker").stdout
    assert TOKEN not in script
    assert f"--tag {tag} " in script
    done = run_script(b, script, NPM_TOKEN=TOKEN)
    assert done.returncode == 0, done.stderr
    plan = b.cli("plan", "--detailed-exitcode")
    assert plan.rc == 0, plan.explain()


def test_the_dryrun_session_script_runs_the_session(make_booth) -> None:
    """`booth --dryrun` (a session): the script runs the booth in the foreground, exits
    with its code and removes what the session removes; the data volume stays."""
    # A script in the code dir: the same command whether cmds run as argv or joined
    # into a login shell's command line.
    b = make_booth(keep_dind_data=True, cmds=["sh", "/home/coder/code/session.sh"])
    session = "echo hello-from-the-booth\ndocker version >/dev/null && exit 3\n"
    (b.path / "session.sh").write_text(session, encoding="utf-8")
    # stdin is no terminal (as under CI): the session follows the booth's output
    dryrun = subprocess.run(
        [sys.executable, "-m", "reconciler", "-C", str(b.path), "--dryrun"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dryrun.returncode == 0, dryrun.stderr
    script = dryrun.stdout
    assert labelled_containers(b.client, b.instance) == {}  # a dry run changes nothing
    done = run_script(b, script)
    assert done.returncode == 3, done.stderr  # the booth's code: it reached its daemon
    assert "hello-from-the-booth" in done.stdout
    assert labelled_containers(b.client, b.instance) == {}
    assert labelled_networks(b.client, b.instance) == []
    assert [v["Name"] for v in labelled_volumes(b.client, b.instance)] == [b.volume]
