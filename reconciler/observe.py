"""Engine API documents → :class:`Observed` values. Pure: the engine layer makes the calls.

The same object may arrive as a list entry and as an inspect result (different shapes);
both become the same view, and one object per (kind, id) is kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.model import (
    LABEL_BASE_IMAGES,
    LABEL_INSTANCE,
    LABEL_MANAGED,
    LABEL_ROLE,
    LABEL_SPEC_FIELDS,
    LABEL_SPEC_HASH,
    ActualState,
    Kind,
    Observed,
    Role,
    is_owned,
)

_ROLES = frozenset(r.value for r in Role)


def snapshot(found: Iterable[Observed]) -> ActualState:
    """One object per (kind, id): a list entry and an inspect of the same object agree."""
    objects = list({(o.kind, o.id): o for o in sorted(found, key=_detail_first)}.values())
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


def _ownership(labels: Mapping[str, str] | None, instance: str) -> dict[str, Any]:
    labels = labels or {}
    if not is_owned(labels, instance):
        return {"owned": False}
    role = labels.get(LABEL_ROLE, "")
    return {
        "owned": True,
        "role": Role(role) if role in _ROLES else None,
        "spec_hash": labels.get(LABEL_SPEC_HASH),
        "field_hashes": _json_pairs(labels.get(LABEL_SPEC_FIELDS, "{}")),
    }


def listed_container(raw: Mapping[str, Any], instance: str) -> Observed:
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


def inspected_container(raw: Mapping[str, Any], instance: str) -> Observed:
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


def network(raw: Mapping[str, Any], instance: str) -> Observed:
    return Observed(Kind.NETWORK, raw["Name"], raw["Id"], **_ownership(raw.get("Labels"), instance))


def volume(raw: Mapping[str, Any], instance: str) -> Observed:
    return Observed(
        Kind.VOLUME, raw["Name"], raw["Name"], **_ownership(raw.get("Labels"), instance)
    )
