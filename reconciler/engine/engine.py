"""The engine booth drives, above the seam: every operation written once, on the reads
(:class:`reconciler.engine.observe.Lookups`) and the primitives (:class:`Primitives`) of
whichever engine it is given (``engine/seam.py`` says which engines there are).

Callers make a primitive's request through ``engine.primitives`` and everything else
through the methods here; nothing below this class knows booth's labels, tar files, log
lines or messages. Per-engine differences stay below the seam: how a request travels
(the SDK, the local socket, memory) and what the SDK hands back for a stream.

The pure core never imports this module; the engine layer (execute, images, readiness,
preflight, session) sees only it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from reconciler.core.model import CODE_MOUNT, ActualState, Kind
from reconciler.engine import observe, remote
from reconciler.engine.address import EngineAddress
from reconciler.engine.seam import Chunks, EngineInfo, LogStream, Primitives, Stream
from reconciler.errors import EngineError, EngineNotFound, ExecutionError

# How long ``stop_until_logged`` lets the log open before it stops anyway.
LOG_OPEN_SECONDS = 0.5
_PROBE_LABELS = {"io.codingbooth.probe": "bind-source"}


class Engine:
    """One engine: where it is, its reads and its primitives.

    ``load``: the primitives, made on first need (the local socket's engine loads the
    SDK only for its first write). ``version``: the ``/version`` already asked (the
    identity then costs no request). ``closing``: what else ``close`` ends (a socket, an
    SSH tunnel)."""

    def __init__(
        self,
        where: EngineAddress,
        lookups: observe.Lookups,
        load: Callable[[], Primitives],
        *,
        version: Mapping[str, Any] | None = None,
        closing: Sequence[Callable[[], None]] = (),
    ) -> None:
        self._where = where
        self.lookups = lookups
        self._load = load
        self._primitives: Primitives | None = None
        self._version = version
        self._identity: EngineInfo | None = None
        self._closing = closing

    @property
    def primitives(self) -> Primitives:
        if self._primitives is None:
            self._primitives = self._load()
        return self._primitives

    @property
    def address(self) -> str:
        """The resolved URL (a context's host, not its name): the lock's key."""
        return self._where.url

    @property
    def is_local(self) -> bool:
        """Whether the engine binds host ports on this very host (host-port preflight)."""
        return self._where.is_local

    def identity(self) -> EngineInfo:
        """Asked once: the plan's "Engine:" line and the preflight both want it."""
        if self._identity is None:
            version = self._version or self.primitives.version()
            self._identity = EngineInfo.from_version(version, self._where)
        return self._identity

    def close(self) -> None:
        """End the engine's connections (an SSH tunnel's process too). Idempotent."""
        if self._primitives is not None:
            self._primitives.close()
        for close in self._closing:
            close()

    # -- reads ------------------------------------------------------------------------------

    def observe(
        self, name: str, port: int, image: str | None = None, bases: Sequence[str] = ()
    ) -> ActualState:
        """The instance's objects, the image tag ``image`` when booth builds it, and the
        ONBUILD triggers of the ``bases`` the engine has (``ActualState.base_triggers``)."""
        return observe.collect(self.lookups, name, port, image, self.address, bases)

    def managed_containers(self) -> list[Mapping[str, Any]]:
        """Every container booth created on this engine, of any code directory and
        instance (``GET /containers/json`` documents, stopped ones included)."""
        return self.lookups.containers(observe.MANAGED_FILTER)

    def instances_of(self, code_dir: str, name: str) -> list[int]:
        """Ports of the booth instances named ``name`` made for ``code_dir`` (by label)."""
        return observe.instances_of(self.lookups, code_dir, name)

    def _inspect(self, kind: Kind, name: str) -> Mapping[str, Any]:
        found = self.lookups.inspect(kind, name)
        if found is None:
            raise EngineNotFound(f"No such {kind.value}: {name}")
        return found

    def image_id(self, image: str) -> str | None:
        """The ID the name ``image`` stands for on the engine (None: not there)."""
        found = self.lookups.inspect(Kind.IMAGE, image)
        return None if found is None else str(found["Id"])

    def image_present(self, image: str) -> bool:
        return self.image_id(image) is not None

    def network(self, name: str) -> tuple[str, Mapping[str, str]]:
        """Its ID and labels (the caller checks ownership)."""
        found = self._inspect(Kind.NETWORK, name)
        return str(found["Id"]), found.get("Labels") or {}

    def volume_labels(self, name: str) -> Mapping[str, str]:
        labels: Mapping[str, str] = self._inspect(Kind.VOLUME, name).get("Labels") or {}
        return labels

    def container(self, name: str) -> tuple[str, Mapping[str, str]]:
        found = self._inspect(Kind.CONTAINER, name)
        return str(found["Id"]), (found.get("Config") or {}).get("Labels") or {}

    def container_state(self, container: str) -> Mapping[str, Any]:
        state: Mapping[str, Any] = self._inspect(Kind.CONTAINER, container)["State"]
        return state

    def published_ports(self) -> dict[int, str]:
        """Host port → ``container <name>`` for running containers (error messages)."""
        holders: dict[int, str] = {}
        for container in self.lookups.containers({}):
            if container.get("State") != "running":
                continue
            name = (container.get("Names") or ["/?"])[0].lstrip("/")
            for port in container.get("Ports") or []:
                if "PublicPort" in port:
                    holders[int(port["PublicPort"])] = f"container {name}"
        return holders

    def privileged_allowed(self) -> bool | None:
        """Whether the engine would run a privileged container (None: cannot tell)."""
        options = " ".join(self.primitives.info().get("SecurityOptions") or [])
        # Rootless engines (Docker or Podman) cannot give a container the host's privileges.
        return False if "rootless" in options else None

    # -- writes -----------------------------------------------------------------------------

    def pull(self, image: str, on_event: Callable[[Mapping[str, Any]], None]) -> None:
        for event in self.primitives.pull(*_split_image(image)):
            if "error" in event:
                raise EngineError(str(event["error"]))
            on_event(event)

    def create_volume(self, name: str, driver: str, labels: Mapping[str, str]) -> Mapping[str, str]:
        """The volume's labels: creating an existing volume returns it unchanged, and the
        caller checks whose it is."""
        made: Mapping[str, str] = (
            self.primitives.create_volume(name, driver, labels).get("Labels") or {}
        )
        return made

    def create_container(self, name: str, config: Mapping[str, Any]) -> str:
        """The code directory goes as a ``Mounts`` bind, so a missing one is an error
        that says where it is missing (``engine/remote.py``), not a directory the engine makes."""
        sent = remote.code_dir_as_mount(config)
        try:
            return self.primitives.create_container(name, sent)
        except EngineError as err:
            raise self._bind_error(err, sent) from None

    def _bind_error(self, err: EngineError, sent: Mapping[str, Any] | None = None) -> EngineError:
        path = remote.missing_bind(str(err))
        if not path:
            return err
        mounts = (sent or {}).get("HostConfig", {}).get("Mounts") or []
        code_dir = not any(
            m.get("Source") == path and m.get("Target") != CODE_MOUNT for m in mounts
        )
        message = remote.missing_bind_message(path, self._where.host, self.is_local, code_dir)
        return EngineError(message)

    def missing_bind_source(self, image: str, source: str) -> str | None:
        """The engine's error when ``source`` does not exist on its host (None: it
        exists, or the engine cannot tell). Creates nothing that outlives the call."""
        probe = {
            "Image": image,
            "Cmd": ["true"],
            "Labels": _PROBE_LABELS,
            "HostConfig": {"Mounts": [{"Type": "bind", "Source": source, "Target": "/probe"}]},
        }
        try:
            created = self.primitives.create_container(None, probe)
        except EngineError as err:
            translated = self._bind_error(err)
            return str(translated) if translated is not err else None
        with contextlib.suppress(EngineError):
            self.primitives.remove_container(created)
        return None

    def stop_until_logged(self, container: str, timeout: int, line: bytes) -> None:
        """``docker stop``, ended early once the container has logged ``line``.

        The stop request runs as usual (the container's stop signal, SIGKILL after
        ``timeout``) and decides the outcome; meanwhile the container's log, opened just
        before, is read, and when ``line`` appears the container is killed at once:
        whatever it does after that line is known to be idle waiting. A container that
        never logs the line is stopped exactly as ``docker stop`` stops it. The stop
        waits for the log to open at most ``LOG_OPEN_SECONDS``, so an engine that holds
        back a log's first bytes only loses the shortcut."""
        watch = _LogWatch(self.primitives, container, line)
        watch.start()
        try:
            self.primitives.stop(container, timeout)
        finally:
            watch.end()

    # -- inside containers --------------------------------------------------------------------

    def exec_output(self, container: str, command: list[str]) -> tuple[int | None, str]:
        """Run ``command`` in a running container: its exit code and its output."""
        exec_id = self.primitives.exec_create(container, command, stdin=False, tty=False)
        output = b"".join(out or err or b"" for out, err in self.primitives.exec_stream(exec_id))
        return self.exec_exit_code(exec_id), output.decode(errors="replace")

    def exec_streamed(self, container: str, command: list[str]) -> tuple[str, Chunks]:
        """An exec without TTY or stdin: its ID and its (stdout, stderr) chunks."""
        exec_id = self.primitives.exec_create(container, command, stdin=False, tty=False)
        return exec_id, self.primitives.exec_stream(exec_id)

    def exec_attached(self, container: str, command: list[str], *, tty: bool) -> tuple[str, Stream]:
        """An exec with stdin, attached: its ID and its raw stream (``tty``: as
        ``docker exec -it``; else as ``docker exec -i``, its output multiplexed)."""
        exec_id = self.primitives.exec_create(container, command, stdin=True, tty=tty)
        return exec_id, self.primitives.exec_start(exec_id, tty=tty)

    def exec_exit_code(self, exec_id: str) -> int | None:
        code = self.primitives.exec_inspect(exec_id).get("ExitCode")
        return None if code is None else int(code)

    def put_files(self, container: str, files: Mapping[str, bytes]) -> None:
        """Write files (absolute path → content; root-owned, mode 0644, parent directories
        0755) into a container, created or running, in one archive upload."""
        from reconciler.engine import archives  # deferred: tarfile, which a plan never needs

        self.primitives.put_archive(container, "/", archives.tar(files))

    def read_files(self, container: str, directory: str) -> dict[str, bytes]:
        """The regular files directly in ``directory``, by base name (404: no directory)."""
        from reconciler.engine import archives  # deferred: tarfile, which a plan never needs

        return archives.files_in(self.primitives.get_archive(container, directory))

    def logs(self, container: str, tail: int) -> str:
        """The log's last ``tail`` lines, stdout and stderr as they were written."""
        stream = self.primitives.log_stream(container, follow=False, tail=tail)
        return b"".join(out or err or b"" for out, err in stream).decode(errors="replace")


class _LogWatch:
    """``stop_until_logged``'s reader: a thread that follows the log and kills the
    container once ``line`` shows. Only a shortcut: whatever goes wrong here (docker-py's
    SSH socket has raised UnboundLocalError on close), the stop request still decides."""

    def __init__(self, primitives: Primitives, container: str, line: bytes) -> None:
        self._primitives, self._container, self._line = primitives, container, line
        self._opened = threading.Event()
        self._streams: list[LogStream] = []
        self._thread = threading.Thread(target=self._watch, name="booth-stop-watch", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._opened.wait(LOG_OPEN_SECONDS)

    def end(self) -> None:
        # The log ends with the container; close it only if the engine keeps it open.
        self._thread.join(LOG_OPEN_SECONDS)
        if self._thread.is_alive():
            for stream in self._streams:
                with contextlib.suppress(Exception):
                    stream.close()

    def _watch(self) -> None:
        with contextlib.suppress(Exception):
            self._follow()

    def _follow(self) -> None:
        try:
            stream = self._primitives.log_stream(self._container, follow=True, tail=0)
        finally:
            self._opened.set()
        self._streams.append(stream)
        seen, line = b"", self._line
        for out, err in stream:
            # A line may arrive in two chunks: keep the end of the last one.
            seen = seen[-len(line) :] + (out or err or b"")
            if line in seen:
                self._primitives.kill(self._container, "SIGKILL")
                return


def _split_image(image: str) -> tuple[str, str | None]:
    """``repo[:tag]`` → (repository, tag) as the pull API wants them; digests stay whole."""
    if "@" in image:
        return image, None
    repository, _, tag = image.rpartition(":")
    if repository and "/" not in tag:
        return repository, tag
    return image, "latest"


def wait_removed(engine: Engine, container: str, seconds: float = 30.0) -> None:
    """Until the engine no longer has ``container``: its own removal (``AutoRemove``)
    finishes. Built on ``container_state`` alone, so every engine has it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        engine.container_state(container)  # EngineNotFound once it is gone
        time.sleep(0.05)
    raise ExecutionError(f"container {container} is still being removed after {seconds:.0f}s")
