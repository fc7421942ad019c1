"""Reconcile and plan rules, one example each (the property tests cover the combinations)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from booth_builders import DIND_EXAMPLE_TOML, actual_matching, config_from_toml

from reconciler.config.desired import build_desired
from reconciler.core.model import ActualState, Observed
from reconciler.core.plan import make_plan
from reconciler.core.reconcile import destroy_changes, reconcile
from reconciler.errors import ForeignObjectError

DESIRED = build_desired(config_from_toml(DIND_EXAMPLE_TOML))


def actions(actual: ActualState) -> dict[str, tuple[str, str]]:
    return {c.role: (c.action, c.reason) for c in reconcile(DESIRED, actual)}


def ops(actual: ActualState) -> list[tuple[str, str]]:
    plan = make_plan(DESIRED.instance, reconcile(DESIRED, actual))
    return [(s.op, s.role) for s in plan.steps]


def with_replaced(actual: ActualState, role: str, **changes: Any) -> ActualState:
    return ActualState(tuple(attrs.evolve(o, **changes) if o.role == role else o for o in actual))


def test_spec_change_names_the_fields() -> None:
    before = build_desired(config_from_toml(DIND_EXAMPLE_TOML.replace("8080", "8081")))
    result = {c.role: (c.action, c.reason) for c in reconcile(DESIRED, actual_matching(before))}
    assert result["sidecar"] == ("replace", "spec changed: ports")
    assert result["booth"] == ("replace", "namespace owner replaced")
    assert result["network"] == ("none", "up to date")


def test_dead_container_is_replaced() -> None:
    result = actions(actual_matching(DESIRED, states={"booth": "dead"}))
    assert result["booth"] == ("replace", "dead")
    assert result["sidecar"] == ("none", "up to date")


def test_created_container_is_started() -> None:
    assert actions(actual_matching(DESIRED, states={"booth": "created"}))["booth"] == (
        "start",
        "stopped",
    )


def test_stopped_booth_alone_is_started_once_the_running_sidecar_answers() -> None:
    # After a crash mid-apply the inner daemon may still be booting: wait before the booth.
    actual = actual_matching(DESIRED, states={"booth": "exited"})
    assert ops(actual) == [("wait-ready", "sidecar"), ("start-container", "booth")]


def test_stopped_sidecar_restarts_a_running_booth_after_wait_ready() -> None:
    assert ops(actual_matching(DESIRED, states={"sidecar": "exited"})) == [
        ("start-container", "sidecar"),
        ("wait-ready", "sidecar"),
        ("restart-container", "booth"),
    ]


def test_stopped_sidecar_and_booth_are_both_started() -> None:
    actual = actual_matching(DESIRED, states={"sidecar": "exited", "booth": "exited"})
    assert ops(actual) == [
        ("start-container", "sidecar"),
        ("wait-ready", "sidecar"),
        ("start-container", "booth"),
    ]


def test_missing_network_replaces_sidecar_and_booth() -> None:
    result = actions(actual_matching(DESIRED, without=("network",)))
    assert result["network"] == ("create", "not found")
    assert result["sidecar"] == ("replace", "network replaced")
    assert result["booth"] == ("replace", "namespace owner replaced")


def test_missing_volume_does_not_cascade() -> None:
    result = actions(actual_matching(DESIRED, without=("volume",)))
    assert result["volume"] == ("create", "not found")
    assert result["sidecar"] == ("none", "up to date")


def test_drifted_data_volume_is_kept_not_replaced() -> None:
    """Replacing it would drop the inner daemon's data, and the engine refuses to remove a
    volume the sidecar mounts: the plan must stay executable and keep the data."""
    actual = with_replaced(actual_matching(DESIRED), "volume", spec_hash="0" * 64)
    action, reason = actions(actual)["volume"]
    assert action == "none"
    assert reason.startswith("spec changed: ") and "kept" in reason
    assert ops(actual) == []


def test_replacement_stops_running_containers_before_removing_them() -> None:
    before = build_desired(config_from_toml(DIND_EXAMPLE_TOML.replace("8080", "8081")))
    actual = actual_matching(before, states={"booth": "exited"})
    assert ops(actual) == [
        ("remove-container", "booth"),
        ("stop-container", "sidecar"),
        ("remove-container", "sidecar"),
        ("create-container", "sidecar"),
        ("create-container", "booth"),
        ("start-container", "sidecar"),
        ("wait-ready", "sidecar"),
        ("start-container", "booth"),
    ]


def test_foreign_container_with_our_name_is_an_error_naming_it() -> None:
    booth = DESIRED.get("booth")
    assert booth is not None
    foreign = Observed(kind="container", name=booth.name, id="x", owned=False, state="running")
    message = f"container '{booth.name}' exists but was not created by booth"
    with pytest.raises(ForeignObjectError, match=message):
        reconcile(DESIRED, ActualState((foreign,)))


def test_foreign_network_is_used_as_is_and_never_removed() -> None:
    network = DESIRED.get("network")
    assert network is not None
    foreign = Observed(kind="network", name=network.name, id="x", owned=False)
    actual = ActualState((foreign, *(o for o in actual_matching(DESIRED, without=("network",)))))
    assert actions(actual)["network"][0] == "external"
    assert ops(actual) == []
    destroy = make_plan(DESIRED.instance, destroy_changes(actual, remove_volumes=True))
    assert "remove-network" not in [s.op for s in destroy.steps]


def test_dind_off_removes_sidecar_and_network_but_keeps_the_data_volume() -> None:
    plain = build_desired(config_from_toml(DIND_EXAMPLE_TOML.replace("dind     = true", "")))
    changes = reconcile(plain, actual_matching(DESIRED))
    assert [(c.role, c.action, c.reason) for c in changes if c.action == "remove"] == [
        ("sidecar", "remove", "not desired"),
        ("network", "remove", "not desired"),
    ]
    steps = [(s.op, s.role) for s in make_plan(plain.instance, changes).steps]
    assert steps == [
        ("stop-container", "booth"),
        ("remove-container", "booth"),
        ("stop-container", "sidecar"),
        ("remove-container", "sidecar"),
        ("remove-network", "network"),
        ("create-container", "booth"),
        ("start-container", "booth"),
    ]


@pytest.mark.parametrize("remove_volumes", [False, True])
def test_destroy_is_the_reverse_of_creation(remove_volumes: bool) -> None:
    actual = actual_matching(DESIRED, states={"booth": "exited"})
    plan = make_plan(DESIRED.instance, destroy_changes(actual, remove_volumes=remove_volumes))
    expected = [
        ("remove-container", "booth"),
        ("stop-container", "sidecar"),
        ("remove-container", "sidecar"),
    ]
    # the volume last, after the network, and only when asked
    tail = [("remove-network", "network")]
    if remove_volumes:
        tail.append(("remove-volume", "volume"))
    assert [(s.op, s.role) for s in plan.steps] == expected + tail
    assert all(s.reason == "not desired: destroy" for s in plan.steps)


def test_observed_field_order_does_not_matter() -> None:
    """The hash is of the canonical desired spec: same config, same hash, every time."""
    again = build_desired(config_from_toml(DIND_EXAMPLE_TOML))
    assert [r.spec_hash for r in again] == [r.spec_hash for r in DESIRED]
    reordered = build_desired(
        config_from_toml(
            'run-args = ["-p", "3000:3000", "-p", "8080:8080"]\nvariant = "desktop"\ndind = true\n'
        )
    )
    assert [r.spec_hash for r in reordered] == [r.spec_hash for r in DESIRED]


def _running_images(actual: ActualState, ids: dict[str, str]) -> ActualState:
    """The containers of ``actual``, created from the image IDs ``ids`` (by role)."""
    objects = (attrs.evolve(o, image_id=ids.get(str(o.role))) for o in actual)
    return ActualState(tuple(objects))


def _images() -> dict[str, str]:
    return {r.role: str(r.spec["Image"]) for r in DESIRED if r.kind == "container"}


def test_a_booth_running_an_older_image_than_the_pull_gives_is_replaced() -> None:
    actual = _running_images(actual_matching(DESIRED), {"booth": "sha256:old", "sidecar": "s1"})
    pulled = ((_images()["booth"], "sha256:new"), (_images()["sidecar"], "s1"))
    changes = {c.role: c for c in reconcile(DESIRED, attrs.evolve(actual, pulled=pulled))}
    booth = changes["booth"]
    assert (booth.action, booth.reason, booth.reason_code) == (
        "replace",
        "image updated by pull",
        "image_updated",
    )
    assert changes["sidecar"].action == "none"
    plan = make_plan(DESIRED.instance, tuple(changes.values()))
    assert [(s.op, s.role, s.reason_code) for s in plan.steps] == [
        ("stop-container", "booth", "image_updated"),
        ("remove-container", "booth", "image_updated"),
        ("create-container", "booth", "image_updated"),
        ("wait-ready", "sidecar", "daemon_check"),
        ("start-container", "booth", "image_updated"),
    ]


def test_an_updated_sidecar_image_replaces_the_sidecar_and_its_booth() -> None:
    actual = _running_images(actual_matching(DESIRED), {"booth": "b1", "sidecar": "s1"})
    pulled = ((_images()["booth"], "b1"), (_images()["sidecar"], "s2"))
    result = actions(attrs.evolve(actual, pulled=pulled))
    assert result["sidecar"] == ("replace", "image updated by pull")
    assert result["booth"] == ("replace", "namespace owner replaced")


def test_a_stopped_booth_on_an_older_image_is_replaced_not_started() -> None:
    actual = _running_images(actual_matching(DESIRED, states={"booth": "exited"}), {"booth": "b1"})
    pulled = ((_images()["booth"], "b2"),)
    assert actions(attrs.evolve(actual, pulled=pulled))["booth"] == (
        "replace",
        "image updated by pull",
    )


@pytest.mark.parametrize(
    "pulled",
    [
        (),  # no pull: a tag that moved locally replaces nothing
        (("some/other:image", "sha256:new"),),  # a pull of an image no container runs
    ],
)
def test_without_a_pull_of_its_image_nothing_is_replaced(
    pulled: tuple[tuple[str, str], ...],
) -> None:
    actual = _running_images(actual_matching(DESIRED), {"booth": "b1", "sidecar": "s1"})
    result = actions(attrs.evolve(actual, pulled=pulled))
    assert {role: action for role, (action, _) in result.items()} == dict.fromkeys(
        ("network", "volume", "sidecar", "booth"), "none"
    )


def test_the_same_image_id_after_a_pull_is_up_to_date() -> None:
    actual = _running_images(actual_matching(DESIRED), {"booth": "b1", "sidecar": "s1"})
    pulled = ((_images()["booth"], "b1"), (_images()["sidecar"], "s1"))
    assert (
        make_plan(DESIRED.instance, reconcile(DESIRED, attrs.evolve(actual, pulled=pulled))).steps
        == ()
    )


def _built_graph(tmp_path: Any) -> Any:
    from reconciler.config.booth_config import load_config

    (tmp_path / ".booth").mkdir()
    (tmp_path / ".booth" / "Dockerfile").write_text("FROM team/base:1 AS b\nFROM b\n")
    (tmp_path / ".booth" / "config.toml").write_text("dind = false\n")
    return build_desired(load_config(str(tmp_path), host_env={}))


@pytest.mark.parametrize(
    ("recorded", "pulled", "expected"),
    [
        ((("team/base:1", "sha256:a"),), (("team/base:1", "sha256:a"),), ("none", "none")),
        ((("team/base:1", "sha256:a"),), (), ("none", "none")),  # no pull: nothing known
        (
            (("team/base:1", "sha256:a"),),
            (("team/base:1", "sha256:b"),),
            ("replace", "base image updated by pull: team/base:1"),
        ),
        (
            (),  # built without pull: its base is unknown, so a pull rebuilds it once
            (("team/base:1", "sha256:b"),),
            ("replace", "base image pulled: team/base:1 (not recorded by the last build)"),
        ),
    ],
)
def test_a_pulled_base_image_rebuilds_the_image_and_replaces_the_booth(
    tmp_path: Any,
    recorded: tuple[tuple[str, str], ...],
    pulled: tuple[tuple[str, str], ...],
    expected: tuple[str, str],
) -> None:
    desired = _built_graph(tmp_path)
    assert desired.get("image").base_images == ("team/base:1",)
    actual = ActualState(
        tuple(
            attrs.evolve(o, base_images=recorded) if o.role == "image" else o
            for o in actual_matching(desired)
        ),
        pulled=pulled,
    )
    changes = {c.role: c for c in reconcile(desired, actual)}
    image = changes["image"]
    if expected[0] == "none":
        assert (image.action, changes["booth"].action) == ("none", "none")
        return
    assert (image.action, image.reason, image.reason_code) == (*expected, "image_updated")
    assert (changes["booth"].action, changes["booth"].reason_code) == ("replace", "image_rebuilt")


def test_a_container_whose_image_the_engine_did_not_report_is_not_replaced_by_a_pull() -> None:
    """No image ID observed (nothing to compare): a pull replaces nothing."""
    actual = _running_images(actual_matching(DESIRED), {"sidecar": "s1"})  # booth: None
    pulled = ((_images()["booth"], "sha256:new"), (_images()["sidecar"], "s1"))
    assert actions(attrs.evolve(actual, pulled=pulled))["booth"][0] == "none"


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        (
            (("team/base:1", "sha256:a"), ("team/tools:2", "sha256:c")),
            "base image updated by pull: team/base:1, team/tools:2",
        ),
        ((), "base image pulled: team/base:1, team/tools:2 (not recorded by the last build)"),
    ],
)
def test_every_pulled_base_is_named_in_the_reason(
    tmp_path: Any, recorded: tuple[tuple[str, str], ...], expected: str
) -> None:
    (tmp_path / ".booth").mkdir()
    (tmp_path / ".booth" / "Dockerfile").write_text(
        "FROM team/base:1 AS b\nFROM team/tools:2 AS t\nFROM b\n"
    )
    (tmp_path / ".booth" / "config.toml").write_text("dind = false\n")
    from reconciler.config.booth_config import load_config

    desired = build_desired(load_config(str(tmp_path), host_env={}))
    actual = ActualState(
        tuple(
            attrs.evolve(o, base_images=recorded) if o.role == "image" else o
            for o in actual_matching(desired)
        ),
        pulled=(("team/base:1", "sha256:b"), ("team/tools:2", "sha256:d")),
    )
    image = {c.role: c for c in reconcile(desired, actual)}["image"]
    assert (image.action, image.reason) == ("replace", expected)
