"""The objects of :mod:`reconciler.engine.memory.engine` and the Engine API documents they show.

Kept apart from the engine's operations so each stays readable: here are the objects,
how the engine finds one by a reference (name, ID or unique ID prefix, as Docker
resolves them), how its list filters match (Docker's ``label`` and ``name`` filters),
how host ports are allocated at start, and the shapes of the list and inspect
documents booth reads (``engine/observe.py`` parses exactly these shapes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from reconciler.core.volumes import BINDS, split_volume
from reconciler.errors import EngineConflict, EngineError, EngineNotFound, RunArgError

# Docker's own rule for container names (``daemon/names``: validContainerNamePattern).
VALID_NAME = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")
# Where Docker picks an ephemeral host port (``/proc/sys/net/ipv4/ip_local_port_range``
# as dockerd reads it, bounded by its own default 49153-65535).
EPHEMERAL_PORTS = range(49153, 65536)
WILDCARDS = frozenset({"", "0.0.0.0", "::"})
# The states in which a container holds its network namespace and its ports.
LIVE = frozenset({"running", "paused", "restarting"})


@attrs.define
class Container:
    id: str
    name: str
    config: dict[str, Any]
    image_id: str
    status: str = "created"
    exit_code: int = 0
    # (host ip, host port, "80/tcp") while it runs: what it holds on the host.
    bound: list[tuple[str, int, str]] = attrs.field(factory=list)
    files: dict[str, bytes] = attrs.field(factory=dict)
    log: list[str] = attrs.field(factory=list)
    starts: int = 0
    started_at: str = "0001-01-01T00:00:00Z"  # Docker's zero time until it starts
    # The network namespace it runs in: (the ID of the container that made it, that
    # container's start count). A namespace dies with its maker's process, so a joiner
    # whose target was restarted runs in a dead one (no API call shows it; booth must
    # restart the joiner, and ``MemoryEngine.in_live_namespace`` tells a test).
    namespace: tuple[str, int] | None = None

    @property
    def host(self) -> dict[str, Any]:
        host: dict[str, Any] = self.config.setdefault("HostConfig", {})
        return host

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.config.get("Labels") or {})

    @property
    def live(self) -> bool:
        return self.status in LIVE

    @property
    def network_mode(self) -> str:
        return str(self.host.get("NetworkMode") or "default")

    def volumes(self) -> list[str]:
        """The named volumes it mounts (``Binds`` ``name:/path`` and ``Mounts``)."""
        try:
            binds = [split_volume(b, BINDS) for b in self.host.get("Binds") or []]
        except RunArgError as err:  # the daemon's ParseMountRaw refuses it at create
            raise EngineError(f"invalid volume specification: {err}") from None
        named = [str(b.source) for b in binds if b.source is not None and not b.is_bind]
        named += [
            str(m.get("Source"))
            for m in self.host.get("Mounts") or []
            if m.get("Type", "volume") == "volume" and m.get("Source")
        ]
        return named


@attrs.define
class Network:
    id: str
    name: str
    driver: str
    labels: dict[str, str]


@attrs.define
class Volume:
    name: str
    driver: str
    labels: dict[str, str]


@attrs.define
class Image:
    id: str
    labels: dict[str, str] = attrs.field(factory=dict)
    on_build: tuple[str, ...] = ()


def find(objects: Mapping[str, Any], ref: str, what: str) -> Any:
    """The object ``ref`` names among ``objects`` (by ID): its name, its ID, or a prefix
    of one ID only, as Docker resolves a reference; 404 otherwise."""
    ref = ref.removeprefix("/") if what == "container" else ref
    by_name = [o for o in objects.values() if o.name == ref]
    if by_name:
        return by_name[0]
    if ref in objects:
        return objects[ref]
    prefixed = [o for key, o in objects.items() if ref and key.startswith(ref)]
    if len(prefixed) > 1:
        raise EngineError(f"multiple IDs found with provided prefix: {ref}")
    if not prefixed:
        missing = f"No such container: {ref}" if what == "container" else f"{what} {ref} not found"
        raise EngineNotFound(missing)
    return prefixed[0]


def check_filters(filters: Mapping[str, Any], allowed: Iterable[str]) -> dict[str, list[str]]:
    """Filters as lists of values; a key the engine does not know is its 400."""
    wanted = {k: list(v) if isinstance(v, list | tuple) else [str(v)] for k, v in filters.items()}
    for key in wanted:
        if key not in allowed:
            raise EngineError(f"invalid filter '{key}'")
    return wanted


def matches(filters: Mapping[str, list[str]], labels: Mapping[str, str], names: list[str]) -> bool:
    """Docker's list filters: every ``label`` value must match (``key`` or ``key=value``),
    any ``name`` value may (each one a regular expression searched in the name, as
    ``filters.Args.Match`` does; a container is tried with and without its ``/``)."""
    for item in filters.get("label", []):
        key, eq, value = item.partition("=")
        if key not in labels or (eq and labels[key] != value):
            return False
    patterns = filters.get("name", [])
    return not patterns or any(p == name or re.search(p, name) for p in patterns for name in names)


def wanted_bindings(container: Container) -> list[tuple[str, str, str]]:
    """(host ip, host port or span or "", "80/tcp") for each of ``PortBindings``; as
    Docker does, only for the ports the container exposes (``ExposedPorts``)."""
    bindings = container.host.get("PortBindings") or {}
    exposed = container.config.get("ExposedPorts") or {}
    return [
        (str(b.get("HostIp") or ""), str(b.get("HostPort") or ""), key)
        for key, hosts in sorted(bindings.items())
        if key in exposed
        for b in hosts or []
    ]


def allocate(container: Container, held: list[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
    """The host ports ``container`` binds when it starts, or the engine's error when one
    is held (same address: "port is already allocated"; a wildcard over a specific one
    or the reverse: the userland proxy's "address already in use")."""
    bound: list[tuple[str, int, str]] = []
    for ip, span, key in wanted_bindings(container):
        proto = key.partition("/")[2] or "tcp"
        taken = [*held, *bound]
        if span and "-" not in span:
            port = int(span)
            _check_free(ip, port, proto, taken)
        else:
            low, _, high = span.partition("-")
            candidates = range(int(low), int(high or low) + 1) if low else EPHEMERAL_PORTS
            port = next((p for p in candidates if _free(ip, p, proto, taken)), 0)
            if not port:
                raise EngineError(f"Bind for {ip or '0.0.0.0'}:{span} failed: no free port")
        bound.append((ip or "0.0.0.0", port, key))
    return bound


def _clash(ip: str, port: int, proto: str, held: tuple[str, int, str]) -> str | None:
    other_ip, other_port, other_key = held
    if other_port != port or (other_key.partition("/")[2] or "tcp") != proto:
        return None
    ip = ip or "0.0.0.0"
    if ip == other_ip:
        return f"Bind for {ip}:{port} failed: port is already allocated"
    if ip in WILDCARDS or other_ip in WILDCARDS:
        family = "tcp6" if ":" in ip else "tcp4"
        return (
            f"Error starting userland proxy: listen {family} {ip}:{port}: bind: "
            "address already in use"
        )
    return None


def _free(ip: str, port: int, proto: str, held: list[tuple[str, int, str]]) -> bool:
    return all(_clash(ip, port, proto, h) is None for h in held)


def _check_free(ip: str, port: int, proto: str, held: list[tuple[str, int, str]]) -> None:
    for other in held:
        clash = _clash(ip, port, proto, other)
        if clash:
            raise EngineError(f"driver failed programming external connectivity: {clash}")


def container_state(c: Container) -> dict[str, Any]:
    return {
        "Status": c.status,
        "Running": c.status in ("running", "paused", "restarting"),
        "Paused": c.status == "paused",
        "Restarting": c.status == "restarting",
        "Dead": c.status == "dead",
        "ExitCode": c.exit_code,
        "StartedAt": c.started_at,
    }


def listed_container(c: Container, image: str) -> dict[str, Any]:
    """A ``GET /containers/json`` entry: ports only while the container holds them."""
    return {
        "Id": c.id,
        "Names": [f"/{c.name}"],
        "Image": image,
        "ImageID": c.image_id,
        "Command": " ".join(c.config.get("Cmd") or []),
        "State": c.status,
        "Labels": c.labels,
        "Ports": [
            {"IP": ip, "PrivatePort": int(key.partition("/")[0]), "PublicPort": port}
            | {"Type": key.partition("/")[2] or "tcp"}
            for ip, port, key in c.bound
        ],
        "HostConfig": {"NetworkMode": c.network_mode},
    }


def inspected_container(c: Container) -> dict[str, Any]:
    """``GET /containers/{id}/json``: the config as created, the state, and the ports
    it publishes while it holds them (``NetworkSettings.Ports``)."""
    ports: dict[str, list[dict[str, str]]] = {}
    for ip, port, key in c.bound:
        ports.setdefault(key, []).append({"HostIp": ip, "HostPort": str(port)})
    config = {k: v for k, v in c.config.items() if k != "HostConfig"}
    return {
        "Id": c.id,
        "Name": f"/{c.name}",
        "Image": c.image_id,
        "State": container_state(c),
        "Config": {**config, "Labels": c.labels},
        "HostConfig": dict(c.host),
        "NetworkSettings": {"Ports": ports},
    }


def network_document(n: Network, endpoints: Iterable[Container]) -> dict[str, Any]:
    return {
        "Name": n.name,
        "Id": n.id,
        "Driver": n.driver,
        "Labels": dict(n.labels),
        "Containers": {c.id: {"Name": c.name} for c in endpoints},
    }


def volume_document(v: Volume) -> dict[str, Any]:
    return {
        "Name": v.name,
        "Driver": v.driver,
        "Labels": dict(v.labels),
        "Mountpoint": f"/var/lib/docker/volumes/{v.name}/_data",
        "Scope": "local",
    }


def image_document(name: str, i: Image) -> dict[str, Any]:
    return {
        "Id": i.id,
        "RepoTags": [name],
        "Config": {"Labels": dict(i.labels), "OnBuild": list(i.on_build) or None},
    }


def not_running(c: Container) -> EngineConflict:
    return EngineConflict(f"Container {c.id} is not running")
