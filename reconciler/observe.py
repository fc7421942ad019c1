"""Docker → :class:`ActualState`: one label- and name-filtered snapshot per instance.

The number of API requests is constant (filters run in the engine), so a host full of
unrelated containers costs nothing extra. Names are looked up as well as labels, to spot
foreign objects that sit on one of our names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import docker
import docker.errors
import requests.exceptions
from docker.utils import kwargs_from_env

from reconciler.desired import (
    LABEL_INSTANCE,
    LABEL_MANAGED,
    LABEL_ROLE,
    LABEL_SPEC_FIELDS,
    LABEL_SPEC_HASH,
    resource_names,
)
from reconciler.errors import DockerUnavailableError, one_line
from reconciler.logs import get_logger
from reconciler.state import ActualState, Observed

CONNECT_TIMEOUT = 5
API_TIMEOUT = 60

log = get_logger()


def endpoint() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def engine_is_local() -> bool:
    """A unix socket means the engine binds host ports on this very host."""
    return endpoint().startswith("unix://")


def connect(timeout: int = CONNECT_TIMEOUT) -> docker.APIClient:
    """A low-level client; fails within ``timeout`` with the endpoint in the message."""
    where = endpoint()
    try:
        client = docker.APIClient(**kwargs_from_env(), timeout=timeout)
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as err:
        raise DockerUnavailableError(
            f"cannot reach the Docker engine at {where} ({one_line(err, 200)}); is dockerd running "
            "and is DOCKER_HOST right?"
        ) from None
    client.timeout = API_TIMEOUT
    return client


def observe(client: docker.APIClient, instance_name: str, port: int) -> ActualState:
    """Snapshot of everything that matters to instance ``{name}-{port}``."""
    instance = f"{instance_name}-{port}"
    names = resource_names(instance_name, port)
    label = f"{LABEL_INSTANCE}={instance}"
    try:
        objects = {
            *(
                _container(c, instance)
                for c in client.containers(all=True, filters={"label": label})
            ),
            *(_network(n, instance) for n in client.networks(filters={"label": label})),
            *(
                _volume(v, instance)
                for v in (client.volumes(filters={"label": label}) or {}).get("Volumes") or []
            ),
        }
        # Look up our names one by one (an inspect costs the same however many objects the
        # host has, unlike a name filter) to see foreign objects sitting on them.
        for name in (names["sidecar"], names["booth"]):
            found = _inspect(client.inspect_container, name)
            if found is not None:
                objects.add(_inspected_container(found, instance))
        network = _inspect(client.inspect_network, names["network"])
        if network is not None and network.get("Name") == names["network"]:
            objects.add(_network(network, instance))
        volume = _inspect(client.inspect_volume, names["volume"])
        if volume is not None:
            objects.add(_volume(volume, instance))
    except (docker.errors.DockerException, requests.exceptions.RequestException) as err:
        raise DockerUnavailableError(
            f"Docker engine at {endpoint()} failed: {one_line(err, 200)}"
        ) from None
    return _snapshot(objects, instance)


def _snapshot(found: set[Observed], instance: str) -> ActualState:
    """One object per (kind, id): a list entry and an inspect of the same object agree."""
    objects = list({(o.kind, o.id): o for o in sorted(found, key=_detail_first)}.values())
    objects.sort(key=lambda o: (o.kind, o.name))
    log.debug("observe.snapshot", instance=instance, objects=len(objects))
    return ActualState(tuple(objects))


def _detail_first(observed: Observed) -> tuple[int, str]:
    """Sort key that lets the entry with ports (a running container's) win a tie."""
    return (len(observed.ports), observed.name)


def _inspect(call: Callable[[str], Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    try:
        return call(name)
    except docker.errors.NotFound:
        return None


def _ownership(labels: Mapping[str, str] | None, instance: str) -> dict[str, Any]:
    labels = labels or {}
    owned = labels.get(LABEL_MANAGED) == "true" and labels.get(LABEL_INSTANCE) == instance
    if not owned:
        return {"owned": False}
    try:
        fields = json.loads(labels.get(LABEL_SPEC_FIELDS, "{}"))
    except ValueError:
        fields = {}
    return {
        "owned": True,
        "role": labels.get(LABEL_ROLE),
        "spec_hash": labels.get(LABEL_SPEC_HASH),
        "field_hashes": tuple(sorted((str(k), str(v)) for k, v in dict(fields).items())),
    }


def _container(raw: Mapping[str, Any], instance: str) -> Observed:
    name = (raw.get("Names") or ["/"])[0].lstrip("/")
    ports = tuple(
        sorted(
            f"{p.get('IP', '')}:{p['PublicPort']}:{p['PrivatePort']}/{p.get('Type', 'tcp')}"
            for p in raw.get("Ports") or []
            if "PublicPort" in p
        )
    )
    return Observed(
        "container",
        name,
        raw["Id"],
        state=raw.get("State"),
        ports=ports,
        **_ownership(raw.get("Labels"), instance),
    )


def _inspected_container(raw: Mapping[str, Any], instance: str) -> Observed:
    """The same view as :func:`_container`, from ``inspect`` output instead of a list entry."""
    bindings = (raw.get("NetworkSettings") or {}).get("Ports") or {}
    published = []
    for key, hosts in bindings.items():
        port, _, proto = key.partition("/")
        for host in hosts or []:
            if host.get("HostPort"):
                published.append(f"{host.get('HostIp', '')}:{host['HostPort']}:{port}/{proto}")
    ports = tuple(sorted(published))
    return Observed(
        "container",
        str(raw.get("Name", "/")).lstrip("/"),
        raw["Id"],
        state=(raw.get("State") or {}).get("Status"),
        ports=ports,
        **_ownership((raw.get("Config") or {}).get("Labels"), instance),
    )


def _network(raw: Mapping[str, Any], instance: str) -> Observed:
    return Observed("network", raw["Name"], raw["Id"], **_ownership(raw.get("Labels"), instance))


def _volume(raw: Mapping[str, Any], instance: str) -> Observed:
    return Observed("volume", raw["Name"], raw["Name"], **_ownership(raw.get("Labels"), instance))
