"""The seam between booth and a container engine: what the executor, the observer and a
session need, and nothing of any SDK.

:class:`reconciler.docker_engine.DockerEngine` implements it over the Docker Engine API
(which Podman's compatible service also speaks), and
:class:`reconciler.unix_engine.UnixEngine` on a local socket (its reads without the SDK).
The pure core never imports this module; the engine layer (execute, images, readiness,
preflight, session) sees only it.
Failures surface as :class:`reconciler.errors.EngineError` and its subclasses.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol

import attrs

from reconciler.engine_endpoint import Endpoint
from reconciler.errors import ExecutionError
from reconciler.model import ActualState

# Both engines: the first request (``/version``) fails fast when nothing answers; later
# ones may take a while (a pull's first answer, an exec on a busy engine).
CONNECT_TIMEOUT = 5
API_TIMEOUT = 60


class Stream(Protocol):
    """An attach connection: a socket, a TLS socket or an SSH channel."""

    def fileno(self) -> int: ...
    def recv(self, size: int, /) -> bytes: ...
    def sendall(self, data: bytes, /) -> Any: ...
    def close(self) -> None: ...


@attrs.frozen
class BuildRequest:
    """One image build: the context directory, the Dockerfile, the tag, its arguments and
    the labels the image gets (booth's ownership labels)."""

    context: str
    dockerfile: str
    tag: str
    build_args: Mapping[str, str]
    labels: Mapping[str, str]
    pull: bool = False  # pull newer base images first (``docker build --pull``)


@attrs.frozen
class EngineInfo:
    """Which engine this is, for ``status``, the plan header and preflight checks."""

    kind: str  # "docker" | "podman"
    version: str
    api_version: str
    endpoint: str
    local: bool
    transport: str = "unix"  # unix | ssh | tcp | tcp+tls
    source: str = "default"  # default | DOCKER_HOST | context NAME

    @classmethod
    def from_version(cls, version: Mapping[str, Any], where: Endpoint) -> EngineInfo:
        """From the engine's unversioned ``/version`` document, as both engines read it."""
        components = {c.get("Name", ""): c for c in version.get("Components") or []}
        return cls(
            kind="podman" if "Podman Engine" in components else "docker",
            version=str(version.get("Version", "?")),
            api_version=str(version.get("ApiVersion", "?")),
            endpoint=where.url,
            local=where.is_local,
            transport=where.transport,
            source=where.source,
        )


class Engine(Protocol):
    @property
    def endpoint(self) -> str: ...
    @property
    def is_local(self) -> bool:
        """Whether the engine binds host ports on this very host (host-port preflight)."""
        ...

    def identity(self) -> EngineInfo: ...
    def close(self) -> None:
        """End the engine's connections (an SSH tunnel's process too). Idempotent."""
        ...

    def observe(
        self, name: str, port: int, image: str | None = None, bases: Sequence[str] = ()
    ) -> ActualState:
        """The instance's objects, the image tag ``image`` when booth builds it, and the
        ONBUILD triggers of the ``bases`` the engine has (``ActualState.base_triggers``)."""
        ...

    def managed_containers(self) -> list[Mapping[str, Any]]:
        """Every container booth created on this engine, of any code directory and
        instance (``GET /containers/json`` documents, stopped ones included)."""
        ...

    def instances_of(self, code_dir: str, name: str) -> list[int]:
        """Ports of the booth instances named ``name`` made for ``code_dir`` (by label)."""
        ...

    def build(self, request: BuildRequest, on_line: Callable[[str], None]) -> str:
        """Build and tag an image; its ID. Raises BuildError with the build's last lines."""
        ...

    # images
    def image_present(self, image: str) -> bool: ...
    def image_id(self, image: str) -> str | None:
        """The ID the name ``image`` stands for on the engine (None: not there)."""
        ...

    def pull(self, image: str, on_event: Callable[[Mapping[str, Any]], None]) -> None: ...

    # networks and volumes: labels are returned so callers can check ownership
    def create_network(self, name: str, driver: str, labels: Mapping[str, str]) -> None: ...
    def network(self, name: str) -> tuple[str, Mapping[str, str]]: ...
    def remove_network(self, network_id: str) -> None: ...
    def create_volume(
        self, name: str, driver: str, labels: Mapping[str, str]
    ) -> Mapping[str, str]: ...
    def volume_labels(self, name: str) -> Mapping[str, str]: ...
    def remove_volume(self, name: str) -> None: ...

    # containers
    def create_container(self, name: str, config: Mapping[str, Any]) -> str: ...
    def container(self, name: str) -> tuple[str, Mapping[str, str]]: ...
    def container_state(self, container: str) -> Mapping[str, Any]: ...
    def start(self, container: str) -> None: ...
    def restart(self, container: str, timeout: int) -> None: ...
    def stop(self, container: str, timeout: int) -> None: ...
    def stop_until_logged(self, container: str, timeout: int, line: bytes) -> None:
        """``stop``, ended with SIGKILL as soon as the container logs ``line``."""
        ...

    def remove_container(self, container: str) -> None: ...
    def exec_output(self, container: str, command: list[str]) -> tuple[int | None, str]: ...
    def put_files(self, container: str, files: Mapping[str, bytes]) -> None:
        """Write files (absolute path → content; root-owned, mode 0644, parent directories
        0755) into a container, created or running, in one archive upload."""
        ...

    def read_files(self, container: str, directory: str) -> dict[str, bytes]:
        """The regular files directly in ``directory``, by base name (404: no directory)."""
        ...

    def logs(self, container: str, tail: int) -> str: ...
    def log_stream(
        self, container: str, *, follow: bool, tail: int | None
    ) -> Iterator[tuple[bytes | None, bytes | None]]:
        """The container's log as (stdout, stderr) chunks, in the order they were
        written (a TTY container's is all stdout); ``tail=None``: all of it."""
        ...

    def exec_attached(self, container: str, command: list[str]) -> tuple[str, Stream]:
        """A TTY exec with stdin, attached: its ID and its raw byte stream."""
        ...

    def exec_streamed(
        self, container: str, command: list[str]
    ) -> tuple[str, Iterator[tuple[bytes | None, bytes | None]]]:
        """An exec without TTY or stdin: its ID and its (stdout, stderr) chunks."""
        ...

    def exec_piped(self, container: str, command: list[str]) -> tuple[str, Stream]:
        """An exec with stdin but no TTY (``docker exec -i``), attached: its ID and its
        raw stream (our input goes in; its output comes back multiplexed)."""
        ...

    def exec_exit_code(self, exec_id: str) -> int | None: ...
    def exec_resize(self, exec_id: str, rows: int, columns: int) -> None: ...
    def privileged_allowed(self) -> bool | None:
        """Whether the engine would run a privileged container (None: cannot tell)."""
        ...

    def info(self) -> Mapping[str, Any]: ...
    def wait(self, container: str, timeout: int | None = None) -> int:
        """The container's exit code once it is not running (at once if it is not); one
        request, however long it takes. EngineError when ``timeout`` seconds pass first."""
        ...

    def attach(self, container: str) -> Stream: ...
    def resize(self, container: str, rows: int, columns: int) -> None: ...
    def published_ports(self) -> dict[int, str]:
        """Host port → ``container <name>`` for running containers (error messages)."""
        ...

    def missing_bind_source(self, image: str, source: str) -> str | None:
        """The engine's error when ``source`` does not exist on its host (None: it
        exists, or the engine cannot tell). Creates nothing that outlives the call."""
        ...


def wait_removed(engine: Engine, container: str, seconds: float = 30.0) -> None:
    """Until the engine no longer has ``container``: its own removal (``AutoRemove``)
    finishes. Built on ``container_state`` alone, so every engine has it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        engine.container_state(container)  # EngineNotFound once it is gone
        time.sleep(0.05)
    raise ExecutionError(f"container {container} is still being removed after {seconds:.0f}s")
