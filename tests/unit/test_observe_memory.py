"""``observe.collect`` on the in-memory engine: the real list and inspect documents (their
shapes held to Docker's by tests/support/engine_contract.py) parsed into the snapshot
booth plans from: ownership by label, roles, hashes, states, ports, earlier booths'
objects, images, and a failing engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pytest
from booth_builders import config_from_toml
from memory_apply import apply, engine_for, observed

from reconciler.config.desired import build_desired
from reconciler.core.model import (
    LABEL_CODE_DIR,
    LABEL_INSTANCE,
    LABEL_MANAGED,
    LABEL_ROLE,
    LABEL_SPEC_HASH,
    Kind,
    Role,
    legacy_names,
    resource_names,
)
from reconciler.engine import observe
from reconciler.engine.memory.engine import MemoryBackend, MemoryEngine
from reconciler.engine.memory.objects import Image
from reconciler.errors import DockerUnavailableError, EngineError

DIND = 'name = "demo"\nport = 10000\ndind = true\nrun-args = ["-p", "8080:8080"]\n'
NAMES = resource_names("demo", 10000)


def by_name(engine: MemoryEngine) -> dict[str, Any]:
    return {o.name: o for o in engine.observe("demo", 10000)}


def test_an_empty_engine_has_nothing_of_the_instance() -> None:
    assert tuple(MemoryEngine().observe("demo", 10000)) == ()


def test_an_applied_instance_is_seen_as_booth_made_it() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    apply(engine, config)
    desired = {r.name: r for r in build_desired(config)}
    seen = by_name(engine)
    assert set(seen) == set(desired) == set(NAMES.values())
    for name, resource in desired.items():
        assert (seen[name].owned, seen[name].role) == (True, resource.role)
        assert seen[name].spec_hash == resource.spec_hash
        assert seen[name].field_hashes == resource.field_hashes
    sidecar = seen[NAMES[Role.SIDECAR]]
    assert sidecar.ports == ("127.0.0.1:10000:10000/tcp", "127.0.0.1:8080:8080/tcp")
    assert sidecar.state == "running"
    assert sidecar.image_id == engine.image_id(config.dind_image)
    assert seen[NAMES[Role.BOOTH]].code_dir == "/srv/demo-app"
    assert seen[NAMES[Role.NETWORK]].id == engine.network(NAMES[Role.NETWORK])[0]


def test_each_object_is_seen_once_though_listed_and_inspected() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    apply(engine, config)
    snapshot = engine.observe("demo", 10000)
    assert len(snapshot.objects) == len({(o.kind, o.id) for o in snapshot}) == 4


def test_a_stopped_container_holds_no_port_and_other_states_come_through() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    apply(engine, config)
    engine.primitives.stop(NAMES[Role.SIDECAR], 0)
    sidecar = by_name(engine)[NAMES[Role.SIDECAR]]
    assert (sidecar.state, sidecar.ports) == ("exited", ())
    for state in ("paused", "restarting", "dead"):
        engine.memory.set_status(NAMES[Role.BOOTH], state)
        assert by_name(engine)[NAMES[Role.BOOTH]].state == state


def test_an_object_with_our_name_that_booth_did_not_make_is_foreign() -> None:
    engine = MemoryEngine(images=["img"])
    engine.create_container(NAMES[Role.SIDECAR], {"Image": "img"})
    engine.primitives.create_network(NAMES[Role.NETWORK], "bridge", {LABEL_INSTANCE: "demo"})
    engine.create_volume(NAMES[Role.VOLUME], "local", {LABEL_MANAGED: "true"})
    seen = by_name(engine)
    assert set(seen) == {NAMES[Role.SIDECAR], NAMES[Role.NETWORK], NAMES[Role.VOLUME]}
    assert all(not o.owned and o.role is None and o.spec_hash is None for o in seen.values())


def test_another_instance_whose_name_starts_alike_is_not_ours() -> None:
    engine = MemoryEngine(images=["img"])
    theirs = {LABEL_MANAGED: "true", LABEL_INSTANCE: "demo-10000", LABEL_ROLE: "booth"}
    # Labelled as an earlier booth labelled instance "demo" at 10000, but carrying the
    # port label every object made since has: a booth *named* "demo-10000".
    engine.create_container(
        "demo-10000", {"Image": "img", "Labels": theirs | {"io.codingbooth.port": "1"}}
    )
    engine.create_container("demox", {"Image": "img", "Labels": theirs | {LABEL_INSTANCE: "demox"}})
    seen = by_name(engine)
    assert set(seen) == {"demo-10000"}
    assert not seen["demo-10000"].owned


def test_an_earlier_booths_objects_are_ours_and_marked_legacy() -> None:
    engine = MemoryEngine(images=["img"])
    old = legacy_names("demo", 10000)
    labels = {LABEL_MANAGED: "true", LABEL_INSTANCE: "demo-10000", LABEL_SPEC_HASH: "h"}
    engine.create_container(
        old[Role.BOOTH], {"Image": "img", "Labels": labels | {LABEL_ROLE: "booth"}}
    )
    engine.create_volume(old[Role.VOLUME], "local", labels | {LABEL_ROLE: "volume"})
    seen = by_name(engine)
    assert set(seen) == {old[Role.BOOTH], old[Role.VOLUME]}
    assert all(o.owned and o.legacy for o in seen.values())
    assert seen[old[Role.BOOTH]].role == Role.BOOTH


def test_instances_of_a_code_directory_are_found_by_label() -> None:
    engine = MemoryEngine(images=["img"])
    for name, port, code in (
        ("a", 10002, "/x"),
        ("a", 10001, "/x"),
        ("a", 10003, "/y"),
        ("b", 10004, "/x"),
    ):
        labels = {
            LABEL_MANAGED: "true",
            LABEL_INSTANCE: name,
            LABEL_ROLE: "booth",
            LABEL_CODE_DIR: code,
            "io.codingbooth.port": str(port),
        }
        engine.create_container(f"{name}-{port}", {"Image": "img", "Labels": labels})
    assert engine.instances_of("/x", "a") == [10001, 10002]
    assert len(engine.managed_containers()) == 4


def test_a_built_image_is_ours_by_its_labels_and_base_triggers_are_read() -> None:
    engine = MemoryEngine(images=["plain:1"])
    labels = {
        LABEL_MANAGED: "true",
        LABEL_ROLE: "image",
        LABEL_INSTANCE: "other",
        LABEL_SPEC_HASH: "h",
    }
    engine.memory.images["built:1"] = Image("sha256:b", labels)
    engine.memory.images["base:1"] = Image("sha256:c", {}, ("RUN x",))
    state = engine.observe("demo", 10000, "built:1", bases=("base:1", "absent:1"))
    (built,) = state.objects
    assert (built.kind, built.owned, built.spec_hash) == (Kind.IMAGE, True, "h")
    assert state.base_triggers == (("base:1", ("RUN x",)),)
    (plain,) = engine.observe("demo", 10000, "plain:1").objects
    assert not plain.owned


class FailingLookups(MemoryBackend):
    def networks(self, filters: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        raise EngineError("500 Server Error: boom")


def test_a_failing_engine_fails_the_whole_snapshot_naming_it() -> None:
    with pytest.raises(DockerUnavailableError, match=r"Docker engine at memory:// failed: .*boom"):
        MemoryEngine(backend=FailingLookups()).observe("demo", 10000)


def test_observation_reads_the_documents_of_the_list_calls() -> None:
    """The list entry and the inspect result differ in shape (``Labels`` at the top or in
    ``Config``; ``State`` a string or a document); each parser reads its own."""
    config = config_from_toml(DIND)
    engine = engine_for(config)
    apply(engine, config)
    label = {"label": f"{LABEL_INSTANCE}=demo"}
    listed = {observe.listed_container(c, "demo").name: c for c in engine.lookups.containers(label)}
    for name, document in listed.items():
        from_list = observe.listed_container(document, "demo")
        inspected = engine.lookups.inspect(Kind.CONTAINER, name)
        assert inspected is not None
        from_inspect = observe.inspected_container(inspected, "demo")
        # Only an inspect knows when it started; the snapshot keeps that.
        assert from_list == attrs.evolve(from_inspect, started_at=None)
        assert from_inspect.started_at is not None
        assert from_list.owned and from_list.role is not None
    assert observed(engine, config) == engine.observe("demo", 10000)
