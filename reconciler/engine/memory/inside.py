"""What happens inside the in-memory engine's containers: execs, files, logs, terminals.

A mixin of :class:`reconciler.engine.memory.engine.MemoryBackend`, apart so each module stays
readable. No process runs: an exec in a running container answers what the engine's
``exec_result`` says (by default ``ready``: a started sidecar passes ``wait_ready``),
through its stream or its connection (input is not read); files are a dictionary per
container, moved in and out as Docker moves them (tar archives); an attach connection
carries nothing (sessions are tested against real engines).
"""

from __future__ import annotations

import hashlib
import io
import itertools
import posixpath
import socket
import struct
import tarfile
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from reconciler.engine import archives
from reconciler.engine.memory.objects import Container, inspected_container, not_running
from reconciler.engine.seam import Chunks, LogStream, Stream
from reconciler.errors import EngineConflict, EngineError, EngineNotFound

ExecResult = Callable[[Mapping[str, Any], list[str]], tuple[int, str]]


def ready(_container: Mapping[str, Any], _command: list[str]) -> tuple[int, str]:
    """Every exec succeeds and says ``ready``: a started sidecar's daemon answers."""
    return 0, "ready\n"


class Insides:
    """Execs, files, logs, namespaces and terminals of the containers ``_container`` finds."""

    containers_by_id: dict[str, Container]

    def __init__(self, exec_result: ExecResult) -> None:
        self.exec_result = exec_result
        self._execs: dict[str, _Exec] = {}
        self._exec_ids = itertools.count(1)

    def _container(self, ref: str) -> Container:
        raise NotImplementedError  # MemoryEngine's

    def _record(self, operation: str, ref: str) -> None:
        raise NotImplementedError  # MemoryEngine's

    def in_live_namespace(self, container: str) -> bool:
        """Whether a running container's network namespace is still alive: its own, or
        that of the container it joined, started no later than the join."""
        found = self._container(container)
        if not found.live or found.namespace is None:
            return False
        owner = self.containers_by_id.get(found.namespace[0])
        return owner is not None and owner.live and owner.starts == found.namespace[1]

    def write_log(self, container: str, *lines: str) -> None:
        """The container's main process writes ``lines`` (``logs``, ``log_stream``)."""
        self._container(container).log.extend(lines)

    # -- inside containers ----------------------------------------------------------------

    def put_archive(self, container: str, path: str, data: bytes) -> None:
        found = self._container(container)
        self._record("put_archive", container)
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for member in archive.getmembers():
                content = archive.extractfile(member) if member.isfile() else None
                if content is not None:
                    found.files[posixpath.join(path, member.name)] = content.read()

    def get_archive(self, container: str, path: str) -> bytes:
        """A tar of the directory ``path`` as Docker makes it: its entries under the
        directory's own name."""
        found = self._container(container)
        prefix = path.rstrip("/") + "/"
        top = posixpath.basename(path.rstrip("/"))
        inside = {
            f"/{top}/{name.removeprefix(prefix)}": data
            for name, data in found.files.items()
            if name.startswith(prefix)
        }
        if not inside:
            raise EngineNotFound(f"Could not find the file {path} in container {container}")
        return archives.tar(inside)

    def log_stream(self, container: str, *, follow: bool, tail: int | None) -> LogStream:
        """What the container logged (``write_log``); nothing runs, so a followed log
        ends there too."""
        lines = self._container(container).log
        shown = lines if tail is None else lines[-tail:] if tail else []
        return _Log([(f"{line}\n".encode(), None) for line in shown])

    def exec_create(self, container: str, command: list[str], *, stdin: bool, tty: bool) -> str:
        found = self._container(container)
        if found.status != "running":
            raise not_running(found)
        exec_id = hashlib.sha256(f"exec {next(self._exec_ids)}".encode()).hexdigest()
        self._execs[exec_id] = _Exec(found.id, list(command), tty)
        return exec_id

    def _run(self, exec_id: str) -> tuple[_Exec, str]:
        made = self._exec(exec_id)
        if made.exit_code is not None:
            raise EngineConflict(f"exec {exec_id} has already run")  # Docker: 409
        code, output = self.exec_result(
            inspected_container(self._container(made.container)), made.command
        )
        made.exit_code = code
        return made, output

    def exec_stream(self, exec_id: str) -> Chunks:
        _made, output = self._run(exec_id)
        return iter([(output.encode(), None)])

    def exec_start(self, exec_id: str, *, tty: bool) -> Stream:
        made, output = self._run(exec_id)
        data = output.encode()
        return _connection(data if made.tty else _FRAME.pack(1, len(data)) + data)

    def exec_inspect(self, exec_id: str) -> Mapping[str, Any]:
        made = self._exec(exec_id)
        return {"ID": exec_id, "Running": False, "ExitCode": made.exit_code}

    def exec_resize(self, exec_id: str, rows: int, columns: int) -> None:
        """Docker resizes only a running exec, and here none runs: an exec that has
        run is gone from its container ("no such exec"), as Docker answers."""
        if self._exec(exec_id).exit_code is not None:
            raise EngineNotFound(f"no such exec: {exec_id}")
        raise EngineConflict(f"exec {exec_id} is not running")

    def _exec(self, exec_id: str) -> _Exec:
        if exec_id not in self._execs:
            raise EngineNotFound(f"No such exec instance: {exec_id}")
        return self._execs[exec_id]

    def wait(self, container: str, timeout: int | None = None) -> int:
        """The exit code of a container that is not running. Nothing runs here, so a
        running one never ends: with ``timeout``, the engine's timeout error at once."""
        found = self._container(container)
        if found.live and timeout is not None:
            raise EngineError(f"timed out after {timeout}s waiting for container {container}")
        if found.live:
            raise EngineError("the in-memory engine cannot wait for a running container")
        return found.exit_code

    def attach(self, container: str) -> Stream:
        """Nothing runs, so nothing is written: the connection ends at once."""
        self._container(container)
        return _connection(b"")

    def resize(self, container: str, rows: int, columns: int) -> None:
        found = self._container(container)
        if found.status != "running":
            raise not_running(found)


_FRAME = struct.Struct(">BxxxL")  # the Engine API's multiplexed frame header


@attrs.define
class _Exec:
    container: str
    command: list[str]
    tty: bool
    exit_code: int | None = None


class _Log:
    def __init__(self, chunks: list[tuple[bytes | None, bytes | None]]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Chunks:
        return iter(self._chunks)

    def close(self) -> None:
        self._chunks = []


def _connection(data: bytes) -> Stream:
    """One end of a socket pair whose other end wrote ``data`` and hung up."""
    ours, theirs = socket.socketpair()
    with theirs:
        theirs.sendall(data)
    stream: Stream = ours
    return stream
