"""Observation reads each Engine API document where the engine puts its labels.

The documents below have the shapes dockerd 20.10 returns (captured from the engine these
tests run next to, trimmed): a container list entry (``GET /containers/json``) carries
``Labels`` and a string ``State`` at its top level; a container inspect result carries
them under ``Config.Labels`` and ``State.Status``; networks (list and inspect alike) and
volumes carry ``Labels`` at the top level; an image inspect under ``Config.Labels``.
Reading one shape's labels from another's place loses ownership silently: booth would then
refuse its own objects as foreign, or plan to create them again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from hand_graph import BOOTH, IMAGE, NETWORK, VOLUME

from reconciler.core.model import (
    LABEL_CODE_DIR,
    LABEL_INSTANCE,
    LABEL_MANAGED,
    LABEL_PORT,
    Kind,
    Observed,
    Resource,
    Role,
    is_legacy,
    is_owned,
    resource_names,
)
from reconciler.engine import observe
from reconciler.errors import EngineError

INSTANCE = "app"
OWNER = observe.Owner(INSTANCE, "app-10000")
NAMES = resource_names(INSTANCE, 10000)


def labels_of(resource: Resource, instance: str = INSTANCE) -> dict[str, str]:
    """The labels booth writes on ``resource`` today (with the port label)."""
    return {**resource.labels(instance), LABEL_PORT: "10000", LABEL_CODE_DIR: "/srv/app"}


def listed(name: str, labels: Mapping[str, str], state: str = "running") -> dict[str, Any]:
    return {
        "Id": f"id-{name}",
        "Names": [f"/{name}"],
        "Image": "booth-test/busybox:latest",
        "ImageID": "sha256:b1",
        "Command": "sleep 60",
        "Ports": [
            {"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
            {"PrivatePort": 81, "Type": "tcp"},  # exposed, not published
        ],
        "Labels": dict(labels),
        "State": state,
        "Status": "Up 2 minutes",
        "HostConfig": {"NetworkMode": "default"},
    }


def inspected(name: str, labels: Mapping[str, str], status: str = "running") -> dict[str, Any]:
    return {
        "Id": f"id-{name}",
        "Name": f"/{name}",
        "Image": "sha256:b1",
        "State": {"Status": status, "Running": status != "exited", "Paused": status == "paused"},
        "Config": {"Image": "booth-test/busybox:latest", "Labels": dict(labels)},
        "HostConfig": {"NetworkMode": "default"},
        "NetworkSettings": {
            "Ports": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}], "81/tcp": None}
        },
    }


def network_doc(name: str, labels: Mapping[str, str]) -> dict[str, Any]:
    return {"Name": name, "Id": f"id-{name}", "Driver": "bridge", "Labels": dict(labels)}


def volume_doc(name: str, labels: Mapping[str, str]) -> dict[str, Any]:
    return {"Name": name, "Driver": "local", "Labels": dict(labels), "Scope": "local"}


def image_doc(labels: Mapping[str, str]) -> dict[str, Any]:
    return {"Id": "sha256:img", "RepoTags": ["booth-local:app"], "Config": {"Labels": labels}}


BOOTH_LABELS = labels_of(BOOTH)
EXPECTED_BOOTH = Observed(
    Kind.CONTAINER,
    "app",
    "id-app",
    owned=True,
    role=Role.BOOTH,
    spec_hash=BOOTH.spec_hash,
    field_hashes=BOOTH.field_hashes,
    state="paused",
    ports=("127.0.0.1:8080:80/tcp",),
    image_id="sha256:b1",
    code_dir="/srv/app",
)


def test_a_listed_container_is_read_from_the_list_shape() -> None:
    assert observe.listed_container(listed("app", BOOTH_LABELS, "paused"), OWNER) == EXPECTED_BOOTH


def test_an_inspected_container_is_read_from_the_inspect_shape() -> None:
    assert observe.inspected_container(inspected("app", BOOTH_LABELS, "paused"), OWNER) == (
        EXPECTED_BOOTH
    )


@pytest.mark.parametrize("kind", ["network", "volume"])
def test_networks_and_volumes_are_read_from_their_own_shape(kind: str) -> None:
    resource = NETWORK if kind == "network" else VOLUME
    document = (network_doc if kind == "network" else volume_doc)("x", labels_of(resource))
    found = getattr(observe, kind)(document, OWNER)
    assert (found.owned, found.role, found.spec_hash) == (True, resource.role, resource.spec_hash)
    assert found.field_hashes == resource.field_hashes
    assert found.id == ("id-x" if kind == "network" else "x")


def test_a_built_image_is_read_from_config_labels() -> None:
    found = observe.image(image_doc(IMAGE.labels("another-instance")), "booth-local:app")
    assert (found.owned, found.role, found.spec_hash) == (True, Role.IMAGE, IMAGE.spec_hash)
    assert not observe.image(image_doc({}), "booth-local:app").owned


@pytest.mark.parametrize(
    "document",
    [
        listed("app", {"other": "label"}),
        inspected("app", {}),
        {**inspected("app", {}), "Config": {"Labels": None}},  # an image without labels
        {**listed("app", {}), "Labels": None},
    ],
)
def test_a_container_without_our_labels_is_foreign(document: dict[str, Any]) -> None:
    parse = observe.listed_container if "Names" in document else observe.inspected_container
    found = parse(document, OWNER)
    assert not found.owned and found.role is None and found.spec_hash is None


class Engine:
    """The read calls of :class:`observe.Lookups`, answered from fixed documents; label
    filters are applied as the engine applies them (``key=value`` must match)."""

    def __init__(self, containers: list[dict[str, Any]], by_name: dict[str, dict[str, Any]]):
        self.listed = containers
        self.by_name = by_name
        self.networks_listed = [d for d in by_name.values() if "Driver" in d and "Id" in d]
        self.volumes_listed = [d for d in by_name.values() if d.get("Scope") == "local"]

    @staticmethod
    def _matches(labels: Mapping[str, str] | None, filters: Mapping[str, Any]) -> bool:
        wanted = filters.get("label", [])
        for item in [wanted] if isinstance(wanted, str) else wanted:
            key, _, value = item.partition("=")
            if (labels or {}).get(key) != value:
                return False
        return True

    def containers(self, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [c for c in self.listed if self._matches(c["Labels"], filters)]

    def networks(self, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [n for n in self.networks_listed if self._matches(n["Labels"], filters)]

    def volumes(self, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [v for v in self.volumes_listed if self._matches(v["Labels"], filters)]

    def inspect(self, kind: Kind, name: str) -> dict[str, Any] | None:
        found = self.by_name.get(name)
        if kind == Kind.CONTAINER and found is not None and "Config" not in found:
            return None
        return found


def test_a_snapshot_sees_every_object_of_the_instance_as_owned() -> None:
    sidecar = labels_of(BOOTH) | {"io.codingbooth.role": "sidecar"}
    documents = {
        NAMES[Role.BOOTH]: inspected(NAMES[Role.BOOTH], BOOTH_LABELS),
        NAMES[Role.SIDECAR]: inspected(NAMES[Role.SIDECAR], sidecar, "restarting"),
        NAMES[Role.NETWORK]: network_doc(NAMES[Role.NETWORK], labels_of(NETWORK)),
        NAMES[Role.VOLUME]: volume_doc(NAMES[Role.VOLUME], labels_of(VOLUME)),
    }
    listed_entries = [
        listed(NAMES[Role.BOOTH], BOOTH_LABELS),
        listed(NAMES[Role.SIDECAR], sidecar, "restarting"),
    ]
    state = observe.collect(Engine(listed_entries, documents), INSTANCE, 10000, None, "here")
    seen = {(o.kind, o.name): o for o in state}
    assert sorted(seen) == sorted(
        [
            (Kind.CONTAINER, NAMES[Role.BOOTH]),
            (Kind.CONTAINER, NAMES[Role.SIDECAR]),
            (Kind.NETWORK, NAMES[Role.NETWORK]),
            (Kind.VOLUME, NAMES[Role.VOLUME]),
        ]
    )
    assert all(o.owned and not o.legacy for o in state)
    assert state.owned_by_role(Role.SIDECAR).state == "restarting"  # type: ignore[union-attr]
    assert state.owned_by_role(Role.BOOTH).code_dir == "/srv/app"  # type: ignore[union-attr]
    assert state.owned_by_role(Role.NETWORK).spec_hash == NETWORK.spec_hash  # type: ignore[union-attr]


def test_a_snapshot_keeps_a_failing_engine_to_one_error() -> None:
    class Failing(Engine):
        def inspect(self, kind: Kind, name: str) -> dict[str, Any] | None:
            raise EngineError("boom")

    with pytest.raises(observe.DockerUnavailableError, match="engine at here failed: boom"):
        observe.collect(Failing([], {}), INSTANCE, 10000, None, "here")


# -- the one ownership test -------------------------------------------------------------


def ours(instance: str, **extra: str) -> dict[str, str]:
    return {LABEL_MANAGED: "true", LABEL_INSTANCE: instance, **extra}


@pytest.mark.parametrize(
    "instance",
    ["app-2", "app-10000", "app2", "ap", "", "APP", "app ", "app/x", "xapp"],
)
def test_ownership_is_the_exact_instance_label_never_a_prefix(instance: str) -> None:
    labels = ours(instance, **{LABEL_PORT: "10000"})
    assert not is_owned(labels, "app")
    assert not is_owned(labels, "app", legacy="app-1")
    assert is_owned(labels, instance)
    found = observe.listed_container(listed("c", labels), OWNER)
    assert not found.owned and found.role is None


@pytest.mark.parametrize("legacy", ["app-100", "app-1000", "app-10000x", "app-10000-1"])
def test_an_earlier_booths_label_is_also_matched_exactly(legacy: str) -> None:
    labels = ours(legacy)  # an earlier booth's: no port label
    assert not is_legacy(labels, "app-10000")
    assert not is_owned(labels, "app", legacy="app-10000")
    assert is_owned(ours("app-10000"), "app", legacy="app-10000")


@pytest.mark.parametrize("managed", [None, "false", "True", "1", "yes", ""])
def test_only_managed_true_marks_an_object_as_booths(managed: str | None) -> None:
    labels = {LABEL_INSTANCE: "app"} | ({} if managed is None else {LABEL_MANAGED: managed})
    assert not is_owned(labels, "app")
    assert not is_owned(labels, "app", legacy="app")
    assert not is_owned(None, "app")
