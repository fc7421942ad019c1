"""The :class:`~reconciler.engine.Engine` over the Docker Engine API (docker SDK).

The only module that imports the SDK. Every call translates SDK and transport errors
into :class:`EngineError` values with the engine's own message on one line, so the rest
of booth handles one kind of failure.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import docker
import docker.errors
import docker.tls
import requests.exceptions

from reconciler import observe, remote
from reconciler.endpoints import Endpoint, resolve, unreachable
from reconciler.engine import EngineInfo, Stream
from reconciler.errors import (
    DockerUnavailableError,
    EngineConflict,
    EngineError,
    EngineNotFound,
    one_line,
)
from reconciler.logs import get_logger
from reconciler.model import LABEL_INSTANCE, ActualState, Observed, Role, resource_names

CONNECT_TIMEOUT = 5
API_TIMEOUT = 60
ATTACH_PARAMS = {"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
_T = TypeVar("_T")

log = get_logger()


@contextlib.contextmanager
def _translated() -> Iterator[None]:
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


def _call(function: Callable[[], _T]) -> _T:
    with _translated():
        return function()


class DockerEngine:
    """One connection to one Docker (or Docker-compatible) endpoint."""

    def __init__(self, client: docker.APIClient, where: str | Endpoint) -> None:
        self.client = client
        self._where = where if isinstance(where, Endpoint) else Endpoint(where, "DOCKER_HOST")

    @classmethod
    def connect(cls, timeout: int = CONNECT_TIMEOUT, context: str | None = None) -> DockerEngine:
        """Connect as the docker CLI would (``--context``, ``DOCKER_HOST`` and the TLS
        variables, ``DOCKER_CONTEXT``, the current context); fail within ``timeout``
        with the endpoint in the message."""
        where = resolve(context)
        try:
            client = _APIClient(**_client_kwargs(where), timeout=timeout)
        except (
            docker.errors.DockerException,
            requests.exceptions.RequestException,
            OSError,
        ) as err:
            raise DockerUnavailableError(unreachable(where, one_line(err, 200))) from None
        client.timeout = API_TIMEOUT
        return cls(client, where)

    @property
    def endpoint(self) -> str:
        """The resolved URL (a context's host, not its name): the lock's key."""
        return self._where.url

    @property
    def is_local(self) -> bool:
        return self._where.is_local

    def identity(self) -> EngineInfo:
        version = _call(self.client.version)
        components = {c.get("Name", ""): c for c in version.get("Components") or []}
        kind = "podman" if "Podman Engine" in components else "docker"
        return EngineInfo(
            kind=kind,
            version=str(version.get("Version", "?")),
            api_version=str(version.get("ApiVersion", "?")),
            endpoint=self._where.url,
            local=self.is_local,
            transport=self._where.transport,
            source=self._where.source,
        )

    def observe(self, name: str, port: int) -> ActualState:
        """Everything that matters to instance ``{name}-{port}``, in a constant number of
        requests: label filters run in the engine, and our names are inspected one by one
        (an inspect costs the same however many objects the host has)."""
        names = resource_names(name, port)
        instance = names[Role.BOOTH]
        label = {"label": f"{LABEL_INSTANCE}={instance}"}
        client = self.client
        try:
            found: list[Observed] = [
                *(
                    observe.listed_container(c, instance)
                    for c in client.containers(all=True, filters=label)
                ),
                *(observe.network(n, instance) for n in client.networks(filters=label)),
                *(
                    observe.volume(v, instance)
                    for v in (client.volumes(filters=label) or {}).get("Volumes") or []
                ),
            ]
            for role in (Role.SIDECAR, Role.BOOTH):
                raw = _inspect(client.inspect_container, names[role])
                if raw is not None:
                    found.append(observe.inspected_container(raw, instance))
            raw = _inspect(client.inspect_network, names[Role.NETWORK])
            if raw is not None and raw.get("Name") == names[Role.NETWORK]:
                found.append(observe.network(raw, instance))
            raw = _inspect(client.inspect_volume, names[Role.VOLUME])
            if raw is not None:
                found.append(observe.volume(raw, instance))
        except (docker.errors.DockerException, requests.exceptions.RequestException) as err:
            raise DockerUnavailableError(
                f"Docker engine at {self.endpoint} failed: {one_line(err, 200)}"
            ) from None
        state = observe.snapshot(found)
        log.debug("observe.snapshot", instance=instance, objects=len(state.objects))
        return state

    # -- images ----------------------------------------------------------------------------

    def image_present(self, image: str) -> bool:
        try:
            _call(lambda: self.client.inspect_image(image))  # type: ignore[no-untyped-call]
        except EngineNotFound:
            return False
        return True

    def pull(self, image: str, on_event: Callable[[Mapping[str, Any]], None]) -> None:
        repository, tag = split_image(image)
        with _translated():
            for event in self.client.pull(repository, tag=tag, stream=True, decode=True):
                if "error" in event:
                    raise EngineError(str(event["error"]))
                on_event(event)

    # -- networks and volumes ---------------------------------------------------------------

    def create_network(self, name: str, driver: str, labels: Mapping[str, str]) -> None:
        _call(
            lambda: self.client.create_network(
                name, driver=driver, labels=dict(labels), check_duplicate=True
            )
        )

    def network(self, name: str) -> tuple[str, Mapping[str, str]]:
        raw = _call(lambda: self.client.inspect_network(name))
        return raw["Id"], raw.get("Labels") or {}

    def remove_network(self, network_id: str) -> None:
        _call(lambda: self.client.remove_network(network_id))

    def create_volume(self, name: str, driver: str, labels: Mapping[str, str]) -> Mapping[str, str]:
        # Creating an existing volume returns it unchanged: the caller checks the labels.
        raw = _call(lambda: self.client.create_volume(name, driver=driver, labels=dict(labels)))
        return raw.get("Labels") or {}

    def volume_labels(self, name: str) -> Mapping[str, str]:
        return _call(lambda: self.client.inspect_volume(name)).get("Labels") or {}

    def remove_volume(self, name: str) -> None:
        _call(lambda: self.client.remove_volume(name))

    # -- containers ---------------------------------------------------------------------------

    def create_container(self, name: str, config: Mapping[str, Any]) -> str:
        sent = remote.code_dir_as_mount(config)
        try:
            created = _call(
                lambda: self.client.create_container_from_config(sent, name=name)  # type: ignore[no-untyped-call]
            )
        except EngineError as err:
            raise self._bind_error(err) from None
        return str(created["Id"])

    def _bind_error(self, err: EngineError) -> EngineError:
        path = remote.missing_bind(str(err))
        message = path and remote.missing_bind_message(path, self._where.host, self.is_local)
        return EngineError(message) if message else err

    def missing_bind_source(self, image: str, source: str) -> str | None:
        probe = {
            "Image": image,
            "Cmd": ["true"],
            "Labels": {"io.codingbooth.probe": "bind-source"},
            "HostConfig": {"Mounts": [{"Type": "bind", "Source": source, "Target": "/probe"}]},
        }
        try:
            created = _call(lambda: self.client.create_container_from_config(probe, name=None))  # type: ignore[no-untyped-call]
        except EngineError as err:
            translated = self._bind_error(err)
            return str(translated) if translated is not err else None
        with contextlib.suppress(EngineError):
            self.remove_container(str(created["Id"]))
        return None

    def container(self, name: str) -> tuple[str, Mapping[str, str]]:
        raw = _call(lambda: self.client.inspect_container(name))
        return raw["Id"], (raw.get("Config") or {}).get("Labels") or {}

    def container_state(self, container: str) -> Mapping[str, Any]:
        state: Mapping[str, Any] = _call(lambda: self.client.inspect_container(container))["State"]
        return state

    def start(self, container: str) -> None:
        _call(lambda: self.client.start(container))

    def restart(self, container: str, timeout: int) -> None:
        _call(lambda: self.client.restart(container, timeout=timeout))

    def stop(self, container: str, timeout: int) -> None:
        _call(lambda: self.client.stop(container, timeout=timeout))

    def remove_container(self, container: str) -> None:
        _call(lambda: self.client.remove_container(container, v=True, force=True))

    def exec_output(self, container: str, command: list[str]) -> tuple[int | None, str]:
        with _translated():
            exec_id = self.client.exec_create(container, command, stdout=True, stderr=True)
            output = self.client.exec_start(exec_id["Id"]).decode(errors="replace")
            exit_code = self.client.exec_inspect(exec_id["Id"]).get("ExitCode")
        return exit_code, output

    def logs(self, container: str, tail: int) -> str:
        raw = _call(lambda: self.client.logs(container, tail=tail))
        return bytes(raw).decode(errors="replace")

    def follow_logs(self, container: str) -> Iterator[bytes]:
        with _translated():
            yield from self.client.logs(
                container, stdout=True, stderr=True, stream=True, follow=True
            )

    def log_stream(self, container: str, *, follow: bool, tail: int | None) -> Iterator[bytes]:
        with _translated():
            yield from self.client.logs(
                container,
                stdout=True,
                stderr=True,
                stream=True,
                follow=follow,
                tail="all" if tail is None else tail,
            )

    def exec_attached(self, container: str, command: list[str]) -> tuple[str, Stream]:
        with _translated():
            exec_id = self.client.exec_create(
                container, command, stdin=True, tty=True, stdout=True, stderr=True
            )["Id"]
            handle: Any = self.client.exec_start(exec_id, tty=True, socket=True)
        stream: Stream = getattr(handle, "_sock", handle)
        return str(exec_id), stream

    def exec_streamed(
        self, container: str, command: list[str]
    ) -> tuple[str, Iterator[tuple[bytes | None, bytes | None]]]:
        with _translated():
            exec_id = self.client.exec_create(container, command, stdout=True, stderr=True)["Id"]
            chunks = self.client.exec_start(exec_id, stream=True, demux=True)
        return str(exec_id), _translated_iter(chunks)

    def exec_exit_code(self, exec_id: str) -> int | None:
        code = _call(lambda: self.client.exec_inspect(exec_id)).get("ExitCode")
        return None if code is None else int(code)

    def exec_resize(self, exec_id: str, rows: int, columns: int) -> None:
        _call(lambda: self.client.exec_resize(exec_id, height=rows, width=columns))

    def info(self) -> Mapping[str, Any]:
        info: Mapping[str, Any] = _call(self.client.info)
        return info

    def privileged_allowed(self) -> bool | None:
        info = self.info()
        options = " ".join(info.get("SecurityOptions") or [])
        # Rootless engines (Docker or Podman) cannot give a container the host's privileges.
        return False if "rootless" in options else None

    def wait(self, container: str) -> int:
        return int(_call(lambda: self.client.wait(container, timeout=None))["StatusCode"])

    def attach(self, container: str) -> Stream:
        """Open the container's attach connection (stdin, stdout, stderr, streamed).

        Over a unix socket docker-py hands back a SocketIO wrapper; select() and recv()
        want the socket itself. Over TLS and SSH it is already the socket or channel.
        """
        handle = _call(lambda: self.client.attach_socket(container, params=dict(ATTACH_PARAMS)))
        stream: Stream = getattr(handle, "_sock", handle)
        return stream

    def resize(self, container: str, rows: int, columns: int) -> None:
        _call(lambda: self.client.resize(container, height=rows, width=columns))

    def published_ports(self) -> dict[int, str]:
        holders: dict[int, str] = {}
        for container in _call(self.client.containers):
            name = (container.get("Names") or ["/?"])[0].lstrip("/")
            for port in container.get("Ports") or []:
                if "PublicPort" in port:
                    holders[int(port["PublicPort"])] = f"container {name}"
        return holders


class _APIClient(docker.APIClient):
    """requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE replace a session's own CA file on
    every request (psf/requests#3829): the engine's CA must win, as in the docker CLI."""

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


def _client_kwargs(where: Endpoint) -> dict[str, Any]:
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


def _translated_iter(
    chunks: Iterator[tuple[bytes | None, bytes | None]],
) -> Iterator[tuple[bytes | None, bytes | None]]:
    with _translated():
        yield from chunks


def _inspect(call: Callable[[str], Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    try:
        return call(name)
    except docker.errors.NotFound:
        return None


def split_image(image: str) -> tuple[str, str | None]:
    """``repo[:tag]`` → (repository, tag) as the pull API wants them; digests stay whole."""
    if "@" in image:
        return image, None
    repository, _, tag = image.rpartition(":")
    if repository and "/" not in tag:
        return repository, tag
    return image, "latest"
