"""A real image registry for the tests that pull: Debian's ``docker-registry``
(distribution 2.8) on a free 127.0.0.1 port, storing into a temporary directory.

Docker treats registries on 127.0.0.0/8 as insecure, so plain HTTP works without any
daemon configuration. Every tag made through :class:`LocalRegistry` is removed by
:meth:`LocalRegistry.close`, with the registry process.
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import subprocess
import time
from pathlib import Path
from typing import IO

import docker
import docker.errors
from cli_support import free_port
from engine_support import engine_unavailable, remove_image

REGISTRY_BINARY = "docker-registry"  # Debian's package of the same name (.ci/docker-up.sh)
START_TIMEOUT = 20.0

CONFIG = """\
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
"""


class LocalRegistry:
    """One registry process; ``host`` is ``127.0.0.1:PORT``."""

    def __init__(self, client: docker.DockerClient, workdir: Path) -> None:
        binary = shutil.which(REGISTRY_BINARY) or shutil.which(
            REGISTRY_BINARY, path="/usr/bin:/usr/sbin"
        )
        if binary is None:
            engine_unavailable(f"{REGISTRY_BINARY} is missing (apt-get install docker-registry)")
        self.client = client
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.tags: list[str] = []
        self.image_ids: set[str] = set()  # the images behind those tags (the tests' own)
        config = workdir / "registry.yml"
        config.write_text(CONFIG.format(storage=workdir / "storage", port=self.port))
        self._log: IO[bytes] = (workdir / "registry.log").open("wb")
        self.log_path = workdir / "registry.log"
        self.process = subprocess.Popen(
            [str(binary), "serve", str(config)], stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_until_serving()

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {self.log_path.read_text()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                connection.request("GET", "/v2/")
                if connection.getresponse().status == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"docker-registry did not serve {self.host} within {START_TIMEOUT}s")

    def ref(self, repository: str, tag: str) -> str:
        return f"{self.host}/{repository}:{tag}"

    def tag(self, image: str, ref: str) -> None:
        """Point the local name ``ref`` at ``image`` (removed on close)."""
        repository, _, tag = ref.rpartition(":")
        assert self.client.api.tag(image, repository, tag), f"cannot tag {image} as {ref}"
        self.tags.append(ref)
        self.image_ids.add(str(self.client.images.get(image).id))

    def push(self, image: str, ref: str) -> None:
        """Tag ``image`` as ``ref`` and push it (the registry's tag then names it)."""
        self.tag(image, ref)
        repository, _, tag = ref.rpartition(":")
        for event in self.client.api.push(repository, tag=tag, stream=True, decode=True):
            assert "error" not in event, f"push of {ref} failed: {event}"

    def close(self) -> list[str]:
        """Stop the registry; remove every tag made here and the images behind them (a
        pull leaves a digest reference too). Run after the containers are gone; returns
        what could not be removed."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()
        for ref in reversed(self.tags):
            remove_image(self.client, ref)
        failures = []
        for image_id in sorted(self.image_ids):
            try:
                self.client.api.remove_image(image_id, force=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as err:
                failures.append(f"image {image_id}: {err}")
        return failures
