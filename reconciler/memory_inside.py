"""What happens inside the in-memory engine's containers: execs, files, logs, terminals.

A mixin of :class:`reconciler.engine_memory.MemoryEngine`, apart so each module stays
readable. No process runs: an exec in a running container answers what the engine's
``exec_result`` says (by default ``ready``: a started sidecar passes ``wait_ready``);
files are a dictionary per container; terminals are not modelled (sessions are tested
against real engines).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from reconciler.engine import Stream
from reconciler.errors import EngineError, EngineNotFound
from reconciler.memory_objects import Container, inspected_container, not_running

ExecResult = Callable[[Mapping[str, Any], list[str]], tuple[int, str]]


def ready(_container: Mapping[str, Any], _command: list[str]) -> tuple[int, str]:
    """Every exec succeeds and says ``ready``: a started sidecar's daemon answers."""
    return 0, "ready\n"


class Insides:
    """Execs, files, logs, namespaces and terminals of the containers ``_container`` finds."""

    containers_by_id: dict[str, Container]

    def __init__(self, exec_result: ExecResult) -> None:
        self.exec_result = exec_result
        self._execs: dict[str, int] = {}
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

    def exec_output(self, container: str, command: list[str]) -> tuple[int | None, str]:
        found = self._container(container)
        if found.status != "running":
            raise not_running(found)
        return self.exec_result(inspected_container(found), command)

    def put_files(self, container: str, files: Mapping[str, bytes]) -> None:
        found = self._container(container)
        self._record("put_files", container)
        found.files.update(files)

    def read_files(self, container: str, directory: str) -> dict[str, bytes]:
        found = self._container(container)
        prefix = directory.rstrip("/") + "/"
        inside = {
            path.removeprefix(prefix): data
            for path, data in found.files.items()
            if path.startswith(prefix)
        }
        if not inside:
            raise EngineNotFound(f"Could not find the file {directory} in container {container}")
        return {name: data for name, data in inside.items() if "/" not in name}

    def logs(self, container: str, tail: int) -> str:
        lines = self._container(container).log
        return "".join(f"{line}\n" for line in lines[-tail:] if tail)

    def log_stream(
        self, container: str, *, follow: bool, tail: int | None
    ) -> Iterator[tuple[bytes | None, bytes | None]]:
        lines = self._container(container).log
        shown = lines if tail is None else lines[-tail:] if tail else []
        return iter([(f"{line}\n".encode(), None) for line in shown])

    def exec_streamed(
        self, container: str, command: list[str]
    ) -> tuple[str, Iterator[tuple[bytes | None, bytes | None]]]:
        code, output = self.exec_output(container, command)
        exec_id = hashlib.sha256(f"exec {next(self._exec_ids)}".encode()).hexdigest()
        self._execs[exec_id] = code or 0
        return exec_id, iter([(output.encode(), None)])

    def exec_exit_code(self, exec_id: str) -> int | None:
        return self._execs.get(exec_id)

    def wait(self, container: str, timeout: int | None = None) -> int:
        """The exit code of a container that is not running. Nothing runs here, so a
        running one never ends: with ``timeout``, the engine's timeout error at once."""
        found = self._container(container)
        if found.live and timeout is not None:
            raise EngineError(f"timed out after {timeout}s waiting for container {container}")
        if found.live:
            raise EngineError("the in-memory engine cannot wait for a running container")
        return found.exit_code

    # -- terminals: not modelled (sessions are tested against real engines) ---------------

    def exec_attached(self, container: str, command: list[str]) -> tuple[str, Stream]:
        raise EngineError("the in-memory engine has no terminals")

    def exec_piped(self, container: str, command: list[str]) -> tuple[str, Stream]:
        raise EngineError("the in-memory engine has no terminals")

    def exec_resize(self, exec_id: str, rows: int, columns: int) -> None:
        raise EngineError("the in-memory engine has no terminals")

    def attach(self, container: str) -> Stream:
        raise EngineError("the in-memory engine has no terminals")

    def resize(self, container: str, rows: int, columns: int) -> None:
        raise EngineError("the in-memory engine has no terminals")
