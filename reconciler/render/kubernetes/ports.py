"""The port set → a Service's ports and the port-owning container's ports.

Kubernetes has no port ranges and a Service port has one target, so this is where the
port set's Docker shapes (ranges, ephemeral host ports, host spans) are flattened.
"""

from __future__ import annotations

from typing import Any

from reconciler.core.ports import PortMapping, PortSet
from reconciler.errors import ConfigError
from reconciler.render.kubernetes.graph import ResourceLike


def check_ports(owner: ResourceLike, ports: PortSet) -> None:
    """The renderer trusts ``ports`` instead of re-parsing bindings: make sure it may."""
    host = owner.spec.get("HostConfig") or {}
    if (host.get("PortBindings") or {}) != ports.docker_bindings():
        raise ValueError(
            f"the port set does not match what {owner.name!r} publishes in the desired graph"
        )


def service_ports(ports: PortSet) -> list[dict[str, Any]]:
    """One ServicePort per (port, protocol): the host port clients use → the container port.

    Kubernetes has no port ranges, so ranges are expanded. An ephemeral host port becomes
    the container port; a pick-from-range host span becomes its first port.
    """
    by_key: dict[tuple[int, str], tuple[int, PortMapping]] = {}
    for mapping in ports.mappings:
        for unit in mapping.units():
            port = unit.container_start if unit.host_start is None else unit.host_start
            key = (port, unit.proto)
            seen = by_key.setdefault(key, (unit.container_start, unit))
            if seen[0] != unit.container_start:
                raise ConfigError(
                    f"kubernetes: port {port}/{unit.proto} is published for two container "
                    f"ports ({seen[1].canonical()} and {unit.canonical()}); a Service port "
                    "has one target"
                )
    return [
        {
            "name": f"{proto}-{port}",
            "port": port,
            "protocol": proto.upper(),
            "targetPort": target,
        }
        for (port, proto), (target, _) in sorted(by_key.items())
    ]


def container_ports(ports: PortSet) -> list[dict[str, Any]]:
    """The container ports, listed for readers and tools: a Pod's ports are all open anyway."""
    units = {(u.container_start, u.proto) for m in ports.mappings for u in m.units()}
    return [{"containerPort": p, "protocol": proto.upper()} for p, proto in sorted(units)]


__all__ = ["check_ports", "container_ports", "service_ports"]
