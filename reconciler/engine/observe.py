"""Engine API documents → :class:`Observed` values. Pure: the engine layer makes the calls.

The same object may arrive as a list entry and as an inspect result (different shapes);
both become the same view, and one object per (kind, id) is kept.

Two engines make the calls (``docker_engine`` through the SDK, ``unix_engine`` over a
local socket); :func:`collect` says once which calls a snapshot takes and hands their
documents to the parsers, so both observe alike, request for request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from reconciler.core.model import (
    LABEL_BASE_IMAGES,
    LABEL_CODE_DIR,
    LABEL_INSTANCE,
    LABEL_MANAGED,
    LABEL_PORT,
    LABEL_ROLE,
    LABEL_SPEC_FIELDS,
    LABEL_SPEC_HASH,
    ActualState,
    Kind,
    Observed,
    Role,
    is_legacy,
    is_owned,
    legacy_instance,
    legacy_names,
    resource_names,
)
from reconciler.errors import DockerUnavailableError, EngineError, one_line
from reconciler.ui.logs import get_logger

_ROLES = frozenset(r.value for r in Role)
log = get_logger()
Document = Mapping[str, Any]


class Lookups(Protocol):
    """The engine's read calls a snapshot takes; failures are :class:`EngineError`."""

    def containers(self, filters: Mapping[str, Any]) -> list[Document]:
        """``GET /containers/json``, stopped containers included."""
        ...

    def networks(self, filters: Mapping[str, Any]) -> list[Document]: ...
    def volumes(self, filters: Mapping[str, Any]) -> list[Document]:
        """The ``Volumes`` of ``GET /volumes``."""
        ...

    def inspect(self, kind: Kind, name: str) -> Document | None:
        """An inspect by name (None: the engine has no such object)."""
        ...


def collect(
    lookups: Lookups,
    name: str,
    port: int,
    image: str | None,
    where: str,
    bases: Sequence[str] = (),
) -> ActualState:
    """Everything that matters to instance ``name`` (at any port, and as an earlier booth
    labelled it at ``port``), in a constant number of
    requests: label filters run in the engine, and our names are inspected one by one
    (an inspect costs the same however many objects the host has). ``bases``: images
    whose ONBUILD triggers are wanted (one inspect each). A failed call is the engine at
    ``where`` failing: nothing can be planned without the whole snapshot."""
    try:
        state = snapshot(_gathered(lookups, name, port, image))
        triggers = tuple(_triggers(lookups, base) for base in bases if base != image)
        present = tuple((base, found) for base, found in triggers if found is not None)
    except EngineError as err:
        raise DockerUnavailableError(
            f"Docker engine at {where} failed: {one_line(err, 200)}"
        ) from None
    log.debug("observe.snapshot", instance=name, objects=len(state.objects))
    return attrs.evolve(state, base_triggers=present) if present else state


def _gathered(lookups: Lookups, name: str, port: int, tag: str | None) -> list[Observed]:
    names = resource_names(name, port)
    old = legacy_names(name, port)
    owner = Owner(name, legacy_instance(name, port))
    label = {"label": f"{LABEL_INSTANCE}={name}"}
    found: list[Observed] = [
        *(listed_container(c, owner) for c in lookups.containers(label)),
        *(network(n, owner) for n in lookups.networks(label)),
        *(volume(v, owner) for v in lookups.volumes(label)),
    ]
    # Today's names, and those an earlier booth gave (labelled by port: no label filter
    # finds them, an inspect by name does).
    for container in (names[Role.SIDECAR], names[Role.BOOTH], old[Role.BOOTH]):
        raw = lookups.inspect(Kind.CONTAINER, container)
        if raw is not None:
            found.append(inspected_container(raw, owner))
    raw = lookups.inspect(Kind.NETWORK, names[Role.NETWORK])
    # An inspect by name also matches an ID prefix: only the network of that name counts.
    if raw is not None and raw.get("Name") == names[Role.NETWORK]:
        found.append(network(raw, owner))
    for data in (names[Role.VOLUME], old[Role.VOLUME]):
        raw = lookups.inspect(Kind.VOLUME, data)
        if raw is not None:
            found.append(volume(raw, owner))
    if tag is not None:
        raw = lookups.inspect(Kind.IMAGE, tag)
        if raw is not None:
            found.append(image(raw, tag))
    return found


def _triggers(lookups: Lookups, base: str) -> tuple[str, tuple[str, ...] | None]:
    """A base image's ONBUILD triggers (None: the engine has no such image, or cannot
    look it up, as for a name it finds invalid: a walk tells what the build reads)."""
    try:
        raw = lookups.inspect(Kind.IMAGE, base)
    except EngineError:
        return base, None
    if raw is None:
        return base, None
    return base, tuple(str(t) for t in (raw.get("Config") or {}).get("OnBuild") or ())


def instances_of(lookups: Lookups, code_dir: str, name: str) -> list[int]:
    """Ports of the booth instances named ``name`` made for ``code_dir`` (``port =
    "NEXT"``), from one label-filtered list."""
    return instance_ports(lookups.containers(code_dir_filters(code_dir)), name)


# Every container booth made (``booth list``), whatever its instance or code directory.
MANAGED_FILTER = {"label": [f"{LABEL_MANAGED}=true"]}


def code_dir_filters(code_dir: str) -> dict[str, list[str]]:
    """The label filter of booths made for ``code_dir`` (``port = "NEXT"``)."""
    labels = [f"{LABEL_MANAGED}=true", f"{LABEL_ROLE}=booth", f"{LABEL_CODE_DIR}={code_dir}"]
    return {"label": labels}


def instance_ports(containers: Iterable[Document], name: str) -> list[int]:
    """The ports of the instances named ``name`` among listed booth containers (the port
    label; an earlier booth's has the port in its instance label)."""
    ports = []
    for container in containers:
        labels = container.get("Labels") or {}
        instance = labels.get(LABEL_INSTANCE, "")
        if LABEL_PORT in labels:
            port = labels[LABEL_PORT] if instance == name else ""
        else:
            prefix, _, port = instance.rpartition("-")
            port = port if prefix == name else ""
        if port.isascii() and port.isdigit():
            ports.append(int(port))
    return sorted(ports)


def snapshot(found: Iterable[Observed]) -> ActualState:
    """One object per (kind, id): a list entry and an inspect of the same object agree."""
    found = list(found)
    started = {o.id: o.started_at for o in found if o.started_at}  # inspects know it
    objects = [
        attrs.evolve(o, started_at=started.get(o.id)) if o.kind == Kind.CONTAINER else o
        for o in {(o.kind, o.id): o for o in sorted(found, key=_detail_first)}.values()
    ]
    objects.sort(key=lambda o: (o.kind, o.name))
    return ActualState(tuple(objects))


def _detail_first(observed: Observed) -> tuple[int, str]:
    """Sort key that lets the entry with ports (a running container's) win a tie."""
    return (len(observed.ports), observed.name)


def _json_pairs(text: str) -> tuple[tuple[str, str], ...]:
    """A label holding a JSON object, as sorted pairs (anything else: none)."""
    try:
        value = json.loads(text)
    except ValueError:
        return ()
    return (
        tuple(sorted((str(k), str(v)) for k, v in value.items())) if isinstance(value, dict) else ()
    )


@attrs.frozen
class Owner:
    """Whose objects a snapshot looks for: the instance, and the label an earlier booth
    gave it (``None``: none to accept)."""

    instance: str
    legacy: str | None = None


def _ownership(labels: Mapping[str, str] | None, owner: Owner | str) -> dict[str, Any]:
    owner = owner if isinstance(owner, Owner) else Owner(owner)
    labels = labels or {}
    if not is_owned(labels, owner.instance, legacy=owner.legacy):
        return {"owned": False}
    role = labels.get(LABEL_ROLE, "")
    return {
        "owned": True,
        "role": Role(role) if role in _ROLES else None,
        "spec_hash": labels.get(LABEL_SPEC_HASH),
        "field_hashes": _json_pairs(labels.get(LABEL_SPEC_FIELDS, "{}")),
        "legacy": is_legacy(labels, owner.legacy),
        "code_dir": labels.get(LABEL_CODE_DIR),
    }


def listed_container(raw: Mapping[str, Any], instance: Owner | str) -> Observed:
    """A container from a list call (``GET /containers/json``)."""
    name = (raw.get("Names") or ["/"])[0].lstrip("/")
    ports = tuple(
        sorted(
            f"{p.get('IP', '')}:{p['PublicPort']}:{p['PrivatePort']}/{p.get('Type', 'tcp')}"
            for p in raw.get("Ports") or []
            if "PublicPort" in p
        )
    )
    return Observed(
        Kind.CONTAINER,
        name,
        raw["Id"],
        state=raw.get("State"),
        ports=ports,
        image_id=raw.get("ImageID"),
        **_ownership(raw.get("Labels"), instance),
    )


def inspected_container(raw: Mapping[str, Any], instance: Owner | str) -> Observed:
    """The same view as :func:`listed_container`, from an inspect result."""
    bindings = (raw.get("NetworkSettings") or {}).get("Ports") or {}
    published = []
    for key, hosts in bindings.items():
        port, _, proto = key.partition("/")
        for host in hosts or []:  # Podman lists unpublished exposed ports with null
            if host.get("HostPort"):
                published.append(f"{host.get('HostIp', '')}:{host['HostPort']}:{port}/{proto}")
    return Observed(
        Kind.CONTAINER,
        str(raw.get("Name", "/")).lstrip("/"),
        raw["Id"],
        state=(raw.get("State") or {}).get("Status"),
        ports=tuple(sorted(published)),
        image_id=raw.get("Image"),
        started_at=(raw.get("State") or {}).get("StartedAt"),
        **_ownership((raw.get("Config") or {}).get("Labels"), instance),
    )


def image(raw: Mapping[str, Any], tag: str) -> Observed:
    """A built image is booth's when booth's labels say it built it, whichever instance
    did: two instances of one project share CodingBooth's tag, and its spec hash (the
    fingerprint of the build's inputs) tells whether it is the image they want."""
    labels = (raw.get("Config") or {}).get("Labels") or {}
    built_by_booth = labels.get(LABEL_MANAGED) == "true" and labels.get(LABEL_ROLE) == "image"
    ownership = _ownership(labels, str(labels.get(LABEL_INSTANCE))) if built_by_booth else {}
    bases = _json_pairs(labels.get(LABEL_BASE_IMAGES, "{}"))
    return Observed(
        Kind.IMAGE, tag, str(raw["Id"]), base_images=bases, **({"owned": False} | ownership)
    )


def network(raw: Mapping[str, Any], instance: Owner | str) -> Observed:
    return Observed(Kind.NETWORK, raw["Name"], raw["Id"], **_ownership(raw.get("Labels"), instance))


def volume(raw: Mapping[str, Any], instance: Owner | str) -> Observed:
    return Observed(
        Kind.VOLUME, raw["Name"], raw["Name"], **_ownership(raw.get("Labels"), instance)
    )
