"""The :class:`~reconciler.engine.Engine` of a unix socket here: reads without the SDK.

A converged ``booth plan`` (and the start of every ``apply``) only reads: ``/version``,
the instance's label-filtered lists and inspects by name. On a local socket (Docker's
and Podman's alike) this engine asks them with :mod:`reconciler.unix_api`, so the Docker
SDK, requests and urllib3 are never imported for them: importing those cost more than
the plan's requests. Every other call (create, start, exec, build, pull, logs, attach,
archives ...) goes to a :class:`~reconciler.docker_engine.DockerEngine` made on its first
use, which takes the API version from the ``/version`` already asked (one per run).

The socket may also be an SSH tunnel's (``ssh_tunnel.py``): a remote engine then gets the
same clients, over one SSH connection.

The observation is :func:`observe.collect`, the very function ``DockerEngine`` runs over
the SDK: the same calls, the same parsers, the same :class:`ActualState`.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reconciler import observe
from reconciler.engine import API_TIMEOUT, CONNECT_TIMEOUT, BuildRequest, EngineInfo, Stream
from reconciler.engine_endpoint import Endpoint, unreachable
from reconciler.errors import DockerUnavailableError, EngineError, EngineNotFound
from reconciler.logs import get_logger
from reconciler.model import ActualState, Kind
from reconciler.unix_api import UnixApi, path_of

if TYPE_CHECKING:
    from reconciler.docker_engine import DockerEngine
    from reconciler.ssh_tunnel import SshTunnel

_INSPECT_PATHS = {
    Kind.CONTAINER: "/containers/{}/json",
    Kind.NETWORK: "/networks/{}",
    Kind.VOLUME: "/volumes/{}",
    Kind.IMAGE: "/images/{}/json",
}

log = get_logger()


class UnixLookups:
    """The read calls of a snapshot (:class:`observe.Lookups`) with the parameters the
    SDK sends for them, so the engine answers with the same documents."""

    def __init__(self, api: UnixApi) -> None:
        self._api = api

    def containers(self, filters: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        params = {"limit": -1, "all": 1, "size": 0, "trunc_cmd": 0, "filters": _json(filters)}
        return list(self._api.get("/containers/json", params))

    def networks(self, filters: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return list(self._api.get("/networks", {"filters": _json(filters)}))

    def volumes(self, filters: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        listed = self._api.get("/volumes", {"filters": _json(filters)})
        return list((listed or {}).get("Volumes") or [])

    def inspect(self, kind: Kind, name: str) -> Mapping[str, Any] | None:
        # Quoted as the SDK quotes a path argument ("/" and ":" kept: image names).
        path = _INSPECT_PATHS[kind].format(urllib.parse.quote(name, safe="/:"))
        try:
            found: Mapping[str, Any] = self._api.get(path)
        except EngineNotFound:
            return None
        return found


def _json(filters: Mapping[str, Any]) -> str:
    """Filters as the SDK encodes them (``docker.utils.convert_filters``)."""
    return json.dumps({k: v if isinstance(v, list) else [v] for k, v in filters.items()})


class UnixEngine:
    """One engine behind a unix socket here: reads over the socket, the rest through the
    SDK. The socket is the engine's own (``where`` is ``unix://``) or an SSH tunnel's
    (``tunnel``: ``where`` stays the ``ssh://`` URL the run names, its lock and identity)."""

    def __init__(
        self,
        api: UnixApi,
        where: Endpoint,
        version: Mapping[str, Any],
        tunnel: SshTunnel | None = None,
    ) -> None:
        self._api = api
        self._where = where
        self._version = version
        self._identity = EngineInfo.from_version(version, where)
        self._sdk: DockerEngine | None = None
        self._tunnel = tunnel

    @classmethod
    def connect(
        cls, where: Endpoint, timeout: int = CONNECT_TIMEOUT, tunnel: SshTunnel | None = None
    ) -> UnixEngine:
        """Ask ``/version`` (the API version of every later path, and the identity);
        fail within ``timeout`` with the message ``DockerEngine.connect`` gives."""
        api = UnixApi(path_of(tunnel.url if tunnel is not None else where.url), timeout)
        try:
            version = api.get("/version", versioned=False)
            api.api_version = str(version["ApiVersion"])
        except EngineError as err:
            # Worded as the SDK words it, so the message is the one DockerEngine gives.
            failed = EngineError(f"Error while fetching server API version: {err}")
            raise DockerUnavailableError(unreachable(where, str(failed))) from None
        except (KeyError, TypeError):
            detail = 'Invalid response from docker daemon: key "ApiVersion" is missing.'
            raise DockerUnavailableError(unreachable(where, detail)) from None
        api.set_timeout(API_TIMEOUT)
        return cls(api, where, version, tunnel)

    def sdk(self) -> DockerEngine:
        """The SDK's engine for everything but the reads, made on first need."""
        if self._sdk is None:
            from reconciler.docker_engine import DockerEngine

            log.debug("engine.sdk_loaded", endpoint=self.endpoint)
            via = self._tunnel.url if self._tunnel is not None else None
            self._sdk = DockerEngine.at(self._where, version=self._version, via=via)
        return self._sdk

    def close(self) -> None:
        """Close the connections, and end the SSH tunnel if there is one."""
        self._api.close()
        if self._sdk is not None:
            self._sdk.close()
        if self._tunnel is not None:
            self._tunnel.close()

    # -- served here ----------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return self._where.url

    @property
    def is_local(self) -> bool:
        return self._where.is_local

    def identity(self) -> EngineInfo:
        return self._identity

    def observe(
        self, name: str, port: int, image: str | None = None, bases: Sequence[str] = ()
    ) -> ActualState:
        return observe.collect(UnixLookups(self._api), name, port, image, self.endpoint, bases)

    def managed_containers(self) -> list[Mapping[str, Any]]:
        return UnixLookups(self._api).containers(observe.MANAGED_FILTER)

    def instances_of(self, code_dir: str, name: str) -> list[int]:
        return observe.instances_of(UnixLookups(self._api), code_dir, name)

    # -- through the SDK --------------------------------------------------------------------

    def build(self, request: BuildRequest, on_line: Callable[[str], None]) -> str:
        return self.sdk().build(request, on_line)

    def image_present(self, image: str) -> bool:
        return self.sdk().image_present(image)

    def image_id(self, image: str) -> str | None:
        return self.sdk().image_id(image)

    def pull(self, image: str, on_event: Callable[[Mapping[str, Any]], None]) -> None:
        self.sdk().pull(image, on_event)

    def create_network(self, name: str, driver: str, labels: Mapping[str, str]) -> None:
        self.sdk().create_network(name, driver, labels)

    def network(self, name: str) -> tuple[str, Mapping[str, str]]:
        return self.sdk().network(name)

    def remove_network(self, network_id: str) -> None:
        self.sdk().remove_network(network_id)

    def create_volume(self, name: str, driver: str, labels: Mapping[str, str]) -> Mapping[str, str]:
        return self.sdk().create_volume(name, driver, labels)

    def volume_labels(self, name: str) -> Mapping[str, str]:
        return self.sdk().volume_labels(name)

    def remove_volume(self, name: str) -> None:
        self.sdk().remove_volume(name)

    def create_container(self, name: str, config: Mapping[str, Any]) -> str:
        return self.sdk().create_container(name, config)

    def container(self, name: str) -> tuple[str, Mapping[str, str]]:
        return self.sdk().container(name)

    def container_state(self, container: str) -> Mapping[str, Any]:
        return self.sdk().container_state(container)

    def start(self, container: str) -> None:
        self.sdk().start(container)

    def restart(self, container: str, timeout: int) -> None:
        self.sdk().restart(container, timeout)

    def stop(self, container: str, timeout: int) -> None:
        self.sdk().stop(container, timeout)

    def stop_until_logged(self, container: str, timeout: int, line: bytes) -> None:
        self.sdk().stop_until_logged(container, timeout, line)

    def remove_container(self, container: str) -> None:
        self.sdk().remove_container(container)

    def exec_output(self, container: str, command: list[str]) -> tuple[int | None, str]:
        return self.sdk().exec_output(container, command)

    def put_files(self, container: str, files: Mapping[str, bytes]) -> None:
        self.sdk().put_files(container, files)

    def read_files(self, container: str, directory: str) -> dict[str, bytes]:
        return self.sdk().read_files(container, directory)

    def logs(self, container: str, tail: int) -> str:
        return self.sdk().logs(container, tail)

    def log_stream(
        self, container: str, *, follow: bool, tail: int | None
    ) -> Iterator[tuple[bytes | None, bytes | None]]:
        return self.sdk().log_stream(container, follow=follow, tail=tail)

    def exec_attached(self, container: str, command: list[str]) -> tuple[str, Stream]:
        return self.sdk().exec_attached(container, command)

    def exec_streamed(
        self, container: str, command: list[str]
    ) -> tuple[str, Iterator[tuple[bytes | None, bytes | None]]]:
        return self.sdk().exec_streamed(container, command)

    def exec_piped(self, container: str, command: list[str]) -> tuple[str, Stream]:
        return self.sdk().exec_piped(container, command)

    def exec_exit_code(self, exec_id: str) -> int | None:
        return self.sdk().exec_exit_code(exec_id)

    def exec_resize(self, exec_id: str, rows: int, columns: int) -> None:
        self.sdk().exec_resize(exec_id, rows, columns)

    def privileged_allowed(self) -> bool | None:
        return self.sdk().privileged_allowed()

    def info(self) -> Mapping[str, Any]:
        return self.sdk().info()

    def wait(self, container: str, timeout: int | None = None) -> int:
        return self.sdk().wait(container, timeout)

    def attach(self, container: str) -> Stream:
        return self.sdk().attach(container)

    def resize(self, container: str, rows: int, columns: int) -> None:
        self.sdk().resize(container, rows, columns)

    def published_ports(self) -> dict[int, str]:
        return self.sdk().published_ports()

    def missing_bind_source(self, image: str, source: str) -> str | None:
        return self.sdk().missing_bind_source(image, source)


if TYPE_CHECKING:
    from reconciler.engine import Engine

    _satisfies_the_protocol: type[Engine] = UnixEngine
