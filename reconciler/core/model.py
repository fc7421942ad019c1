"""The vocabulary every stage shares: roles, names, labels, resources, edges, observed state.

Imports nothing from the config or the engine layer, so the core (reconcile, plan,
render) can be read, tested and reused — by the Kubernetes renderer, by another engine —
without knowing where a graph came from or how it is applied.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from enum import StrEnum
from typing import Any

import attrs

from reconciler.core.inner_daemon import InnerListener
from reconciler.core.ports import PortSet


class Role(StrEnum):
    """What a resource is for in a booth. The values are the ``io.codingbooth.role`` label."""

    IMAGE = "image"  # the booth's image, when booth builds it from a Dockerfile
    NETWORK = "network"
    VOLUME = "volume"
    SIDECAR = "sidecar"
    BOOTH = "booth"


class Kind(StrEnum):
    """The engine object type behind a role."""

    IMAGE = "image"
    NETWORK = "network"
    VOLUME = "volume"
    CONTAINER = "container"


class EdgeKind(StrEnum):
    """How ``dst`` depends on ``src``.

    ``netns``: dst runs in src's network namespace (replacing src replaces dst, starting
    src restarts dst, dst starts only once src's daemon answers); ``attach``: dst is
    attached to network src (replacing src replaces dst); ``mount``: dst mounts volume
    src (plain ordering, never cascades: the volume holds data); ``build``: dst runs the
    image src builds (a rebuilt image replaces the container that runs the old one).
    """

    NETNS = "netns"
    ATTACH = "attach"
    MOUNT = "mount"
    BUILD = "build"


CREATION_ORDER = (Role.IMAGE, Role.NETWORK, Role.VOLUME, Role.SIDECAR, Role.BOOTH)
# Destroy is the exact reverse of "network, volume → sidecar → booth", except that the
# volume goes last, after the network, so a half-done destroy never strands a sidecar
# without its data.
# A built image is never removed by booth (like Compose's `down` without `--rmi`): it is
# the build cache of the next apply; it stands last only to give every role a place.
TEARDOWN_ORDER = (Role.BOOTH, Role.SIDECAR, Role.NETWORK, Role.VOLUME, Role.IMAGE)
KIND_OF_ROLE = {
    Role.IMAGE: Kind.IMAGE,
    Role.NETWORK: Kind.NETWORK,
    Role.VOLUME: Kind.VOLUME,
    Role.SIDECAR: Kind.CONTAINER,
    Role.BOOTH: Kind.CONTAINER,
}

LABEL_MANAGED = "io.codingbooth.managed"
LABEL_INSTANCE = "io.codingbooth.instance"
LABEL_ROLE = "io.codingbooth.role"
LABEL_SPEC_HASH = "io.codingbooth.spec-hash"
LABEL_SPEC_FIELDS = "io.codingbooth.spec-fields"
# On a built image: {base image: its ID} as pulled for the build (``pull = true``).
LABEL_BASE_IMAGES = "io.codingbooth.base-images"
# The code directory a booth mounts: how `port = "NEXT"` finds the instance again, and
# how a second code dir asking for the same name is told apart from the first.
LABEL_CODE_DIR = "io.codingbooth.code-dir"
# The instance's booth port, on every object (outside the spec hash). Its presence also
# marks the naming by name: objects made before it carry ``{name}-{port}`` as instance.
LABEL_PORT = "io.codingbooth.port"
RESERVED_LABEL_PREFIX = "io.codingbooth."
# Where the booth sees the code directory (CodingBooth's image contract).
CODE_MOUNT = "/home/coder/code"
# Where the inner daemon keeps its images and containers (the data volume's target).
DOCKER_DATA = "/var/lib/docker"


def legacy_instance(name: str, port: int) -> str:
    """``{name}-{port}``: the instance label (and the booth's name) booth gave objects
    before the name alone was the identity. Such objects are still found, converged and
    removed (see :func:`is_owned`)."""
    return f"{name}-{port}"


def resource_names(name: str, port: int) -> dict[Role, str]:
    """The booth is named as CodingBooth names it (``--name``, default the project name),
    so ``docker exec <name>`` works; the sidecar and the network keep the port in their
    names, as CodingBooth's do; the inner daemon's data follows the name, so a port
    change keeps it."""
    base = legacy_instance(name, port)
    return {
        Role.NETWORK: f"{base}-net",
        Role.VOLUME: f"{name}-dind-data",
        Role.SIDECAR: f"{base}-dind",
        Role.BOOTH: name,
    }


def legacy_names(name: str, port: int) -> dict[Role, str]:
    """The names of the objects an earlier booth made, where they differ from today's."""
    base = legacy_instance(name, port)
    return {Role.VOLUME: f"{base}-dind-data", Role.BOOTH: base}


def is_owned(labels: Mapping[str, str] | None, instance: str, *, legacy: str | None = None) -> bool:
    """The one ownership test: booth created this object, for this instance.

    ``legacy``: the instance label an earlier booth gave the same instance
    (:func:`legacy_instance`); it counts only on an object without :data:`LABEL_PORT`,
    which every object made since carries, so a later booth *named* ``{name}-{port}``
    is never taken for this one. Anything else (no labels, another instance's labels,
    a label that only starts like ours) is never modified or removed.
    """
    return is_legacy(labels, legacy) or (
        (labels or {}).get(LABEL_MANAGED) == "true"
        and (labels or {}).get(LABEL_INSTANCE) == instance
    )


def is_legacy(labels: Mapping[str, str] | None, legacy: str | None) -> bool:
    """Whether an earlier booth made this object for the instance ``legacy`` names."""
    labels = labels or {}
    return (
        legacy is not None
        and labels.get(LABEL_MANAGED) == "true"
        and labels.get(LABEL_INSTANCE) == legacy
        and LABEL_PORT not in labels
    )


# -- hashing -------------------------------------------------------------------------------

# An image spec's ``Context`` when the build reads no file of its context: nothing in the
# code dir can change the image, so no walk (``loading``), and no rebuild for the
# context's sake (``reconcile``: a context field counts only between two real hashes).
CONTEXT_UNREAD = "unread"


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _short_hash(value: object) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:12]


def field_hashes(spec: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """Per-field hashes (HostConfig flattened), so a replacement can name what changed."""
    fields: dict[str, str] = {}
    for key, value in spec.items():
        if key == "HostConfig" and isinstance(value, dict):
            for sub, sub_value in value.items():
                fields[f"HostConfig.{sub}"] = _short_hash(sub_value)
        else:
            fields[key] = _short_hash(value)
    return tuple(sorted(fields.items()))


# Friendlier names for the fields named in "spec changed: …" reasons.
_FIELD_NAMES = {
    "PortBindings": "ports",
    "ExposedPorts": "ports",
    "Env": "env",
    "Image": "image",
    "Cmd": "command",
    "Binds": "volumes",
    "NetworkMode": "network_mode",
}


def changed_fields(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    """Human names of the fields whose hashes differ (added or removed fields count)."""
    names = set()
    for key in set(old) | set(new):
        if old.get(key) != new.get(key):
            bare = key.removeprefix("HostConfig.")
            names.add(_FIELD_NAMES.get(bare, bare[:1].lower() + bare[1:]))
    return sorted(names)


# -- desired -------------------------------------------------------------------------------


@attrs.frozen(eq=True, hash=False)
class Resource:
    """One desired engine object.

    ``spec`` is written in the Engine API's own shape (``Image``, ``HostConfig`` …) so an
    engine can send it as it is and the hash covers exactly what is sent; ``summary`` is
    the reviewer's view of it (plan JSON ``desired``). Treat both as read-only.
    """

    role: Role
    name: str
    spec: Mapping[str, Any]
    spec_hash: str
    field_hashes: tuple[tuple[str, str], ...]
    summary: Mapping[str, Any]
    ports: PortSet | None = None  # the host ports it publishes, for the port preflight
    # DinD containers only: how the inner daemon is served and reached. Outside the spec
    # and its hash on purpose: it tells the executor which per-instance certificates to
    # install and how to ask the daemon, which the spec's command and env already imply.
    inner_listener: InnerListener | None = None
    # Labels that say where the object comes from, not what it is (the booth's code
    # directory): outside the hash, so they never replace anything.
    extra_labels: tuple[tuple[str, str], ...] = ()
    # A built image only: the images its Dockerfile builds on (outside the hash: only a
    # pull tells whether they changed).
    base_images: tuple[str, ...] = ()
    # ``NAME=value`` entries of the spec's ``Env`` (a built image: of its build args) whose
    # values booth chose itself: the inner listener's, CodingBooth's contract, the
    # timezone. A rendering may print these; any other value may be a secret and is not.
    public_env: tuple[str, ...] = ()

    @property
    def kind(self) -> Kind:
        return KIND_OF_ROLE[self.role]

    def labels(self, instance: str) -> dict[str, str]:
        """Ownership labels every object booth creates carries."""
        return {
            LABEL_MANAGED: "true",
            LABEL_INSTANCE: instance,
            LABEL_ROLE: self.role.value,
            LABEL_SPEC_HASH: self.spec_hash,
            LABEL_SPEC_FIELDS: canonical_json(dict(self.field_hashes)),
            **dict(self.extra_labels),
        }


def make_resource(
    role: Role,
    name: str,
    spec: dict[str, Any],
    summary: dict[str, Any],
    ports: PortSet | None = None,
    inner_listener: InnerListener | None = None,
) -> Resource:
    return Resource(
        role=role,
        name=name,
        spec=spec,
        spec_hash=hashlib.sha256(canonical_json(spec).encode()).hexdigest(),
        field_hashes=field_hashes(spec),
        summary=dict(sorted(summary.items())),
        ports=ports,
        inner_listener=inner_listener,
    )


@attrs.frozen
class Edge:
    """``dst`` depends on ``src``."""

    src: Role
    dst: Role
    kind: EdgeKind


# Every edge a booth can have; a graph has those whose two ends it has. Teardown of
# observed objects follows the same table, so a booth is always removed before the
# sidecar whose namespace it may share, and the sidecar before its network.
EDGES = (
    Edge(Role.NETWORK, Role.SIDECAR, EdgeKind.ATTACH),
    Edge(Role.VOLUME, Role.SIDECAR, EdgeKind.MOUNT),
    Edge(Role.SIDECAR, Role.BOOTH, EdgeKind.NETNS),
    Edge(Role.IMAGE, Role.BOOTH, EdgeKind.BUILD),
)


def edges_between(roles: frozenset[Role] | set[Role]) -> tuple[Edge, ...]:
    return tuple(e for e in EDGES if e.src in roles and e.dst in roles)


@attrs.frozen(eq=True, hash=False)
class DesiredGraph:
    instance: str
    dind: bool
    resources: tuple[Resource, ...]
    edges: tuple[Edge, ...]

    def get(self, role: Role) -> Resource | None:
        return next((r for r in self.resources if r.role == role), None)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)


# -- observed ------------------------------------------------------------------------------

RUNNING_STATES = frozenset({"running", "restarting", "paused"})


@attrs.frozen
class Observed:
    """One engine object that matters to an instance, as the engine reported it.

    ``owned`` is true only when booth's labels say this instance created it; an object
    with an expected name but without them is foreign and is never modified. Kept free of
    engine types so tests can build it by hand.
    """

    kind: Kind
    name: str
    id: str
    owned: bool
    role: Role | None = None
    spec_hash: str | None = None
    field_hashes: tuple[tuple[str, str], ...] = ()
    state: str | None = None  # containers only: running, exited, created, dead, …
    ports: tuple[str, ...] = ()
    image_id: str | None = None  # containers only: the ID of the image it was created from
    base_images: tuple[tuple[str, str], ...] = ()  # built images: (base, ID) pulled for it
    # Made by an earlier booth, labelled ``{name}-{port}`` (converged by replacing it).
    legacy: bool = False
    code_dir: str | None = None  # a booth container: the code dir it was made for
    # Containers, from an inspect: when it last started (``State.StartedAt``, as the
    # engine wrote it): a booth started before its sidecar runs in a dead namespace.
    started_at: str | None = None

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES


@attrs.frozen
class ActualState:
    """What the engine has; ``pulled`` holds (image, ID) for each image pulled just before
    (``pull = true``), so the diff can tell which containers run an older image."""

    objects: tuple[Observed, ...] = ()
    pulled: tuple[tuple[str, str], ...] = ()
    # The build's base images the engine has, each with its ONBUILD triggers: whether
    # the build can read its context at all (``BuildInputs.context_unread``).
    base_triggers: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def pulled_id(self, image: str) -> str | None:
        return next((i for ref, i in self.pulled if ref == image), None)

    def __iter__(self) -> Iterator[Observed]:
        return iter(self.objects)

    def owned_by_role(self, role: Role) -> Observed | None:
        return next((o for o in self.objects if o.owned and o.role == role), None)

    def named(self, kind: Kind, name: str) -> Observed | None:
        return next((o for o in self.objects if o.kind == kind and o.name == name), None)
