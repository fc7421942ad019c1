"""Docker SDK calls the SDK's primitives make that are more than one line: errors
translated once, image builds, demultiplexed logs, the SDK's lookups. Kept apart so
``engine/docker/engine.py`` stays a readable list of the primitives."""

from __future__ import annotations

import contextlib
import struct
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol, TypeVar

import requests
import requests.exceptions

from reconciler.core.model import Kind
from reconciler.engine.address import EngineAddress
from reconciler.engine.docker.sdk import docker
from reconciler.engine.seam import BuildRequest, Chunks, LogStream
from reconciler.errors import BuildError, EngineConflict, EngineError, EngineNotFound, one_line

BUILD_TAIL_LINES = 8
_T = TypeVar("_T")


@contextlib.contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except docker.errors.NotFound as err:
        raise EngineNotFound(one_line(err)) from None
    except docker.errors.APIError as err:
        if err.status_code == 409:
            raise EngineConflict(one_line(err)) from None
        raise EngineError(one_line(err)) from None
    except (docker.errors.DockerException, requests.exceptions.RequestException) as err:
        raise EngineError(one_line(err)) from None


def call(function: Callable[[], _T]) -> _T:
    with translated():
        return function()


def build_image(
    client: docker.APIClient, request: BuildRequest, on_line: Callable[[str], None]
) -> str:
    """Build ``request`` through the Engine API (docker-py sends the context, honouring
    ``.dockerignore``); the image ID, or BuildError with the build's last lines."""
    tag, dockerfile = request.tag, request.dockerfile
    lines: list[str] = []
    image_id = ""
    with translated():
        events = client.build(
            path=request.context,
            dockerfile=dockerfile,
            tag=tag,
            buildargs=dict(request.build_args),
            labels=dict(request.labels),
            rm=True,
            forcerm=True,
            pull=request.pull,
            decode=True,
        )
        for event in events:
            if "error" in event:
                tail = " | ".join(line.strip() for line in lines[-BUILD_TAIL_LINES:])
                raise BuildError(
                    f"building {tag} from {dockerfile} failed: {str(event['error']).strip()}"
                    f"; last build lines: {tail or '(none)'}"
                )
            for line in str(event.get("stream", "")).splitlines():
                if line.strip():
                    lines.append(line)
                    on_line(line)
            image_id = str((event.get("aux") or {}).get("ID", image_id))
    return image_id


def demuxed_logs(
    client: docker.APIClient, container: str, *, follow: bool, tail: int | None
) -> LogStream:
    """A container's log as (stdout, stderr) chunks, as ``docker logs`` splits it.

    docker-py's ``logs`` joins the two streams into one: this is the same request, made
    with the client's public requests API (it is a ``requests.Session``), read frame by
    frame keeping each frame's stream. A TTY container's log is one stream, as it
    arrives: all stdout. The request is made here, before the chunks are read; closing
    the stream (from any thread) shuts its socket, as docker-py's ``CancellableStream``
    does for its own logs."""
    with translated():
        tty = bool((client.inspect_container(container).get("Config") or {}).get("Tty"))
        params = {
            "stdout": 1,
            "stderr": 1,
            "timestamps": 0,
            "follow": int(follow),
            "tail": "all" if tail is None else tail,
        }
        response = _log_request(client, container, params)
    stream: LogStream = docker.types.CancellableStream(_chunks(response, tty), response)
    return stream


def _chunks(response: Any, tty: bool) -> Chunks:
    with translated():
        try:
            if tty:
                yield from ((data, None) for data in response.iter_content(None) if data)
            else:
                yield from log_frames(response.raw)
        finally:
            # A log read to its end has given its connection back to the pool already;
            # one left early is closed, and not given back (requests' own close would
            # pool the dead connection, and the next request would pay a new handshake).
            response.raw.close()


def _log_request(
    client: docker.APIClient, container: str, params: Mapping[str, Any]
) -> requests.Response:
    """``GET /containers/{id}/logs`` as the SDK's ``logs`` sends it: the API version in the
    path, the id quoted, ``~/.docker/config.json``'s HttpHeaders (the SDK's exported
    ``update_headers``). A followed log may stay silent for long: no read timeout (the
    SDK removes it from the socket once the headers are in, which needs its private
    helpers; dockerd sends the headers at once, so only the connect is bounded here)."""
    path = urllib.parse.quote(container, safe="/:")
    url = f"{client.base_url}/v{client.api_version}/containers/{path}/logs"
    response = _get(client, url, params=dict(params), stream=True, timeout=(client.timeout, None))
    try:
        response.raise_for_status()
    except requests.exceptions.HTTPError as err:
        try:
            docker.errors.create_api_error_from_http_exception(err)  # raises the SDK's error
        finally:
            response.close()
    return response


@docker.utils.update_headers
def _get(client: docker.APIClient, url: str, **kwargs: Any) -> requests.Response:
    return client.get(url, **kwargs)


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


_FRAME_HEADER = struct.Struct(">BxxxL")  # stream (1 stdout, 2 stderr), 3 bytes, length
_STDERR = 2


def log_frames(raw: _Readable) -> Iterator[tuple[bytes | None, bytes | None]]:
    """The Engine API's multiplexed stream as (stdout, stderr) chunks: each frame is an
    8-byte header (stream, length) and its payload."""
    while len(header := raw.read(_FRAME_HEADER.size)) == _FRAME_HEADER.size:
        stream, length = _FRAME_HEADER.unpack(header)
        data = raw.read(length) if length else b""
        if length and not data:
            return
        if data:
            yield (None, data) if stream == _STDERR else (data, None)


def translated_iter(
    chunks: Iterator[tuple[bytes | None, bytes | None]],
) -> Iterator[tuple[bytes | None, bytes | None]]:
    with translated():
        yield from chunks


class SdkLookups:
    """The read calls of a snapshot (:class:`observe.Lookups`) through the SDK."""

    def __init__(self, client: docker.APIClient) -> None:
        self._client = client
        self._inspects: dict[Kind, Callable[[str], Mapping[str, Any]]] = {
            Kind.CONTAINER: client.inspect_container,
            Kind.NETWORK: client.inspect_network,
            Kind.VOLUME: client.inspect_volume,
            Kind.IMAGE: client.inspect_image,
        }

    def containers(self, filters: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return call(lambda: self._client.containers(all=True, filters=dict(filters)))

    def networks(self, filters: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return call(lambda: self._client.networks(filters=dict(filters)))

    def volumes(self, filters: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        listed = call(lambda: self._client.volumes(filters=dict(filters)))
        return list((listed or {}).get("Volumes") or [])

    def inspect(self, kind: Kind, name: str) -> Mapping[str, Any] | None:
        try:
            return call(lambda: self._inspects[kind](name))
        except EngineNotFound:
            return None


def client_kwargs(where: EngineAddress) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"base_url": where.url}
    if where.scheme == "ssh":
        # The system ssh, as the docker CLI: ~/.ssh/config, the agent, known_hosts and
        # ProxyJump apply unchanged (docker-py's own transport still imports paramiko).
        kwargs["use_ssh_client"] = True
    if where.tls is not None:
        client_cert = (where.tls.cert, where.tls.key) if where.tls.cert and where.tls.key else None
        kwargs["tls"] = docker.tls.TLSConfig(
            client_cert=client_cert, ca_cert=where.tls.ca, verify=where.tls.verify
        )
    return kwargs
