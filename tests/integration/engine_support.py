"""Helpers for the integration tests: a booth code dir, the CLI as a subprocess, probes.

Everything here talks to the real engine (docker SDK or docker CLI) and sends network
traffic to 127.0.0.1 only. The label names are spelled out as in design.md §4 rather
than imported, so the tests pin the contract instead of echoing the implementation.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import docker
import docker.errors
import pytest
import requests.exceptions
from cli_support import CliResult, free_port  # noqa: F401 - the suites import free_port from here

LABEL_MANAGED = "io.codingbooth.managed"
LABEL_INSTANCE = "io.codingbooth.instance"
LABEL_ROLE = "io.codingbooth.role"

DIND_IMAGE = os.environ.get("BOOTH_TEST_DIND_IMAGE", "booth-test/dind:latest")
BOOTH_IMAGE = os.environ.get("BOOTH_TEST_BOOTH_IMAGE", "booth-test/booth:latest")
BUSYBOX_IMAGE = os.environ.get("BOOTH_TEST_BUSYBOX_IMAGE", "booth-test/busybox:latest")
IMAGES = (DIND_IMAGE, BOOTH_IMAGE, BUSYBOX_IMAGE)

CLI_TIMEOUT = 120.0
DOCKER_CLI_TIMEOUT = 60.0

T = TypeVar("T")


# -- ports --------------------------------------------------------------------------------


def http_get(port: int, path: str = "/", timeout: float = 3.0) -> str:
    """GET http://127.0.0.1:port/path (http.client ignores proxy settings, as it must)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read().decode(errors="replace")
        if response.status != 200:
            raise OSError(f"HTTP {response.status}: {body[:200]}")
        return body
    finally:
        conn.close()


def eventually(
    probe: Callable[[], T], *, timeout: float = 15.0, interval: float = 0.2, what: str = "condition"
) -> T:
    """Call ``probe`` until it returns without raising; re-raise its last error on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return probe()
        except Exception as err:  # the probe decides what failure means
            if time.monotonic() >= deadline:
                raise AssertionError(f"{what} not reached within {timeout:g}s: {err}") from err
            time.sleep(interval)


# -- docker CLI ---------------------------------------------------------------------------


def docker_cli(*args: str, check: bool = True, timeout: float = DOCKER_CLI_TIMEOUT) -> CliResult:
    """Run the docker client; with ``check`` a non-zero exit fails the test with its output."""
    proc = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    result = CliResult(proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {result.explain()}")
    return result


def in_booth(booth: str, *command: str, check: bool = True) -> CliResult:
    """``docker exec <booth> command…`` (the booth's DOCKER_HOST points at the inner daemon)."""
    return docker_cli("exec", booth, *command, check=check)


def engine_unavailable(why: str) -> None:
    """Fail under ``BOOTH_REQUIRE_DOCKER=1`` (CI must never skip), skip otherwise."""
    if os.environ.get("BOOTH_REQUIRE_DOCKER") == "1":
        pytest.fail(f"BOOTH_REQUIRE_DOCKER=1 but {why}", pytrace=False)
    pytest.skip(why)


def ready_engine() -> docker.DockerClient:
    """A client for the host engine, once it answers and the test images exist.

    Otherwise :func:`engine_unavailable` decides: fail under ``BOOTH_REQUIRE_DOCKER=1``,
    skip elsewhere.
    """
    try:
        client = _client_from_env()
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as err:
        where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
        engine_unavailable(f"the Docker engine at {where} is unreachable: {err}")
    missing = []
    for image in IMAGES:
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            missing.append(image)
    if missing:
        engine_unavailable(
            f"test images missing: {', '.join(missing)} (build them with .ci/build-test-images.sh)"
        )
    return client


def _client_from_env() -> docker.DockerClient:
    """``docker.from_env`` as booth connects: the system ssh for ssh://, and the engine's
    CA file not replaced by REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE (psf/requests#3829)."""
    saved = {
        k: os.environ.pop(k) for k in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE") if k in os.environ
    }
    try:
        client = docker.from_env(timeout=30, use_ssh_client=True)
    finally:
        os.environ.update(saved)
    client.api.trust_env = False
    return client


def load_image_into_booth(booth: str, image: str = BUSYBOX_IMAGE) -> None:
    """``docker save image | docker exec -i booth docker load``: no registry needed."""
    save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
    assert save.stdout is not None
    try:
        load = subprocess.run(
            ["docker", "exec", "-i", booth, "docker", "load"],
            stdin=save.stdout,
            capture_output=True,
            timeout=DOCKER_CLI_TIMEOUT,
            check=False,
        )
    finally:
        save.stdout.close()
        save_rc = save.wait(timeout=DOCKER_CLI_TIMEOUT)
    assert save_rc == 0, f"docker save {image} failed with exit {save_rc}"
    errors = load.stderr.decode(errors="replace")
    assert load.returncode == 0, f"docker load in {booth} failed: {errors}"


# -- the engine as seen from the host --------------------------------------------------------


def inspect_container(client: docker.DockerClient, name_or_id: str) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = client.api.inspect_container(name_or_id)
        return result
    except docker.errors.NotFound:
        return None


def inspect_network(client: docker.DockerClient, name_or_id: str) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = client.api.inspect_network(name_or_id)
        return result
    except docker.errors.NotFound:
        return None


def inspect_volume(client: docker.DockerClient, name: str) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = client.api.inspect_volume(name)
        return result
    except docker.errors.NotFound:
        return None


def labelled_containers(client: docker.DockerClient, instance: str) -> dict[str, dict[str, Any]]:
    """Every container (any state) carrying this instance's label, by name."""
    found = client.api.containers(all=True, filters={"label": f"{LABEL_INSTANCE}={instance}"})
    return {c["Names"][0].lstrip("/"): c for c in found}


def labelled_networks(client: docker.DockerClient, instance: str) -> list[dict[str, Any]]:
    label = f"{LABEL_INSTANCE}={instance}"
    result: list[dict[str, Any]] = client.api.networks(filters={"label": label})
    return result


def labelled_volumes(client: docker.DockerClient, instance: str) -> list[dict[str, Any]]:
    found = client.api.volumes(filters={"label": f"{LABEL_INSTANCE}={instance}"}) or {}
    result: list[dict[str, Any]] = found.get("Volumes") or []
    return result


def engine_snapshot(client: docker.DockerClient) -> dict[str, frozenset[str]]:
    """IDs of all containers and networks and names of all volumes on the host."""
    volumes = (client.api.volumes() or {}).get("Volumes") or []
    return {
        "containers": frozenset(c["Id"] for c in client.api.containers(all=True)),
        "networks": frozenset(n["Id"] for n in client.api.networks()),
        "volumes": frozenset(v["Name"] for v in volumes),
    }


def host_ports(port_bindings: Mapping[str, Iterable[Mapping[str, str]]] | None) -> list[str]:
    """All host ports of a HostConfig.PortBindings, one entry per binding."""
    return [b["HostPort"] for bindings in (port_bindings or {}).values() for b in bindings or ()]


# -- a booth code directory ------------------------------------------------------------------


def toml_value(value: object) -> str:
    """A config value as TOML text (the tests write configs by hand)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


class BoothDir:
    """A code dir with ``.booth/config.toml`` for one uniquely named instance."""

    def __init__(
        self,
        client: docker.DockerClient,
        path: Path,
        name: str,
        port: int,
        settings: dict[str, object],
        on_background: Callable[[Background], None] | None = None,
    ) -> None:
        self.client = client
        self.path = path
        self.name = name
        self.port = port
        # Told about every background run, so the test's cleanup can kill leftovers.
        self.on_background = on_background
        self.settings = {"name": name, "port": port, **settings}
        self.write_config()

    @property
    def instance(self) -> str:
        """The instance's identity: its name (the port is a setting of it)."""
        return self.name

    @property
    def booth(self) -> str:
        return self.name

    @property
    def current_port(self) -> int:
        """The port the config names now (a test may change it with write_config)."""
        return int(str(self.settings.get("port", self.port)))

    @property
    def sidecar(self) -> str:
        return f"{self.name}-{self.current_port}-dind"

    @property
    def network(self) -> str:
        return f"{self.name}-{self.current_port}-net"

    @property
    def volume(self) -> str:
        return f"{self.name}-dind-data"

    def write_config(self, **changes: object) -> None:
        """Rewrite the config; keyword names use ``_`` for ``-`` (``run_args`` → ``run-args``)."""
        for keyword, value in changes.items():
            key = keyword.replace("_", "-")
            if value is None:
                self.settings.pop(key, None)
            else:
                self.settings[key] = value
        config = self.path / ".booth" / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("".join(f"{k} = {toml_value(v)}\n" for k, v in self.settings.items()))

    def _argv(
        self,
        *args: str,
        pause_before: str | None = None,
        remove_before: tuple[str, Path] | None = None,
    ) -> list[str]:
        if pause_before is not None:
            program = [sys.executable, str(PAUSING_BOOTH), pause_before]
        elif remove_before is not None:
            point, directory = remove_before
            program = [sys.executable, str(REMOVING_BOOTH), point, str(directory)]
        else:
            program = [sys.executable, "-m", "reconciler"]
        return [*program, "-C", str(self.path), *args]

    def _env(self, env: Mapping[str, str] | None) -> dict[str, str]:
        """Lock files go under the test's tmp dir (``XDG_RUNTIME_DIR``), so they do not
        pile up in /tmp; every run of one test shares them, as runs of one user do."""
        runtime = self.path.parent / "run"
        return {**os.environ, "XDG_RUNTIME_DIR": str(runtime), **(env or {})}

    def cli(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        timeout: float = CLI_TIMEOUT,
        stdin: str | None = None,
        remove_before: tuple[str, Path] | None = None,
    ) -> CliResult:
        """``python -m reconciler -C <dir> args…`` as a user would run it; ``stdin`` is
        what it reads (nothing by default: never the terminal pytest runs in);
        ``remove_before=("op[:role]", dir)`` removes ``dir`` just before that step (see
        removing_booth.py)."""
        proc = subprocess.run(
            self._argv(*args, remove_before=remove_before),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self._env(env),
            check=False,
            **({"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}),
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    def start(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        pause_before: str | None = None,
    ) -> Background:
        """The CLI as :meth:`cli` runs it, but in the background (to signal or kill it);
        ``pause_before="op[:role]"`` holds it before that step (see pausing_booth.py)."""
        logs = self.path.parent / "background"
        logs.mkdir(exist_ok=True)
        argv = self._argv(*args, pause_before=pause_before)
        run = Background(argv, self._env(env), logs / uuid.uuid4().hex[:8])
        if self.on_background is not None:
            self.on_background(run)
        return run

    def ok(self, *args: str) -> CliResult:
        """Run the CLI and require exit 0."""
        result = self.cli(*args)
        assert result.rc == 0, f"booth {' '.join(args)}: {result.explain()}"
        return result

    def plan_json(self, *args: str) -> dict[str, Any]:
        result = self.ok("plan", "--json", *args)
        document: dict[str, Any] = json.loads(result.stdout)
        return document

    def container(self, role: str) -> dict[str, Any] | None:
        return inspect_container(self.client, {"booth": self.booth, "sidecar": self.sidecar}[role])

    def container_id(self, role: str) -> str:
        found = self.container(role)
        assert found is not None, f"{role} container of {self.instance} is missing"
        return str(found["Id"])


class Background:
    """A CLI process running in the background; its output goes to files the test polls."""

    def __init__(self, argv: list[str], env: Mapping[str, str], stem: Path) -> None:
        self.stdout_path = stem.with_suffix(".out")
        self.stderr_path = stem.with_suffix(".err")
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err, env=dict(env))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 30.0) -> None:
        """Wait until ``text`` appears on stderr; fail if the process ends first."""
        deadline = time.monotonic() + timeout
        while text not in self.stderr():
            if self.proc.poll() is not None:
                raise AssertionError(f"ended before printing {text!r}: {self.result().explain()}")
            if time.monotonic() >= deadline:
                raise AssertionError(f"{text!r} not printed within {timeout:g}s: {self.stderr()}")
            time.sleep(0.02)

    def send(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def kill(self) -> None:
        """``kill -9`` and reap: the process gets no chance to clean anything up."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=DOCKER_CLI_TIMEOUT)

    def result(self, timeout: float = CLI_TIMEOUT) -> CliResult:
        rc = self.proc.wait(timeout=timeout)
        stdout = self.stdout_path.read_text(errors="replace")
        return CliResult(rc, stdout, self.stderr())


# -- images built by the tests themselves ----------------------------------------------------

GATE_FILE = "/tmp/booth-test-gate"

# Found first on PATH as `dockerd` in an image FROM the test DinD image (the entrypoint and
# the real daemon unchanged): `booth apply` stays in wait-ready until the test opens the gate.
GATED_DOCKERD = f"""#!/bin/sh
# booth test image: hold the inner dockerd back until {GATE_FILE} exists (at most 120 s).
trap 'exit 143' TERM INT
i=0
while [ ! -e {GATE_FILE} ] && [ "$i" -lt 1200 ]; do
    sleep 0.1
    i=$((i + 1))
done
exec /usr/sbin/dockerd "$@"
"""

FAILING_DOCKERD = """#!/bin/sh
# booth test image: a "dockerd" that says why it cannot start, then exits.
echo "fake-dockerd: cannot start" >&2
sleep 0.5
exit 1
"""


def build_image(
    client: docker.DockerClient, tag: str, dockerfile: str, files: Mapping[str, str]
) -> str:
    """Build ``tag`` from a Dockerfile and executable text files (no registry, no pull)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as context:
        for name, text in {"Dockerfile": dockerfile, **files}.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o755
            context.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    client.images.build(
        fileobj=buffer, custom_context=True, tag=tag, rm=True, forcerm=True, pull=False
    )
    return tag


def remove_image(client: docker.DockerClient, tag: str) -> None:
    with contextlib.suppress(docker.errors.ImageNotFound):
        client.images.remove(tag)


# -- sockets inside a container ----------------------------------------------------------------


def listening_addresses(container: str, port: int) -> set[str]:
    """Hex local addresses (as in /proc/net/tcp*) with a LISTEN socket on ``port`` inside
    the container's network namespace: ``0100007F`` is 127.0.0.1, ``00000000`` any IPv4,
    32 zeros any IPv6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        text = docker_cli("exec", container, "cat", table).stdout
        for line in text.splitlines()[1:]:
            fields = line.split()
            address, _, hex_port = fields[1].partition(":")
            if int(hex_port, 16) == port and fields[3] == "0A":
                found.add(address)
    return found


# -- crash safety ---------------------------------------------------------------------------

# booth with the executor's before-step hook installed: pauses, prints the marker.
PAUSING_BOOTH = Path(__file__).with_name("pausing_booth.py")
# booth with a directory removed just before one step: the engine then refuses that step.
REMOVING_BOOTH = Path(__file__).with_name("removing_booth.py")
PAUSE_MARKER = "booth: test pause before step"

# What a user must never see: a traceback or the engine's raw HTTP error text.
RAW_ERROR_TEXT = ("Traceback", "Client Error", "Server Error", "Conflict")


def assert_no_raw_errors(result: CliResult) -> None:
    for text in RAW_ERROR_TEXT:
        assert text not in result.stderr, f"raw error text {text!r}: {result.explain()}"


def container_states(b: BoothDir) -> dict[str, str | None]:
    """``{"sidecar": status or None, "booth": status or None}``."""
    found = {role: b.container(role) for role in ("sidecar", "booth")}
    return {role: c["State"]["Status"] if c else None for role, c in found.items()}


def wait_ready_in_progress(b: BoothDir, timeout: float = 30.0) -> None:
    """Until the sidecar runs and an exec (booth's /_ping poller) runs inside it."""

    def probe() -> None:
        sidecar = b.container("sidecar")
        assert sidecar is not None and sidecar["State"]["Running"], "sidecar not running"
        assert sidecar.get("ExecIDs"), "no wait-ready exec in the sidecar yet"

    eventually(probe, timeout=timeout, interval=0.05, what="wait-ready in progress")


def open_gate(b: BoothDir) -> None:
    """Let the gated image's inner daemon start."""
    docker_cli("exec", b.sidecar, "touch", GATE_FILE)


def assert_converges(b: BoothDir, *args: str) -> CliResult:
    """``apply`` exits 0, the next plan is empty, the booth reaches the inner daemon."""
    result = b.cli("apply", *args)
    assert result.rc == 0, f"apply {' '.join(args)}: {result.explain()}"
    assert_no_raw_errors(result)
    plan = b.cli("plan", "--detailed-exitcode", *args)
    assert plan.rc == 0, f"plan after apply: {plan.explain()}"
    assert container_states(b) == {"sidecar": "running", "booth": "running"}
    booth = b.container("booth")
    assert booth is not None
    assert booth["HostConfig"]["NetworkMode"] == f"container:{b.container_id('sidecar')}"
    in_booth(b.booth, "docker", "version")  # answers only when the server part is reachable
    return result


def assert_destroy_leaves_nothing(b: BoothDir) -> None:
    """``destroy --volumes`` exits 0 and no object with the instance label is left."""
    result = b.cli("destroy", "--volumes")
    assert result.rc == 0, f"destroy --volumes: {result.explain()}"
    assert_no_raw_errors(result)
    assert labelled_containers(b.client, b.instance) == {}
    assert labelled_networks(b.client, b.instance) == []
    assert labelled_volumes(b.client, b.instance) == []


def changes_by_resource(plan: Mapping[str, Any]) -> dict[str, str]:
    """``{resource: action}`` from a plan JSON document."""
    return {c["resource"]: c["action"] for c in plan["changes"]}


def pending(plan: Mapping[str, Any]) -> dict[str, str]:
    """Only the changes that do something (action other than none)."""
    return {res: act for res, act in changes_by_resource(plan).items() if act != "none"}
