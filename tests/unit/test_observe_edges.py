"""The edges of ``observe`` that the mutation run found untested: a base image looked up
as an image (not as whatever else has the name), an image's ownership needing both of
booth's labels, the base images an image records, and instance labels without a port
label (an earlier booth's, with a hyphen in the name) or without an instance at all."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from booth_builders import config_from_toml
from memory_apply import apply, engine_for

from reconciler.core.model import (
    LABEL_BASE_IMAGES,
    LABEL_INSTANCE,
    LABEL_MANAGED,
    LABEL_PORT,
    LABEL_ROLE,
    Kind,
    Role,
)
from reconciler.engine import observe
from reconciler.engine.memory.engine import MemoryEngine
from reconciler.errors import DockerUnavailableError, EngineError


class ByKind:
    """Lookups that hold documents by kind and name, as an engine keeps each kind apart
    (a container and an image may share a name)."""

    def __init__(self, documents: Mapping[tuple[Kind, str], Mapping[str, Any]]) -> None:
        self.documents = documents

    def containers(self, filters: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return []

    def networks(self, filters: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return []

    def volumes(self, filters: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return []

    def inspect(self, kind: Kind, name: str) -> Mapping[str, Any] | None:
        return self.documents.get((kind, name))


def test_a_base_image_s_triggers_are_read_from_the_image_of_that_name() -> None:
    base = "builder"
    lookups = ByKind(
        {
            (Kind.IMAGE, base): {"Id": "sha256:b", "Config": {"OnBuild": ["COPY . /src"]}},
            (Kind.CONTAINER, base): {"Id": "c", "Config": {"OnBuild": ["RUN false"]}},
        }
    )
    state = observe.collect(lookups, "app", 10000, None, "here", bases=[base])
    assert state.base_triggers == ((base, ("COPY . /src",)),)


def image_document(labels: Mapping[str, str]) -> dict[str, Any]:
    return {"Id": "sha256:abc", "Config": {"Labels": dict(labels)}}


def test_an_image_is_booth_s_only_with_both_the_managed_and_the_image_role_label() -> None:
    ours = {LABEL_MANAGED: "true", LABEL_ROLE: "image", LABEL_INSTANCE: "app"}
    assert observe.image(image_document(ours), "app:latest").owned
    for labels in (
        {**ours, LABEL_ROLE: "booth"},
        {LABEL_ROLE: "image", LABEL_INSTANCE: "app"},
        {**ours, LABEL_MANAGED: "false"},
    ):
        assert not observe.image(image_document(labels), "app:latest").owned


def test_an_image_keeps_its_id_and_the_base_images_it_was_built_from() -> None:
    bases = {"debian:12": "sha256:d", "alpine:3": "sha256:a"}
    labels = {LABEL_MANAGED: "true", LABEL_ROLE: "image", LABEL_BASE_IMAGES: json.dumps(bases)}
    found = observe.image(image_document(labels), "app:latest")
    assert found.id == "sha256:abc"
    assert found.base_images == (("alpine:3", "sha256:a"), ("debian:12", "sha256:d"))
    assert observe.image(image_document({}), "x").base_images == ()


def test_instance_ports_read_an_earlier_booth_s_label_at_its_last_hyphen() -> None:
    containers = [
        {"Labels": {LABEL_INSTANCE: "my-app-11000"}},  # an earlier booth: no port label
        {"Labels": {LABEL_INSTANCE: "my-app", LABEL_PORT: "12000"}},
        {"Labels": {LABEL_INSTANCE: "my-10000"}},  # another booth, named "my"
        {"Labels": {LABEL_PORT: "13000"}},  # no instance label: nobody's
        {"Labels": {LABEL_MANAGED: "true"}},
        {"Labels": None},
        {},
    ]
    assert observe.instance_ports(containers, "my-app") == [11000, 12000]
    assert observe.instance_ports(containers, "my") == [10000]
    for name in ("XXXX", "None"):  # a container without an instance label is nobody's
        assert observe.instance_ports(containers, name) == []


OURS = {LABEL_MANAGED: "true", LABEL_INSTANCE: "app", LABEL_ROLE: "booth"}


def test_a_listed_container_s_ports_default_as_docker_omits_them() -> None:
    raw = {
        "Id": "c1",
        "Names": ["/Xapp"],
        "Ports": [
            {"PrivatePort": 80, "PublicPort": 8080},  # no address, no type: tcp on every one
            {"IP": "127.0.0.1", "PrivatePort": 53, "PublicPort": 5353, "Type": "udp"},
            {"PrivatePort": 81, "Type": "tcp"},  # exposed only
        ],
        "Labels": OURS,
    }
    found = observe.listed_container(raw, "app")
    assert found.name == "Xapp"
    assert found.ports == ("127.0.0.1:5353:53/udp", ":8080:80/tcp")
    assert observe.listed_container({"Id": "c2"}, "app").name == ""


def test_an_inspected_container_s_bindings_default_as_docker_omits_them() -> None:
    raw = {
        "Id": "c1",
        "Name": "/Xapp",
        "State": {"Status": "running", "StartedAt": "2026-01-01T00:00:00Z"},
        "Config": {"Labels": OURS},
        "NetworkSettings": {
            "Ports": {
                "80/tcp": [{"HostPort": "8080"}],
                "53/udp": [{"HostIp": "::1", "HostPort": "53"}],
            }
        },
    }
    found = observe.inspected_container(raw, "app")
    assert found.name == "Xapp"
    assert found.ports == (":8080:80/tcp", "::1:53:53/udp")
    assert found.started_at == "2026-01-01T00:00:00Z"
    assert observe.inspected_container({"Id": "c2"}, "app").name == ""


def test_an_unknown_role_label_or_a_malformed_hash_label_is_read_as_none() -> None:
    labels = {**OURS, LABEL_ROLE: "gateway", "io.codingbooth.spec-fields": "[1, 2]"}
    found = observe.listed_container({"Id": "c", "Names": ["/app"], "Labels": labels}, "app")
    assert found.owned and found.role is None and found.field_hashes == ()


def test_a_snapshot_gives_the_listed_container_the_start_time_its_inspect_knows() -> None:
    listed = {
        "Id": "c1",
        "Names": ["/app"],
        "State": "running",
        "Ports": [{"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}],
        "Labels": OURS,
    }
    inspected = {
        "Id": "c1",
        "Name": "/app",
        "State": {"Status": "running", "StartedAt": "2026-01-01T00:00:00Z"},
        "Config": {"Labels": OURS},
    }
    state = observe.snapshot(
        [observe.inspected_container(inspected, "app"), observe.listed_container(listed, "app")]
    )
    (container,) = state.objects
    assert container.ports == ("127.0.0.1:8080:80/tcp",)  # the entry with ports wins
    assert container.started_at == "2026-01-01T00:00:00Z"


def test_an_instance_s_objects_at_its_old_port_are_found_by_label_and_are_its_own() -> None:
    old = config_from_toml('name = "app"\nport = 11000\ndind = true\n')
    engine = engine_for(old)
    assert apply(engine, old)
    state = observe.collect(engine.lookups, "app", 10000, None, "here")
    seen = {o.name: o for o in state}
    for name, role in (("app-11000-dind", Role.SIDECAR), ("app-11000-net", Role.NETWORK)):
        assert (seen[name].owned, seen[name].role) == (True, role)
    assert (seen["app-dind-data"].owned, seen["app-dind-data"].role) == (True, Role.VOLUME)


def test_a_network_with_our_name_that_booth_did_not_make_is_seen_as_foreign() -> None:
    engine = MemoryEngine()
    engine.primitives.create_network("app-10000-net", "bridge", {})
    engine.primitives.create_network("other", "bridge", {})
    state = observe.collect(engine.lookups, "app", 10000, None, "here")
    assert [(o.kind, o.name, o.owned) for o in state] == [(Kind.NETWORK, "app-10000-net", False)]


def test_the_image_booth_builds_is_looked_up_as_an_image() -> None:
    lookups = ByKind(
        {
            (Kind.IMAGE, "app"): image_document({}),
            (Kind.CONTAINER, "app"): {"Id": "c", "Name": "/app", "Config": {"Labels": {}}},
        }
    )
    state = observe.collect(lookups, "app", 10000, "app", "here")
    assert (Kind.IMAGE, "app", "sha256:abc") in [(o.kind, o.name, o.id) for o in state]


def test_a_failing_engine_s_message_is_cut_to_two_hundred_characters() -> None:
    class Failing(ByKind):
        def inspect(self, kind: Kind, name: str) -> Mapping[str, Any] | None:
            raise EngineError("x" * 200)

    with pytest.raises(DockerUnavailableError) as raised:
        observe.collect(Failing({}), "app", 10000, None, "here")
    assert str(raised.value) == "Docker engine at here failed: " + "x" * 197 + "..."


def test_a_volume_labelled_as_the_instance_s_is_its_own_whatever_its_name() -> None:
    engine = MemoryEngine()
    ours = {LABEL_MANAGED: "true", LABEL_INSTANCE: "app", LABEL_ROLE: "volume"}
    engine.primitives.create_volume("app-data-of-another-version", "local", ours)
    engine.primitives.create_volume(
        "unrelated", "local", {LABEL_MANAGED: "true", LABEL_INSTANCE: "other"}
    )
    state = observe.collect(engine.lookups, "app", 10000, None, "here")
    assert [(o.name, o.owned, o.role) for o in state] == [
        ("app-data-of-another-version", True, Role.VOLUME)
    ]
