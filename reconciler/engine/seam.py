"""The seam between booth and a container engine: what each engine implements.

Two halves, each small. The reads are :class:`reconciler.engine.observe.Lookups` (a list by
filter, an inspect by name). The writes and streams are :class:`Primitives`: one Engine
API request each (a stream is one request too), in the engine's own terms, with no
policy of booth's. Everything booth builds from them (an observation, a container's
state, a file copy as a tar archive, an exec's output, ``docker stop`` ended by a log
line, the bind-source probe ...) is written once, above the seam, in
:class:`reconciler.engine.engine.Engine`.

Three engines implement the seam: the Docker SDK (``engine/docker/engine.py``: lookups and
primitives, for tcp, TLS and docker-py's SSH), the local socket (``engine/unix/engine.py``: its
own lookups over ``engine/unix/api.py``, the SDK's primitives made on the first write), and the
in-memory engine for tests (``engine/memory/engine.py``). One contract suite
(``tests/support/engine_contract.py``) runs the same cases on all of them.
Failures are :class:`reconciler.errors.EngineError` and its subclasses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

import attrs

from reconciler.engine.address import EngineAddress

# Every engine: the first request (``/version``) fails fast when nothing answers; later
# ones may take a while (a pull's first answer, an exec on a busy engine).
CONNECT_TIMEOUT = 5
API_TIMEOUT = 60

# (stdout, stderr) chunks, in the order they were written; one of the two is None.
Chunks = Iterator[tuple[bytes | None, bytes | None]]


class Stream(Protocol):
    """An attach connection: a socket, a TLS socket or an SSH channel."""

    def fileno(self) -> int: ...
    def recv(self, size: int, /) -> bytes: ...
    def sendall(self, data: bytes, /) -> Any: ...
    def close(self) -> None: ...


class LogStream(Protocol):
    """A container's log as :data:`Chunks`; ``close`` ends it from another thread too
    (a followed log of a container that keeps running never ends by itself)."""

    def __iter__(self) -> Chunks: ...
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
    address: str
    local: bool
    transport: str = "unix"  # unix | ssh | tcp | tcp+tls
    source: str = "default"  # default | DOCKER_HOST | context NAME

    @classmethod
    def from_version(cls, version: Mapping[str, Any], where: EngineAddress) -> EngineInfo:
        """From the engine's unversioned ``/version`` document, as every engine reads it."""
        components = {c.get("Name", ""): c for c in version.get("Components") or []}
        return cls(
            kind="podman" if "Podman Engine" in components else "docker",
            version=str(version.get("Version", "?")),
            api_version=str(version.get("ApiVersion", "?")),
            address=where.url,
            local=where.is_local,
            transport=where.transport,
            source=where.source,
        )


class Primitives(Protocol):
    """The engine's writes and streams, one request each (Engine API names)."""

    def version(self) -> Mapping[str, Any]:
        """The unversioned ``GET /version`` document (asked once per engine)."""
        ...

    def info(self) -> Mapping[str, Any]: ...
    def close(self) -> None:
        """End this engine's connections. Idempotent."""
        ...

    # images
    def build(self, request: BuildRequest, on_line: Callable[[str], None]) -> str:
        """Build and tag an image; its ID. Raises BuildError with the build's last lines."""
        ...

    def pull(self, repository: str, tag: str | None) -> Iterator[Mapping[str, Any]]:
        """``POST /images/create``: its progress events (an ``error`` event is a failure)."""
        ...

    # networks and volumes
    def create_network(self, name: str, driver: str, labels: Mapping[str, str]) -> None: ...
    def remove_network(self, network_id: str) -> None: ...
    def create_volume(self, name: str, driver: str, labels: Mapping[str, str]) -> Mapping[str, Any]:
        """The volume's document; an existing volume of that name is returned unchanged."""
        ...

    def remove_volume(self, name: str) -> None: ...

    # containers
    def create_container(self, name: str | None, config: Mapping[str, Any]) -> str:
        """The new container's ID (``name`` None: the engine names it)."""
        ...

    def start(self, container: str) -> None: ...
    def restart(self, container: str, timeout: int) -> None:
        """One request, not stop + start: the engine keeps an AutoRemove container."""
        ...

    def stop(self, container: str, timeout: int) -> None: ...
    def kill(self, container: str, signal: str) -> None: ...
    def remove_container(self, container: str) -> None:
        """Forced, with its anonymous volumes (``docker rm -fv``)."""
        ...

    def wait(self, container: str, timeout: int | None = None) -> int:
        """The container's exit code once it is not running (at once if it is not); one
        request, however long it takes. EngineError when ``timeout`` seconds pass first."""
        ...

    def put_archive(self, container: str, path: str, data: bytes) -> None: ...
    def get_archive(self, container: str, path: str) -> bytes:
        """A tar of ``path`` (404: no such path)."""
        ...

    def log_stream(self, container: str, *, follow: bool, tail: int | None) -> LogStream:
        """The container's log (a TTY container's is all stdout); ``tail=None``: all of
        it. The request is made before this returns, so nothing logged after is missed."""
        ...

    # execs and terminals
    def exec_create(self, container: str, command: list[str], *, stdin: bool, tty: bool) -> str:
        """An exec's ID (stdout and stderr always attached)."""
        ...

    def exec_start(self, exec_id: str, *, tty: bool) -> Stream:
        """Start an exec made with ``stdin``: its raw connection (multiplexed without TTY)."""
        ...

    def exec_stream(self, exec_id: str) -> Chunks:
        """Start an exec made without stdin or TTY: its output as it comes."""
        ...

    def exec_inspect(self, exec_id: str) -> Mapping[str, Any]: ...
    def exec_resize(self, exec_id: str, rows: int, columns: int) -> None: ...
    def attach(self, container: str) -> Stream:
        """The container's attach connection (stdin, stdout, stderr, streamed)."""
        ...

    def resize(self, container: str, rows: int, columns: int) -> None: ...
