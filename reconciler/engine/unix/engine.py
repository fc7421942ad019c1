"""The :class:`~reconciler.engine.engine.Engine` of a unix socket here: reads without the SDK.

A converged ``booth plan`` (and the start of every ``apply``) only reads: ``/version``,
the instance's label-filtered lists and inspects by name. On a local socket (Docker's
and Podman's alike) this engine asks every lookup with :mod:`reconciler.engine.unix.api`, so the
Docker SDK, requests and urllib3 are never imported for them: importing those cost more
than the plan's requests. The engine is a composition, not a class of its own: these
lookups and the SDK's primitives (create, start, exec, build, pull, logs, attach,
archives ...: ``docker_engine.SdkPrimitives``), made on the first write, which take the
API version from the ``/version`` already asked (one per run).

The socket may also be an SSH tunnel's (``engine/ssh_tunnel.py``): a remote engine then gets the
same clients, over one SSH connection.

The observation is :func:`observe.collect`, the very function the SDK's engine runs: the
same calls, the same parsers, the same :class:`ActualState`.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reconciler.core.model import Kind
from reconciler.engine.address import EngineAddress, unreachable
from reconciler.engine.engine import Engine
from reconciler.engine.seam import API_TIMEOUT, CONNECT_TIMEOUT, Primitives
from reconciler.engine.unix.api import UnixApi, path_of
from reconciler.errors import DockerUnavailableError, EngineError, EngineNotFound
from reconciler.ui.logs import get_logger

if TYPE_CHECKING:
    from reconciler.engine.ssh_tunnel import SshTunnel

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


def connect(
    where: EngineAddress, timeout: int = CONNECT_TIMEOUT, tunnel: SshTunnel | None = None
) -> Engine:
    """The engine behind a unix socket here: its own (``where`` is ``unix://``) or an SSH
    tunnel's (``tunnel``: ``where`` stays the ``ssh://`` URL the run names, its lock and
    identity). Asks ``/version`` (the API version of every later path, and the
    identity); fails within ``timeout`` with the message the SDK's engine gives."""
    api = UnixApi(path_of(tunnel.url if tunnel is not None else where.url), timeout)
    try:
        version = api.get("/version", versioned=False)
        api.api_version = str(version["ApiVersion"])
    except EngineError as err:
        # Worded as the SDK words it, so the message is the one docker_engine gives.
        failed = EngineError(f"Error while fetching server API version: {err}")
        raise DockerUnavailableError(unreachable(where, str(failed))) from None
    except (KeyError, TypeError):
        detail = 'Invalid response from docker daemon: key "ApiVersion" is missing.'
        raise DockerUnavailableError(unreachable(where, detail)) from None
    api.set_timeout(API_TIMEOUT)
    closing = (api.close, tunnel.close) if tunnel is not None else (api.close,)

    def sdk() -> Primitives:
        """The SDK's primitives, made on the first write (from the same ``/version``)."""
        # Deferred: importing the SDK (requests, urllib3 ...) costs more than a plan.
        from reconciler.engine.docker.engine import SdkPrimitives

        log.debug("engine.sdk_loaded", endpoint=where.url)
        via = tunnel.url if tunnel is not None else None
        return SdkPrimitives.at(where, version=version, via=via)

    return Engine(where, UnixLookups(api), sdk, version=version, closing=closing)
