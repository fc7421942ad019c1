"""A container is stopped before it is removed whenever the engine says it is up.

``docker rm`` refuses a container that is running, paused or restarting ("stop the
container before attempting removal or force remove"): each of those states needs a
stop first (dockerd's stop unpauses a paused container and cancels a restart loop). A
container that is created, exited or dead is removed as it is. Checked for destroy and
for a replacement, the two paths that remove containers.
"""

from __future__ import annotations

import pytest
from hand_graph import BOOTH, INSTANCE, SIDECAR, actual, graph, resource, seen

from reconciler.core.model import RUNNING_STATES, Observed
from reconciler.core.plan import make_plan
from reconciler.core.reconcile import destroy_changes, reconcile

UP = ("running", "paused", "restarting")
DOWN = ("created", "exited", "dead", "removing")


def container_ops(changes_plan: object, name: str) -> list[str]:
    return [s.op for s in changes_plan.steps if s.name == name]  # type: ignore[attr-defined]


@pytest.mark.parametrize("state", UP + DOWN)
def test_observed_running_means_the_engine_keeps_it_up(state: str) -> None:
    assert Observed("container", "c", "i", owned=True, state=state).running is (state in UP)
    assert (state in RUNNING_STATES) is (state in UP)


@pytest.mark.parametrize("state", UP + DOWN)
def test_destroy_stops_an_up_container_before_removing_it(state: str) -> None:
    changes = destroy_changes(actual(booth=seen(BOOTH, state=state)), remove_volumes=False)
    ops = container_ops(make_plan(INSTANCE, changes), BOOTH.name)
    expected = ["stop-container", "remove-container"] if state in UP else ["remove-container"]
    assert ops == expected


@pytest.mark.parametrize("state", UP + DOWN)
def test_a_replacement_stops_an_up_container_before_removing_it(state: str) -> None:
    changed = graph(
        *(resource(r.role, Changed=True) if r.role == SIDECAR.role else r for r in graph())
    )
    plan = make_plan(INSTANCE, reconcile(changed, actual(sidecar=seen(SIDECAR, state=state))))
    ops = container_ops(plan, SIDECAR.name)
    teardown = ["stop-container", "remove-container"] if state in UP else ["remove-container"]
    assert ops[: len(teardown)] == teardown
    assert "remove-container" not in ops[len(teardown) :]
    steps = {(s.op, s.name): s.index for s in plan.steps}
    if state in UP:
        stop, remove = (
            steps[("stop-container", SIDECAR.name)],
            steps[("remove-container", SIDECAR.name)],
        )
        assert stop < remove
        assert stop in plan.steps[remove - 1].depends_on
