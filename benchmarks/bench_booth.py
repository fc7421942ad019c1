"""A booth under measurement and the timing helpers every benchmark shares.

Its own module so the local benchmarks (``bench.py``) and the remote ones
(``bench_remote.py``) use one copy, and neither imports the other.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path

DIND_IMAGE = os.environ.get("BENCH_DIND_IMAGE", "booth-test/dind:latest")
BOOTH_IMAGE = os.environ.get("BENCH_BOOTH_IMAGE", "booth-test/booth:latest")
BUSYBOX_IMAGE = os.environ.get("BENCH_BUSYBOX_IMAGE", "booth-test/busybox:latest")
BENCH_ID = uuid.uuid4().hex[:8]
BENCH_LABEL = f"booth-bench={BENCH_ID}"
# The CLI baseline polls the inner daemon like a typical hand-written script ("coarse
# polling", in the issue's words); a second, careful variant polls every 0.1 s and is
# reported beside it, so the comparison is not flattering by construction.
POLL_SECONDS = 0.5
FINE_POLL_SECONDS = 0.1
# Every `daemon-endpoint`, side by side; the first is booth's default.
MODES = ("tls", "unix", "tcp")
FIRST_OUTPUT = "booth-first-output"


def free_ports(count: int) -> list[int]:
    sockets, ports = [], []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
        ports.append(sock.getsockname()[1])
    for sock in sockets:
        sock.close()
    return ports


def sh(command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, shell=True, check=check, capture_output=True, text=True)


def timed(command: list[str] | str, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        command,
        shell=isinstance(command, str),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{command!r} failed ({result.returncode}): {result.stderr[-2000:]}")
    return elapsed


def first_output(command: list[str] | str) -> float:
    """Seconds from start to the first line on stdout; the rest runs untimed."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        shell=isinstance(command, str),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = "-"
    while line and FIRST_OUTPUT not in line:  # a plan may come first
        line = process.stdout.readline()
    elapsed = time.perf_counter() - started
    _, err = process.communicate()
    if FIRST_OUTPUT not in line or process.returncode != 0:
        raise RuntimeError(f"{command!r} failed ({process.returncode}): {line!r} {err[-2000:]}")
    return elapsed


class Booth:
    """One benchmark booth: a code dir with a config, and the `booth` command for it."""

    def __init__(self, root: Path, name: str, mode: str = MODES[0]) -> None:
        self.port, self.extra_a, self.extra_b = free_ports(3)
        self.mode = mode
        self.name = name
        self.dir = root / name
        (self.dir / ".booth").mkdir(parents=True)
        (self.dir / ".booth" / "config.toml").write_text(
            textwrap.dedent(f"""\
            name = "{name}"
            port = {self.port}
            dind = true
            image = "{BOOTH_IMAGE}"
            dind-image = "{DIND_IMAGE}"
            cmds = ["sleep", "infinity"]
            run-args = ["-p", "{self.extra_a}:8080", "-p", "{self.extra_b}:3000"]
            daemon-endpoint = "{mode}"
            """)
        )

    @property
    def instance(self) -> str:
        return f"{self.name}-{self.port}"

    def cmd(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "reconciler", "-q", "-C", str(self.dir), *args]

    def cli_run_script(self) -> str:
        """`booth run`'s job by hand: the sidecar, then the booth's command in the front."""
        up = self.cli_up_script().rsplit("docker run -d --init", 1)[0]
        return up + textwrap.dedent(f"""\
            docker run --rm --init --name {self.instance} \\
              --network container:{self.instance}-dind \\
              -e DOCKER_HOST=tcp://localhost:2375 -v {self.dir}:/home/coder/code \\
              {BOOTH_IMAGE} echo {FIRST_OUTPUT}
            """)

    def cli_up_script(self, poll_seconds: float = POLL_SECONDS) -> str:
        """The same booth by hand with the docker CLI: what booth saves people writing."""
        net, sidecar, vol = (
            f"{self.instance}-net",
            f"{self.instance}-dind",
            f"{self.instance}-dind-data",
        )
        return textwrap.dedent(f"""\
            set -e
            docker network create {net} >/dev/null
            docker volume create {vol} >/dev/null
            docker run -d --privileged --name {sidecar} --network {net} \\
              -e DOCKER_TLS_CERTDIR= -v {vol}:/var/lib/docker \\
              -p 127.0.0.1:{self.port}:10000 -p 127.0.0.1:{self.extra_a}:8080 \\
              -p 127.0.0.1:{self.extra_b}:3000 \\
              {DIND_IMAGE} dockerd --host=unix:///var/run/docker.sock \\
              --host=tcp://127.0.0.1:2375 --tls=false >/dev/null
            ping="wget -q -O /dev/null http://127.0.0.1:2375/_ping"
            until docker exec {sidecar} $ping 2>/dev/null; do
              sleep {poll_seconds}
            done
            docker run -d --init --name {self.instance} --network container:{sidecar} \\
              -e DOCKER_HOST=tcp://localhost:2375 -v {self.dir}:/home/coder/code \\
              {BOOTH_IMAGE} sleep infinity >/dev/null
            """)

    def cli_down_script(self) -> str:
        """What ``booth destroy`` removes, by hand: the objects as booth names them (the
        booth is named after the config's name, as CodingBooth names it)."""
        sidecar = f"{self.instance}-dind"
        return textwrap.dedent(f"""\
            set -e
            docker stop {self.name} >/dev/null
            docker stop {sidecar} >/dev/null
            docker rm -v {self.name} {sidecar} >/dev/null
            docker network rm {self.instance}-net >/dev/null
            """)

    def compose_file(self) -> Path:
        path = self.dir / "docker-compose.yml"
        path.write_text(
            textwrap.dedent(f"""\
            version: "2.4"
            services:
              dind:
                image: {DIND_IMAGE}
                privileged: true
                command: ["dockerd", "--host=unix:///var/run/docker.sock",
                          "--host=tcp://127.0.0.1:2375", "--tls=false"]
                environment: {{DOCKER_TLS_CERTDIR: ""}}
                ports:
                  - "127.0.0.1:{self.port}:10000"
                  - "127.0.0.1:{self.extra_a}:8080"
                  - "127.0.0.1:{self.extra_b}:3000"
                volumes: ["dind-data:/var/lib/docker"]
                labels: {{booth-bench: "{BENCH_ID}"}}
              booth:
                image: {BOOTH_IMAGE}
                command: ["sleep", "infinity"]
                network_mode: "service:dind"
                environment: {{DOCKER_HOST: "tcp://localhost:2375"}}
                volumes: ["{self.dir}:/home/coder/code"]
                labels: {{booth-bench: "{BENCH_ID}"}}
                depends_on: [dind]
            volumes:
              dind-data: {{labels: {{booth-bench: "{BENCH_ID}"}}}}
            """)
        )
        return path

    def remove_everything(self) -> None:
        """booth's objects (labelled with the booth's name, its instance) and the CLI
        script's (named after ``instance``, name and port)."""
        labels = [f"io.codingbooth.instance={n}" for n in (self.name, self.instance)]
        for flt in (*(f"label={label}" for label in labels), f"name=^/{self.instance}"):
            ids = sh(f"docker ps -aq --filter '{flt}'", check=False).stdout.split()
            if ids:
                sh(f"docker rm -fv {' '.join(ids)}", check=False)
        sh(f"docker network rm {self.instance}-net", check=False)
        for volume in (self.instance, self.name):
            sh(f"docker volume rm {volume}-dind-data", check=False)
        for label in labels:
            ids = sh(f"docker network ls -q --filter label={label}", check=False).stdout.split()
            if ids:
                sh(f"docker network rm {' '.join(ids)}", check=False)


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def alternate(runs: int, *contenders: Callable[[], float]) -> list[list[float]]:
    """Run each after one warm-up, in turn, so drift hits all alike."""
    for contender in contenders:
        contender()
    samples: list[list[float]] = [[] for _ in contenders]
    for _ in range(runs):
        for contender, times in zip(contenders, samples, strict=True):
            times.append(contender())
    return samples
