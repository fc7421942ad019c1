"""The engine over the Docker Engine API through the docker SDK: its primitives
(:class:`SdkPrimitives`) and its lookups (``docker_calls.SdkLookups``), composed into an
:class:`~reconciler.engine.engine.Engine` by :func:`at`.

The only module that imports the SDK (with ``engine/docker/calls.py``). Every call translates
SDK and transport errors into :class:`EngineError` values with the engine's own message
on one line, so the rest of booth handles one kind of failure. What differs from the
other engines is only here: how the SDK is connected (TLS, its SSH transport, the
``/version`` another client already asked) and what it hands back for a stream (a
``SocketIO`` wrapper over a unix socket: the socket itself is taken out of it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import requests.exceptions

from reconciler.engine.address import EngineAddress, resolve, unreachable
from reconciler.engine.docker.calls import (
    SdkLookups,
    build_image,
    call,
    client_kwargs,
    demuxed_logs,
    translated,
    translated_iter,
)
from reconciler.engine.docker.private import APIClient, hijacked_socket
from reconciler.engine.docker.sdk import docker
from reconciler.engine.engine import Engine
from reconciler.engine.seam import (
    API_TIMEOUT,
    CONNECT_TIMEOUT,
    BuildRequest,
    Chunks,
    LogStream,
    Stream,
)
from reconciler.errors import DockerUnavailableError

ATTACH_PARAMS = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}


def connect(timeout: int = CONNECT_TIMEOUT, context: str | None = None) -> Engine:
    """Connect as the docker CLI would (``--context``, ``DOCKER_HOST`` and the TLS
    variables, ``DOCKER_CONTEXT``, the current context); fail within ``timeout``
    with the address in the message."""
    return at(resolve(context), timeout)


def at(where: EngineAddress, timeout: int = CONNECT_TIMEOUT) -> Engine:
    """The SDK's engine at a resolved address: its lookups and its primitives share one
    client (one connection pool)."""
    primitives = SdkPrimitives.at(where, timeout)
    return Engine(where, SdkLookups(primitives.client), lambda: primitives)


class SdkPrimitives:
    """The primitives through one SDK client."""

    def __init__(self, client: docker.APIClient) -> None:
        self.client = client

    @classmethod
    def at(
        cls,
        where: EngineAddress,
        timeout: int = CONNECT_TIMEOUT,
        version: Mapping[str, Any] | None = None,
        via: str | None = None,
    ) -> SdkPrimitives:
        """Connect to a resolved address. ``version``: the engine's ``/version``, already
        asked (by ``unix_engine``): the SDK then takes its API version from it instead of
        asking again. ``via``: the ``unix://`` socket that reaches ``where`` (an SSH
        tunnel's), ``where`` still naming the engine."""
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
        return cls(client)

    def version(self) -> Mapping[str, Any]:
        return call(lambda: self.client.version(api_version=False))

    def info(self) -> Mapping[str, Any]:
        info: Mapping[str, Any] = call(self.client.info)
        return info

    def close(self) -> None:
        self.client.close()

    def build(self, request: BuildRequest, on_line: Callable[[str], None]) -> str:
        return build_image(self.client, request, on_line)

    def pull(self, repository: str, tag: str | None) -> Iterator[Mapping[str, Any]]:
        with translated():
            yield from self.client.pull(repository, tag=tag, stream=True, decode=True)

    def create_network(self, name: str, driver: str, labels: Mapping[str, str]) -> None:
        call(
            lambda: self.client.create_network(
                name, driver=driver, labels=dict(labels), check_duplicate=True
            )
        )

    def remove_network(self, network_id: str) -> None:
        call(lambda: self.client.remove_network(network_id))

    def create_volume(self, name: str, driver: str, labels: Mapping[str, str]) -> Mapping[str, Any]:
        return call(lambda: self.client.create_volume(name, driver=driver, labels=dict(labels)))

    def remove_volume(self, name: str) -> None:
        call(lambda: self.client.remove_volume(name))

    def create_container(self, name: str | None, config: Mapping[str, Any]) -> str:
        created = call(
            lambda: self.client.create_container_from_config(config, name=name)  # type: ignore[no-untyped-call]
        )
        return str(created["Id"])

    def start(self, container: str) -> None:
        call(lambda: self.client.start(container))

    def restart(self, container: str, timeout: int) -> None:
        call(lambda: self.client.restart(container, timeout=timeout))

    def stop(self, container: str, timeout: int) -> None:
        call(lambda: self.client.stop(container, timeout=timeout))

    def kill(self, container: str, signal: str) -> None:
        call(lambda: self.client.kill(container, signal=signal))

    def remove_container(self, container: str) -> None:
        call(lambda: self.client.remove_container(container, v=True, force=True))

    def wait(self, container: str, timeout: int | None = None) -> int:
        answer = call(lambda: self.client.wait(container, timeout=timeout, condition="not-running"))
        return int(answer["StatusCode"])

    def put_archive(self, container: str, path: str, data: bytes) -> None:
        call(lambda: self.client.put_archive(container, path, data))

    def get_archive(self, container: str, path: str) -> bytes:
        with translated():
            stream, _ = self.client.get_archive(container, path)
            return b"".join(stream)

    def log_stream(self, container: str, *, follow: bool, tail: int | None) -> LogStream:
        return demuxed_logs(self.client, container, follow=follow, tail=tail)

    def exec_create(self, container: str, command: list[str], *, stdin: bool, tty: bool) -> str:
        created = call(
            lambda: self.client.exec_create(
                container, command, stdin=stdin, tty=tty, stdout=True, stderr=True
            )
        )
        return str(created["Id"])

    def exec_start(self, exec_id: str, *, tty: bool) -> Stream:
        handle: Any = call(lambda: self.client.exec_start(exec_id, tty=tty, socket=True))
        return hijacked_socket(handle)

    def exec_stream(self, exec_id: str) -> Chunks:
        chunks = call(lambda: self.client.exec_start(exec_id, stream=True, demux=True))
        return translated_iter(chunks)

    def exec_inspect(self, exec_id: str) -> Mapping[str, Any]:
        return call(lambda: self.client.exec_inspect(exec_id))

    def exec_resize(self, exec_id: str, rows: int, columns: int) -> None:
        call(lambda: self.client.exec_resize(exec_id, height=rows, width=columns))

    def attach(self, container: str) -> Stream:
        handle = call(lambda: self.client.attach_socket(container, params=dict(ATTACH_PARAMS)))
        return hijacked_socket(handle)

    def resize(self, container: str, rows: int, columns: int) -> None:
        call(lambda: self.client.resize(container, height=rows, width=columns))
