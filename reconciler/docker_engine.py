"""The :class:`~reconciler.engine.Engine` over the Docker Engine API (docker SDK).

The only module that imports the SDK. Every call translates SDK and transport errors
into :class:`EngineError` values with the engine's own message on one line, so the rest
of booth handles one kind of failure.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import tarfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import requests.exceptions

from reconciler import observe, remote
from reconciler.docker_calls import (
    SdkLookups,
    build_image,
    call,
    client_kwargs,
    demuxed_logs,
    split_image,
    stop_until_logged,
    tar,
    translated,
    translated_iter,
)
from reconciler.docker_sdk import docker
from reconciler.engine import API_TIMEOUT, CONNECT_TIMEOUT, BuildRequest, EngineInfo, Stream
from reconciler.engine_endpoint import Endpoint, resolve, unreachable
from reconciler.errors import (
    DockerUnavailableError,
    EngineError,
    EngineNotFound,
)
from reconciler.logs import get_logger
from reconciler.model import CODE_MOUNT, ActualState
from reconciler.sdk_private import APIClient, hijacked_socket

ATTACH_PARAMS = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}

log = get_logger()


class DockerEngine:
    """One connection to one Docker (or Docker-compatible) endpoint."""

    def __init__(self, client: docker.APIClient, where: str | Endpoint) -> None:
        self.client = client
        self._where = where if isinstance(where, Endpoint) else Endpoint(where, "DOCKER_HOST")
        # Asked for the plan's "Engine:" line and again by the preflight: once is enough.
        self._identity: EngineInfo | None = None

    @classmethod
    def connect(cls, timeout: int = CONNECT_TIMEOUT, context: str | None = None) -> DockerEngine:
        """Connect as the docker CLI would (``--context``, ``DOCKER_HOST`` and the TLS
        variables, ``DOCKER_CONTEXT``, the current context); fail within ``timeout``
        with the endpoint in the message."""
        return cls.at(resolve(context), timeout)

    @classmethod
    def at(
        cls,
        where: Endpoint,
        timeout: int = CONNECT_TIMEOUT,
        version: Mapping[str, Any] | None = None,
        via: str | None = None,
    ) -> DockerEngine:
        """Connect to a resolved endpoint. ``version``: the engine's ``/version``, already
        asked (by ``unix_engine``): the SDK then takes its API version from it instead of
        asking again, and answers ``identity`` from it. ``via``: the ``unix://`` socket
        that reaches ``where`` (an SSH tunnel's), ``where`` still naming the engine."""
        api_version = str(version["ApiVersion"]) if version is not None else None
        kwargs = {"base_url": via} if via is not None else client_kwargs(where)
        try:
            client = APIClient(**kwargs, timeout=timeout, version=api_version)
        except (
            docker.errors.DockerException,
            requests.exceptions.RequestException,
            OSError,
        ) as err:
            raise DockerUnavailableError(unreachable(where, str(err))) from None
        client.timeout = API_TIMEOUT
        if version is not None:
            client.seed_version(version)
        return cls(client, where)

    def close(self) -> None:
        self.client.close()

    @property
    def endpoint(self) -> str:
        """The resolved URL (a context's host, not its name): the lock's key."""
        return self._where.url

    @property
    def is_local(self) -> bool:
        return self._where.is_local

    def identity(self) -> EngineInfo:
        if self._identity is None:
            self._identity = self._ask_identity()
        return self._identity

    def _ask_identity(self) -> EngineInfo:
        version = call(lambda: self.client.version(api_version=False))
        return EngineInfo.from_version(version, self._where)

    def observe(
        self, name: str, port: int, image: str | None = None, bases: Sequence[str] = ()
    ) -> ActualState:
        """See :func:`observe.collect` (the same calls as ``unix_engine``, through the SDK)."""
        return observe.collect(SdkLookups(self.client), name, port, image, self.endpoint, bases)

    def managed_containers(self) -> list[Mapping[str, Any]]:
        return SdkLookups(self.client).containers(observe.MANAGED_FILTER)

    def instances_of(self, code_dir: str, name: str) -> list[int]:
        return observe.instances_of(SdkLookups(self.client), code_dir, name)

    # -- images ----------------------------------------------------------------------------

    def image_present(self, image: str) -> bool:
        return self.image_id(image) is not None

    def image_id(self, image: str) -> str | None:
        try:
            raw = call(lambda: self.client.inspect_image(image))  # type: ignore[no-untyped-call]
        except EngineNotFound:
            return None
        return str(raw["Id"])

    def pull(self, image: str, on_event: Callable[[Mapping[str, Any]], None]) -> None:
        repository, tag = split_image(image)
        with translated():
            for event in self.client.pull(repository, tag=tag, stream=True, decode=True):
                if "error" in event:
                    raise EngineError(str(event["error"]))
                on_event(event)

    def build(self, request: BuildRequest, on_line: Callable[[str], None]) -> str:
        return build_image(self.client, request, on_line)

    # -- networks and volumes ---------------------------------------------------------------

    def create_network(self, name: str, driver: str, labels: Mapping[str, str]) -> None:
        call(
            lambda: self.client.create_network(
                name, driver=driver, labels=dict(labels), check_duplicate=True
            )
        )

    def network(self, name: str) -> tuple[str, Mapping[str, str]]:
        raw = call(lambda: self.client.inspect_network(name))
        return raw["Id"], raw.get("Labels") or {}

    def remove_network(self, network_id: str) -> None:
        call(lambda: self.client.remove_network(network_id))

    def create_volume(self, name: str, driver: str, labels: Mapping[str, str]) -> Mapping[str, str]:
        # Creating an existing volume returns it unchanged: the caller checks the labels.
        raw = call(lambda: self.client.create_volume(name, driver=driver, labels=dict(labels)))
        return raw.get("Labels") or {}

    def volume_labels(self, name: str) -> Mapping[str, str]:
        return call(lambda: self.client.inspect_volume(name)).get("Labels") or {}

    def remove_volume(self, name: str) -> None:
        call(lambda: self.client.remove_volume(name))

    # -- containers ---------------------------------------------------------------------------

    def create_container(self, name: str, config: Mapping[str, Any]) -> str:
        sent = remote.code_dir_as_mount(config)
        try:
            created = call(
                lambda: self.client.create_container_from_config(sent, name=name)  # type: ignore[no-untyped-call]
            )
        except EngineError as err:
            raise self._bind_error(err, sent) from None
        return str(created["Id"])

    def _bind_error(self, err: EngineError, sent: Mapping[str, Any] | None = None) -> EngineError:
        path = remote.missing_bind(str(err))
        if not path:
            return err
        mounts = (sent or {}).get("HostConfig", {}).get("Mounts") or []
        code_dir = not any(
            m.get("Source") == path and m.get("Target") != CODE_MOUNT for m in mounts
        )
        return EngineError(
            remote.missing_bind_message(path, self._where.host, self.is_local, code_dir)
        )

    def missing_bind_source(self, image: str, source: str) -> str | None:
        probe = {
            "Image": image,
            "Cmd": ["true"],
            "Labels": {"io.codingbooth.probe": "bind-source"},
            "HostConfig": {"Mounts": [{"Type": "bind", "Source": source, "Target": "/probe"}]},
        }
        try:
            created = call(lambda: self.client.create_container_from_config(probe, name=None))  # type: ignore[no-untyped-call]
        except EngineError as err:
            translated = self._bind_error(err)
            return str(translated) if translated is not err else None
        with contextlib.suppress(EngineError):
            self.remove_container(str(created["Id"]))
        return None

    def container(self, name: str) -> tuple[str, Mapping[str, str]]:
        raw = call(lambda: self.client.inspect_container(name))
        return raw["Id"], (raw.get("Config") or {}).get("Labels") or {}

    def container_state(self, container: str) -> Mapping[str, Any]:
        state: Mapping[str, Any] = call(lambda: self.client.inspect_container(container))["State"]
        return state

    def start(self, container: str) -> None:
        call(lambda: self.client.start(container))

    def restart(self, container: str, timeout: int) -> None:
        call(lambda: self.client.restart(container, timeout=timeout))

    def stop(self, container: str, timeout: int) -> None:
        call(lambda: self.client.stop(container, timeout=timeout))

    def stop_until_logged(self, container: str, timeout: int, line: bytes) -> None:
        stop_until_logged(self.client, container, timeout, line)

    def remove_container(self, container: str) -> None:
        call(lambda: self.client.remove_container(container, v=True, force=True))

    def exec_output(self, container: str, command: list[str]) -> tuple[int | None, str]:
        with translated():
            exec_id = self.client.exec_create(container, command, stdout=True, stderr=True)
            output = self.client.exec_start(exec_id["Id"]).decode(errors="replace")
            exit_code = self.client.exec_inspect(exec_id["Id"]).get("ExitCode")
        return exit_code, output

    def put_files(self, container: str, files: Mapping[str, bytes]) -> None:
        archive = tar(files)
        call(lambda: self.client.put_archive(container, "/", archive))

    def read_files(self, container: str, directory: str) -> dict[str, bytes]:
        with translated():
            stream, _ = self.client.get_archive(container, directory)
            data = b"".join(stream)
        found = {}
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for member in archive.getmembers():
                content = archive.extractfile(member) if member.isfile() else None
                if content is not None and member.name.count("/") == 1:
                    found[posixpath.basename(member.name)] = content.read()
        return found

    def logs(self, container: str, tail: int) -> str:
        raw = call(lambda: self.client.logs(container, tail=tail))
        return bytes(raw).decode(errors="replace")

    def log_stream(
        self, container: str, *, follow: bool, tail: int | None
    ) -> Iterator[tuple[bytes | None, bytes | None]]:
        return demuxed_logs(self.client, container, follow=follow, tail=tail)

    def exec_attached(self, container: str, command: list[str]) -> tuple[str, Stream]:
        with translated():
            exec_id = self.client.exec_create(
                container, command, stdin=True, tty=True, stdout=True, stderr=True
            )["Id"]
            handle: Any = self.client.exec_start(exec_id, tty=True, socket=True)
        stream = hijacked_socket(handle)
        return str(exec_id), stream

    def exec_streamed(
        self, container: str, command: list[str]
    ) -> tuple[str, Iterator[tuple[bytes | None, bytes | None]]]:
        with translated():
            exec_id = self.client.exec_create(container, command, stdout=True, stderr=True)["Id"]
            chunks = self.client.exec_start(exec_id, stream=True, demux=True)
        return str(exec_id), translated_iter(chunks)

    def exec_piped(self, container: str, command: list[str]) -> tuple[str, Stream]:
        with translated():
            exec_id = self.client.exec_create(
                container, command, stdin=True, tty=False, stdout=True, stderr=True
            )["Id"]
            handle: Any = self.client.exec_start(exec_id, tty=False, socket=True)
        stream = hijacked_socket(handle)
        return str(exec_id), stream

    def exec_exit_code(self, exec_id: str) -> int | None:
        code = call(lambda: self.client.exec_inspect(exec_id)).get("ExitCode")
        return None if code is None else int(code)

    def exec_resize(self, exec_id: str, rows: int, columns: int) -> None:
        call(lambda: self.client.exec_resize(exec_id, height=rows, width=columns))

    def info(self) -> Mapping[str, Any]:
        info: Mapping[str, Any] = call(self.client.info)
        return info

    def privileged_allowed(self) -> bool | None:
        info = self.info()
        options = " ".join(info.get("SecurityOptions") or [])
        # Rootless engines (Docker or Podman) cannot give a container the host's privileges.
        return False if "rootless" in options else None

    def wait(self, container: str, timeout: int | None = None) -> int:
        answer = call(lambda: self.client.wait(container, timeout=timeout, condition="not-running"))
        return int(answer["StatusCode"])

    def attach(self, container: str) -> Stream:
        """Open the container's attach connection (stdin, stdout, stderr, streamed).

        Over a unix socket docker-py hands back a SocketIO wrapper; select() and recv()
        want the socket itself. Over TLS and SSH it is already the socket or channel.
        """
        handle = call(lambda: self.client.attach_socket(container, params=dict(ATTACH_PARAMS)))
        stream = hijacked_socket(handle)
        return stream

    def resize(self, container: str, rows: int, columns: int) -> None:
        call(lambda: self.client.resize(container, height=rows, width=columns))

    def published_ports(self) -> dict[int, str]:
        holders: dict[int, str] = {}
        for container in call(self.client.containers):
            name = (container.get("Names") or ["/?"])[0].lstrip("/")
            for port in container.get("Ports") or []:
                if "PublicPort" in port:
                    holders[int(port["PublicPort"])] = f"container {name}"
        return holders
