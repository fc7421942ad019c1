"""Every rule of ``reconcile`` and ``destroy_changes``, with its exact action, reason and code.

The reason is what a reviewer reads next to each line of a plan and the code is what a
machine reads (plan JSON ``reason_code``); both are promises. The graph is built by hand
(``tests/support/hand_graph.py``), so each test states one situation of one resource.
"""

from __future__ import annotations

import pytest
from hand_graph import (
    BOOTH,
    DESIRED,
    IMAGE,
    NAMES,
    NETWORK,
    SIDECAR,
    SPECS,
    VOLUME,
    actual,
    get,
    graph,
    resource,
    seen,
)

from reconciler.core.model import (
    CONTEXT_UNREAD,
    ActualState,
    DesiredGraph,
    Kind,
    Observed,
    Resource,
    Role,
    make_resource,
)
from reconciler.core.reconcile import Action, Change, ReasonCode, destroy_changes, reconcile
from reconciler.errors import ForeignObjectError


def by_role(changes: tuple[Change, ...]) -> dict[str, tuple[str, str, str]]:
    return {c.role: (c.action, c.reason_code, c.reason) for c in changes}


UP_TO_DATE = (Action.NONE, ReasonCode.UP_TO_DATE, "up to date")


# -- one resource, one rule -------------------------------------------------------------


def test_nothing_there_creates_everything_in_creation_order() -> None:
    changes = reconcile(DESIRED, ActualState())
    assert [c.role for c in changes] == ["image", "network", "volume", "sidecar", "booth"]
    for change in changes:
        assert (change.action, change.reason_code, change.reason) == (
            Action.CREATE,
            ReasonCode.NOT_FOUND,
            "not found",
        )
        assert change.actual is None
        assert change.desired_summary() == {"role": change.role.value}


def test_everything_as_desired_is_up_to_date_and_keeps_what_was_seen() -> None:
    state = actual()
    changes = reconcile(DESIRED, state)
    assert set(by_role(changes).values()) == {UP_TO_DATE}
    assert [c.actual for c in changes] == list(state.objects)


@pytest.mark.parametrize("state", ["restarting", "paused"])
def test_a_container_that_is_busy_but_up_counts_as_running(state: str) -> None:
    changes = by_role(reconcile(DESIRED, actual(booth=seen(BOOTH, state=state))))
    assert changes["booth"] == UP_TO_DATE


def test_an_image_under_another_tag_is_replaced_naming_the_old_tag() -> None:
    # The tag follows the project and variant, not the instance: a new variant renames it.
    changes = by_role(reconcile(DESIRED, actual(image=seen(IMAGE, name="booth-local:old"))))
    assert changes["image"] == (
        Action.REPLACE,
        ReasonCode.NAME_CHANGED,
        "spec changed: name (was booth-local:old)",
    )
    assert changes["booth"] == (Action.REPLACE, ReasonCode.IMAGE_REBUILT, "image rebuilt")


def test_a_changed_container_spec_names_the_changed_fields() -> None:
    old = resource(Role.SIDECAR, Env=["A=2"], HostConfig={"Privileged": False})
    changes = by_role(reconcile(DESIRED, actual(sidecar=seen(old, name=SIDECAR.name))))
    assert changes["sidecar"] == (
        Action.REPLACE,
        ReasonCode.SPEC_CHANGED,
        "spec changed: env, privileged",
    )


def test_a_changed_hash_with_no_field_to_name_still_replaces() -> None:
    # An object labelled by an older booth may carry the hash without per-field hashes
    # that tell the difference; the replacement must still happen, and say so.
    changes = by_role(reconcile(DESIRED, actual(booth=seen(BOOTH, spec_hash="0" * 64))))
    assert changes["booth"] == (Action.REPLACE, ReasonCode.SPEC_CHANGED, "spec changed: spec")


def test_a_drifted_data_volume_is_kept_and_says_why() -> None:
    old = resource(Role.VOLUME, Driver="other")
    changes = by_role(reconcile(DESIRED, actual(volume=seen(old))))
    assert changes["volume"] == (
        Action.NONE,
        ReasonCode.DATA_KEPT,
        "spec changed: driver; kept: holds data",
    )
    assert changes["sidecar"] == UP_TO_DATE  # mounting does not cascade


@pytest.mark.parametrize(
    ("old_spec", "why"),
    [
        ({"dockerfile": "d0"}, "Dockerfile changed"),
        ({"dockerfile": "d0", "context": "c0"}, "build context changed, Dockerfile changed"),
        ({"buildArgs": {"A": "1"}, "buildArgsHash": "h"}, "build args changed"),
        ({"dockerfilePath": "x/Dockerfile"}, "Dockerfile moved"),
        ({"contextDir": "x"}, "build context moved"),
        ({"tag": "old:tag"}, "tag changed"),
        ({"platform": "arm64"}, "platform changed"),
    ],
)
def test_a_changed_image_says_which_build_input_changed(
    old_spec: dict[str, object], why: str
) -> None:
    old = make_resource(Role.IMAGE, IMAGE.name, {**SPECS[Role.IMAGE], **old_spec}, {})
    changes = by_role(reconcile(DESIRED, actual(image=seen(old))))
    assert changes["image"] == (Action.REPLACE, ReasonCode.BUILD_INPUTS_CHANGED, why)
    assert changes["booth"] == (Action.REPLACE, ReasonCode.IMAGE_REBUILT, "image rebuilt")


def test_an_image_hash_change_with_no_field_to_name_says_spec_changed() -> None:
    changes = by_role(reconcile(DESIRED, actual(image=seen(IMAGE, spec_hash="0" * 64))))
    assert changes["image"] == (Action.REPLACE, ReasonCode.BUILD_INPUTS_CHANGED, "spec changed")


def test_a_dead_container_is_replaced() -> None:
    changes = by_role(reconcile(DESIRED, actual(sidecar=seen(SIDECAR, state="dead"))))
    assert changes["sidecar"] == (Action.REPLACE, ReasonCode.DEAD, "dead")
    assert changes["booth"] == (
        Action.REPLACE,
        ReasonCode.NAMESPACE_OWNER_REPLACED,
        "namespace owner replaced",
    )


@pytest.mark.parametrize("state", ["created", "exited", None])
def test_a_container_that_is_not_running_is_started(state: str | None) -> None:
    changes = by_role(reconcile(DESIRED, actual(booth=seen(BOOTH, state=state))))
    assert changes["booth"] == (Action.START, ReasonCode.STOPPED, "stopped")
    assert changes["sidecar"] == UP_TO_DATE


# -- objects booth did not create -------------------------------------------------------


def test_a_foreign_image_under_our_tag_is_built_again() -> None:
    changes = reconcile(DESIRED, actual(image=seen(IMAGE, owned=False)))
    image = changes[0]
    assert (image.role, image.action, image.reason_code, image.reason) == (
        Role.IMAGE,
        Action.REPLACE,
        ReasonCode.BUILD_INPUTS_CHANGED,
        "tag exists, not built by booth: built again",
    )
    assert image.actual is None  # never touched: the build only moves the tag


@pytest.mark.parametrize("role", [Role.NETWORK, Role.VOLUME])
def test_a_foreign_network_or_volume_is_used_as_is(role: Role) -> None:
    foreign = seen(get(role), owned=False)
    changes = {c.role: c for c in reconcile(DESIRED, actual(**{role.value: foreign}))}
    change = changes[role]
    assert (change.action, change.reason_code, change.reason) == (
        Action.EXTERNAL,
        ReasonCode.EXTERNAL,
        f"{role.value} exists, not created by booth: used as is",
    )
    assert change.actual == foreign
    assert changes[Role.SIDECAR].action == Action.NONE


@pytest.mark.parametrize("role", [Role.SIDECAR, Role.BOOTH])
def test_a_foreign_container_with_our_name_stops_reconcile(role: Role) -> None:
    name = NAMES[role]
    with pytest.raises(ForeignObjectError) as caught:
        reconcile(DESIRED, actual(**{role.value: seen(get(role), owned=False)}))
    assert str(caught.value) == (
        f"container {name!r} exists but was not created by booth (no io.codingbooth labels "
        "for this instance); booth will not touch it: remove or rename it yourself, or "
        "choose another `name` or `port`"
    )


# -- cascades ---------------------------------------------------------------------------


def test_a_new_sidecar_replaces_the_booth_in_its_namespace() -> None:
    changes = by_role(reconcile(DESIRED, actual(sidecar=None)))
    assert changes["sidecar"] == (Action.CREATE, ReasonCode.NOT_FOUND, "not found")
    assert changes["booth"] == (
        Action.REPLACE,
        ReasonCode.NAMESPACE_OWNER_REPLACED,
        "namespace owner replaced",
    )


def test_a_missing_dependent_is_created_not_replaced() -> None:
    changes = by_role(reconcile(DESIRED, actual(sidecar=None, booth=None)))
    assert changes["booth"] == (Action.CREATE, ReasonCode.NOT_FOUND, "not found")


def test_a_dependent_replaced_for_its_own_reason_keeps_that_reason() -> None:
    changes = by_role(reconcile(DESIRED, actual(sidecar=None, booth=seen(BOOTH, state="dead"))))
    assert changes["booth"] == (Action.REPLACE, ReasonCode.DEAD, "dead")


def test_a_started_sidecar_restarts_the_running_booth() -> None:
    changes = by_role(reconcile(DESIRED, actual(sidecar=seen(SIDECAR, state="exited"))))
    assert changes["sidecar"] == (Action.START, ReasonCode.STOPPED, "stopped")
    assert changes["booth"] == (
        Action.RESTART,
        ReasonCode.NAMESPACE_OWNER_RESTARTED,
        "namespace owner restarted",
    )


def test_a_started_sidecar_leaves_a_stopped_booth_to_be_started() -> None:
    state = actual(sidecar=seen(SIDECAR, state="exited"), booth=seen(BOOTH, state="exited"))
    assert by_role(reconcile(DESIRED, state))["booth"] == (
        Action.START,
        ReasonCode.STOPPED,
        "stopped",
    )


def test_a_new_volume_cascades_to_nothing() -> None:
    changes = by_role(reconcile(DESIRED, actual(volume=None)))
    assert changes["volume"] == (Action.CREATE, ReasonCode.NOT_FOUND, "not found")
    assert changes["sidecar"] == UP_TO_DATE
    assert changes["booth"] == UP_TO_DATE


def test_a_graph_without_a_sidecar_cascades_from_the_image_only() -> None:
    alone = graph(IMAGE, BOOTH)
    state = ActualState((seen(BOOTH),))
    assert by_role(reconcile(alone, state)) == {
        "image": (Action.CREATE, ReasonCode.NOT_FOUND, "not found"),
        "booth": (Action.REPLACE, ReasonCode.IMAGE_REBUILT, "image rebuilt"),
    }


def test_a_new_network_replaces_the_sidecar_attached_to_it() -> None:
    changes = by_role(reconcile(DESIRED, actual(network=None)))
    assert changes["sidecar"] == (Action.REPLACE, ReasonCode.NETWORK_REPLACED, "network replaced")
    assert changes["booth"] == (
        Action.REPLACE,
        ReasonCode.NAMESPACE_OWNER_REPLACED,
        "namespace owner replaced",
    )


def test_a_graph_without_an_image_still_cascades_from_the_sidecar() -> None:
    pulled = graph(NETWORK, VOLUME, SIDECAR, BOOTH)  # the booth's image is pulled, not built
    changes = by_role(reconcile(pulled, actual(image=None, sidecar=None)))
    assert changes["booth"] == (
        Action.REPLACE,
        ReasonCode.NAMESPACE_OWNER_REPLACED,
        "namespace owner replaced",
    )


# -- removal ----------------------------------------------------------------------------


def leftover(name: str, kind: Kind, role: Role | None, state: str | None = "running") -> Observed:
    return Observed(kind=kind, name=name, id=f"id-{name}", owned=True, role=role, state=state)


def removals(changes: tuple[Change, ...]) -> list[tuple[str, str, str, str]]:
    return [(c.name, c.role, c.reason_code, c.reason) for c in changes if c.action == Action.REMOVE]


def test_owned_objects_nothing_asks_for_are_removed_booth_first() -> None:
    alone = graph(BOOTH)
    changes = reconcile(alone, actual())
    assert removals(changes) == [
        (SIDECAR.name, "sidecar", ReasonCode.NOT_DESIRED, "not desired"),
        (NETWORK.name, "network", ReasonCode.NOT_DESIRED, "not desired"),
    ]  # the data volume and the built image stay
    assert all(c.desired is None and c.actual is not None for c in changes[1:])


def test_foreign_objects_are_never_removed() -> None:
    foreign = seen(NETWORK, owned=False, name="someone-elses-net")
    assert removals(reconcile(DESIRED, ActualState((*actual().objects, foreign)))) == []


def test_an_owned_object_without_a_role_is_removed_in_its_kinds_place() -> None:
    strays = (
        leftover("z-net", Kind.NETWORK, None, None),
        leftover("b-box", Kind.CONTAINER, None),
        leftover("a-box", Kind.CONTAINER, None),
        leftover("x-vol", Kind.VOLUME, None, None),  # kept, as any data volume is
        leftover("x:img", Kind.IMAGE, None, None),
    )
    changes = reconcile(DESIRED, ActualState((*actual().objects, *strays)))
    assert removals(changes) == [
        ("a-box", "booth", ReasonCode.NOT_DESIRED, "not desired"),
        ("b-box", "booth", ReasonCode.NOT_DESIRED, "not desired"),
        ("z-net", "network", ReasonCode.NOT_DESIRED, "not desired"),
    ]
    assert [c.kind for c in changes if c.action == Action.REMOVE] == ["container"] * 2 + ["network"]


@pytest.mark.parametrize("remove_volumes", [False, True])
def test_destroy_removes_what_booth_owns_in_teardown_order(remove_volumes: bool) -> None:
    strays = (
        leftover("x-vol", Kind.VOLUME, None, None),  # a data volume even without its role
        leftover("x:img", Kind.IMAGE, None, None),
        leftover("a-box", Kind.CONTAINER, None),
    )
    foreign = seen(NETWORK, owned=False, name="someone-elses-net")
    changes = destroy_changes(
        ActualState((*strays, foreign, *actual().objects)), remove_volumes=remove_volumes
    )
    expected = [("a-box", "booth"), (BOOTH.name, "booth"), (SIDECAR.name, "sidecar")]
    expected.append((NETWORK.name, "network"))
    if remove_volumes:
        expected += [(VOLUME.name, "volume"), ("x-vol", "volume")]
    assert [(c.name, c.role) for c in changes] == expected  # the image is never removed
    assert {(c.action, c.reason_code, c.reason) for c in changes} == {
        (Action.REMOVE, ReasonCode.DESTROY, "not desired: destroy")
    }


def _image_graph(dockerfile: str, context: str) -> tuple[Resource, DesiredGraph]:
    """The graph with an image spec keyed as ``desired._image`` keys it."""
    spec = {"Tag": IMAGE.name, "Dockerfile": dockerfile, "Context": context}
    image = make_resource(Role.IMAGE, IMAGE.name, spec, {})
    return image, graph(image, *(r for r in DESIRED if r.role != Role.IMAGE))


@pytest.mark.parametrize(
    ("built", "wanted", "expected"),
    [
        # a build that reads no file of its context, before or now: not rebuilt for it
        (("d1", "c-old"), ("d1", CONTEXT_UNREAD), UP_TO_DATE),
        (("d1", CONTEXT_UNREAD), ("d1", "c-now"), UP_TO_DATE),
        # the context is no reason when the Dockerfile changed from or to reading none
        (
            ("d0", CONTEXT_UNREAD),
            ("d1", "c-now"),
            (Action.REPLACE, ReasonCode.BUILD_INPUTS_CHANGED, "Dockerfile changed"),
        ),
        (
            ("d0", "c-old"),
            ("d1", CONTEXT_UNREAD),
            (Action.REPLACE, ReasonCode.BUILD_INPUTS_CHANGED, "Dockerfile changed"),
        ),
        # between two hashes of the context, it counts
        (
            ("d1", "c-old"),
            ("d1", "c-now"),
            (Action.REPLACE, ReasonCode.BUILD_INPUTS_CHANGED, "build context changed"),
        ),
    ],
)
def test_the_context_counts_only_between_two_hashes_of_it(
    built: tuple[str, str], wanted: tuple[str, str], expected: tuple[str, str, str]
) -> None:
    old, _ = _image_graph(*built)
    _, desired = _image_graph(*wanted)
    assert by_role(reconcile(desired, actual(image=seen(old))))["image"] == expected
