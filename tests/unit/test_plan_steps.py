"""Plans step by step: each engine call, its cause, and the steps it waits for.

Each test is one situation of the hand-built graph (``tests/support/hand_graph.py``) and
its whole plan: operation, role, reason text, reason code and ``depends_on``. Together
they state the ordering rules of ``core/plan.py``'s docstring: a build first; teardown before
any build-up, along the edges' reverse; a sidecar after its network and volume; every
create before the first start (a booth created before its sidecar starts) and a booth
started only once the inner daemon answers.
"""

from __future__ import annotations

import pytest
from hand_graph import (
    BOOTH,
    DESIRED,
    IMAGE,
    INSTANCE,
    NETWORK,
    SIDECAR,
    VOLUME,
    actual,
    graph,
    seen,
)

from reconciler.core.model import ActualState, DesiredGraph
from reconciler.core.plan import Plan, make_plan
from reconciler.core.reconcile import destroy_changes, reconcile

Row = tuple[str, str, str, str, tuple[int, ...]]


def plan_for(state: ActualState, desired: DesiredGraph = DESIRED) -> Plan:
    return make_plan(INSTANCE, reconcile(desired, state))


def rows(plan: Plan) -> list[Row]:
    assert [s.index for s in plan.steps] == list(range(1, len(plan.steps) + 1))
    return [(s.op, s.role, s.reason, s.reason_code, s.depends_on) for s in plan.steps]


def test_a_fresh_booth_builds_first_and_starts_once_the_daemon_answers() -> None:
    # Both containers are created before the privileged sidecar starts: a create the
    # engine refuses then leaves nothing running.
    assert rows(plan_for(ActualState())) == [
        ("build-image", "image", "not found", "not_found", ()),
        ("create-network", "network", "not found", "not_found", ()),
        ("create-volume", "volume", "not found", "not_found", ()),
        ("create-container", "sidecar", "not found", "not_found", (2, 3)),
        ("create-container", "booth", "not found", "not_found", (1, 4)),
        ("start-container", "sidecar", "not found", "not_found", (4,)),
        ("wait-ready", "sidecar", "inner Docker daemon starting", "daemon_starting", (6,)),
        ("start-container", "booth", "not found", "not_found", (5, 7)),
    ]


def test_steps_carry_what_they_act_on() -> None:
    plan = plan_for(actual(booth=seen(BOOTH, state="dead")))
    by_op = {s.op: s for s in plan.steps}
    assert by_op["remove-container"].name == BOOTH.name
    assert by_op["remove-container"].observed == seen(BOOTH, state="dead")
    assert by_op["create-container"].desired == BOOTH
    assert by_op["wait-ready"].name == SIDECAR.name
    assert by_op["wait-ready"].desired == SIDECAR


def test_a_stopped_booth_next_to_a_running_sidecar_waits_for_its_daemon() -> None:
    # After a crash mid-apply the inner daemon may not be up yet.
    assert rows(plan_for(actual(booth=seen(BOOTH, state="exited")))) == [
        (
            "wait-ready",
            "sidecar",
            "the booth starts only once the inner daemon answers",
            "daemon_check",
            (),
        ),
        ("start-container", "booth", "stopped", "stopped", (1,)),
    ]


def test_a_started_sidecar_restarts_the_booth_after_its_daemon_answers() -> None:
    assert rows(plan_for(actual(sidecar=seen(SIDECAR, state="exited")))) == [
        ("start-container", "sidecar", "stopped", "stopped", ()),
        ("wait-ready", "sidecar", "inner Docker daemon starting", "daemon_starting", (1,)),
        (
            "restart-container",
            "booth",
            "namespace owner restarted",
            "namespace_owner_restarted",
            (2,),
        ),
    ]


def test_a_replaced_sidecar_goes_after_its_booth_and_comes_back_before_it() -> None:
    cascade = ("namespace owner replaced", "namespace_owner_replaced")
    assert rows(plan_for(actual(sidecar=seen(SIDECAR, state="dead")))) == [
        ("stop-container", "booth", *cascade, ()),
        ("remove-container", "booth", *cascade, (1,)),
        ("remove-container", "sidecar", "dead", "dead", (2,)),  # a dead one is not stopped
        ("create-container", "sidecar", "dead", "dead", (1, 2, 3)),
        ("create-container", "booth", *cascade, (1, 2, 3, 4)),
        ("start-container", "sidecar", "dead", "dead", (4,)),
        ("wait-ready", "sidecar", "inner Docker daemon starting", "daemon_starting", (6,)),
        ("start-container", "booth", *cascade, (5, 7)),
    ]


def test_the_old_booth_goes_only_once_its_new_image_is_built() -> None:
    rebuilt = ("image rebuilt", "image_rebuilt")
    check = ("the booth starts only once the inner daemon answers", "daemon_check")
    assert rows(plan_for(actual(image=seen(IMAGE, spec_hash="0" * 64)))) == [
        ("build-image", "image", "spec changed", "build_inputs_changed", ()),
        ("stop-container", "booth", *rebuilt, (1,)),
        ("remove-container", "booth", *rebuilt, (2,)),
        ("create-container", "booth", *rebuilt, (1, 2, 3)),
        ("wait-ready", "sidecar", *check, (2, 3)),
        ("start-container", "booth", *rebuilt, (4, 5)),
    ]


def test_a_build_goes_before_any_removal_even_one_that_does_not_wait_for_it() -> None:
    # A build that fails has then changed nothing: the old sidecar is still there.
    alone = graph(IMAGE, BOOTH)  # DinD turned off, with a new Dockerfile
    state = actual(image=seen(IMAGE, spec_hash="0" * 64), booth=None, volume=None)
    gone = ("not desired", "not_desired")
    assert rows(plan_for(state, alone)) == [
        ("build-image", "image", "spec changed", "build_inputs_changed", ()),
        ("stop-container", "sidecar", *gone, ()),
        ("remove-container", "sidecar", *gone, (2,)),
        ("remove-network", "network", *gone, (3,)),
        ("create-container", "booth", "not found", "not_found", (1, 2, 3, 4)),
        ("start-container", "booth", "not found", "not_found", (5,)),
    ]


def test_a_new_network_replaces_the_sidecar_and_the_booth_in_teardown_order() -> None:
    network = ("network replaced", "network_replaced")
    owner = ("namespace owner replaced", "namespace_owner_replaced")
    assert rows(plan_for(actual(network=None))) == [
        ("stop-container", "booth", *owner, ()),
        ("remove-container", "booth", *owner, (1,)),
        ("stop-container", "sidecar", *network, (2,)),
        ("remove-container", "sidecar", *network, (3,)),
        ("create-network", "network", "not found", "not_found", (1, 2, 3, 4)),
        ("create-container", "sidecar", *network, (1, 2, 3, 4, 5)),
        ("create-container", "booth", *owner, (1, 2, 3, 4, 6)),
        ("start-container", "sidecar", *network, (6,)),
        ("wait-ready", "sidecar", "inner Docker daemon starting", "daemon_starting", (8,)),
        ("start-container", "booth", *owner, (7, 9)),
    ]


def test_a_foreign_image_is_built_again_and_never_removed() -> None:
    plan = plan_for(actual(image=seen(IMAGE, owned=False)))
    assert [(s.op, s.role) for s in plan.steps][:1] == [("build-image", "image")]
    assert "remove-image" not in [s.op for s in plan.steps]


def test_destroy_removes_in_teardown_order_and_keeps_the_image() -> None:
    changes = destroy_changes(actual(booth=seen(BOOTH, state="exited")), remove_volumes=True)
    why = ("not desired: destroy", "destroy")
    assert rows(make_plan(INSTANCE, changes)) == [
        ("remove-container", "booth", *why, ()),
        ("stop-container", "sidecar", *why, (1,)),
        ("remove-container", "sidecar", *why, (2,)),
        ("remove-network", "network", *why, (3,)),
        ("remove-volume", "volume", *why, (3,)),
    ]


# -- the summary line -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "summary"),
    [
        (ActualState(), {"create": 5, "replace": 0, "start": 0, "remove": 0}),
        (actual(), {"create": 0, "replace": 0, "start": 0, "remove": 0}),
        (
            actual(sidecar=seen(SIDECAR, state="dead")),
            {"create": 0, "replace": 2, "start": 0, "remove": 0},
        ),
        # a restart counts as a start
        (
            actual(sidecar=seen(SIDECAR, state="exited")),
            {"create": 0, "replace": 0, "start": 2, "remove": 0},
        ),
        # foreign objects used as they are count as nothing
        (
            actual(network=seen(NETWORK, owned=False), volume=seen(VOLUME, owned=False)),
            {"create": 0, "replace": 0, "start": 0, "remove": 0},
        ),
    ],
)
def test_the_summary_counts_changes_by_what_they_do(
    state: ActualState, summary: dict[str, int]
) -> None:
    plan = plan_for(state)
    assert plan.summary() == summary
    assert plan.has_changes is any(summary.values())


def test_the_summary_counts_removals() -> None:
    alone = DesiredGraph(INSTANCE, False, (BOOTH,), ())
    plan = plan_for(actual(), alone)
    assert plan.summary() == {"create": 0, "replace": 0, "start": 0, "remove": 2}
