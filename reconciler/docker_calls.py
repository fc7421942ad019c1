"""Docker SDK calls the SDK's primitives make that are more than one line: errors
translated once, image builds, demultiplexed logs, the SDK's lookups. Kept apart so
``docker_engine.py`` stays a readable list of the primitives."""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol, TypeVar

import requests.exceptions

from reconciler.docker_sdk import docker
from reconciler.engine_address import EngineAddress
from reconciler.engine_seam import BuildRequest, Chunks, LogStream
from reconciler.errors import BuildError, EngineConflict, EngineError, EngineNotFound, one_line
from reconciler.model import Kind

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

    docker-py's ``logs`` joins the two streams into one: this is the same request, read
    as its ``_multiplexed_response_stream_helper`` reads it but keeping each frame's
    stream. A TTY container's log is one stream, as it arrives: all stdout. The request
    is made here, before the chunks are read; closing the stream (from any thread) shuts
    its socket, as docker-py's ``CancellableStream`` does for its own logs."""
    with translated():
        tty = bool((client.inspect_container(container).get("Config") or {}).get("Tty"))
        params = {
            "stdout": 1,
            "stderr": 1,
            "timestamps": 0,
            "follow": int(follow),
            "tail": "all" if tail is None else tail,
        }
        api: Any = client  # the SDK's request helpers, private but stable across 7.x
        response = api._get(api._url("/containers/{0}/logs", container), params=params, stream=True)
        try:
            api._raise_for_status(response)
            # A followed log may stay silent for long: no read timeout (as the SDK does).
            api._disable_socket_timeout(api._get_raw_response_socket(response))
        except BaseException:
            response.close()
            raise
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


class APIClient(docker.APIClient):
    """The SDK's client with two differences.

    requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE replace a session's own CA file on
    every request (psf/requests#3829): the engine's CA must win, as in the docker CLI.

    The engine's unversioned ``/version`` is asked once: the SDK asks it to learn the API
    version, and booth again for the engine's identity (the plan's first line), and
    dockerd answers it by asking containerd and runc for theirs.
    """

    _unversioned: dict[str, Any] | None = None

    def seed_version(self, document: Mapping[str, Any]) -> None:
        """The ``/version`` another client of this engine already asked (see above)."""
        self._unversioned = dict(document)

    def version(self, api_version: bool = True) -> dict[str, Any]:
        if api_version:
            return super().version(api_version)
        if self._unversioned is None:
            self._unversioned = super().version(api_version=False)
        return self._unversioned

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        if verify is None and isinstance(self.verify, str):
            verify = self.verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)


def _patch_ssh_close() -> None:
    """docker-py's shell-out SSH socket writes to ssh's stdin on close: after the engine
    ended a stream (every exec does) that raises BrokenPipeError. Close quietly."""
    try:
        from docker.transport.sshconn import SSHSocket
    except ImportError:  # no paramiko: ssh:// fails with its own message at connect
        return
    original = SSHSocket.close

    def close(self: Any) -> None:
        try:
            original(self)
        except OSError:
            with contextlib.suppress(OSError):
                self.proc.terminate()

    SSHSocket.close = close  # type: ignore[method-assign]


_patch_ssh_close()


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
