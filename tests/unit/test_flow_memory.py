"""``flow.Flow.converge`` on the in-memory engine: the one flow of apply, destroy, run and
a session's clean-up (lock → observe → plan → show → preflight → execute), with the real
lock, preflight, executor and observer; only the engine is in memory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from booth_builders import config_from_toml
from memory_apply import PROBE_CALLS, engine_for, foreign_holding, owned_names

from reconciler.app.flow import Converged, Flow, Goal, run_steps
from reconciler.app.session import remove_session_objects, split_at_booth_start
from reconciler.apply.execute import Executor, StepResult
from reconciler.apply.lock import instance_lock
from reconciler.config.booth_config import BoothConfig, InstanceRef
from reconciler.config.desired import build_desired
from reconciler.core.model import ActualState, Role, resource_names
from reconciler.core.plan import Op, Plan, Step
from reconciler.core.reconcile import Change, destroy_changes, reconcile
from reconciler.errors import ExecutionError, InstanceTakenError, LockedError

DIND = 'name = "demo"\nport = 10000\ndind = true\nrun-args = ["-p", "8080:8080"]\n'
NAMES = resource_names("demo", 10000)
REF = InstanceRef("demo", 10000)


@pytest.fixture(autouse=True)
def _own_lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real instance lock, in this test's directory; a held lock fails at once."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("BOOTH_LOCK_TIMEOUT", "0")


def apply_goal(flow: Flow, config: BoothConfig, **settings: Any) -> Goal:
    """What ``Workspace.apply`` asks of the flow for ``config``."""
    desired = build_desired(config)
    return Goal(
        InstanceRef(config.name, config.port),
        lambda actual: reconcile(desired, actual),
        observe=lambda: flow.observe_desired(config, desired),
        ready_timeout=1.0,
        **settings,
    )


def teardown(actual: ActualState) -> Sequence[Change]:
    return destroy_changes(actual, remove_volumes=True)


def lock_is_held() -> bool:
    try:
        with instance_lock("memory://", "demo"):
            return False
    except LockedError:
        return True


def test_an_apply_runs_its_plan_and_then_finds_nothing_to_do() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    flow = Flow(engine)
    first = flow.converge(apply_goal(flow, config), run_steps)
    assert first.result is not None
    assert [r.step for r in first.result] == list(first.plan.steps)
    assert owned_names(engine, "demo") == set(NAMES.values())
    writes = list(engine.memory.calls)
    again = flow.converge(apply_goal(flow, config), run_steps)
    assert again == Converged(again.plan, again.actual, None)  # nothing ran
    assert not again.plan.has_changes
    assert engine.memory.calls == writes


def test_the_lock_is_held_from_the_observation_to_the_last_step() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    flow = Flow(engine)
    held: list[str] = []
    goal = apply_goal(flow, config)

    def observe() -> ActualState:
        held.append(f"observe {lock_is_held()}")
        assert goal.observe is not None
        return goal.observe()

    def execute(executor: Executor, plan: Plan, actual: ActualState) -> list[StepResult]:
        done = executor.run(plan, actual)
        held.append(f"executed {lock_is_held()}")
        return done

    flow.converge(Goal(REF, goal.changes, observe=observe, ready_timeout=1.0), execute)
    assert held == ["observe True", "executed True"]
    assert not lock_is_held()


def test_a_caller_that_holds_the_lock_converges_under_it() -> None:
    """A session's clean-up after a failure runs while the session holds the lock."""
    config = config_from_toml(DIND)
    engine = engine_for(config)
    flow = Flow(engine)
    flow.converge(apply_goal(flow, config), run_steps)
    with instance_lock(engine.address, "demo"):
        with pytest.raises(LockedError):
            flow.converge(Goal(REF, teardown), run_steps)
        assert owned_names(engine, "demo") == set(NAMES.values())
        flow.converge(Goal(REF, teardown), run_steps, locked=True)
    assert owned_names(engine, "demo") == set()


def test_a_dry_run_shows_the_plan_and_changes_nothing() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    flow = Flow(engine)
    shown: list[Plan] = []
    converged = flow.converge(
        apply_goal(flow, config, dry_run=True, on_plan=lambda plan, _: shown.append(plan)),
        run_steps,
    )
    assert shown == [converged.plan] and converged.plan.has_changes
    assert converged.result is None
    assert engine.memory.calls == []


def test_a_plan_refused_when_shown_changes_nothing() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    flow = Flow(engine)

    def refuse(plan: Plan, _actual: ActualState) -> None:
        raise InstanceTakenError(f"refused {len(plan.steps)} steps")

    with pytest.raises(InstanceTakenError, match="refused 7 steps"):
        flow.converge(apply_goal(flow, config, on_plan=refuse), run_steps)
    assert engine.memory.calls == []


def test_the_preflight_names_the_container_holding_a_port_before_creating_anything() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    foreign_holding(engine, config.image, 8080)
    before = list(engine.memory.calls)
    flow = Flow(engine)
    with pytest.raises(ExecutionError, match="8080 \\(held by container squatter\\)"):
        flow.converge(apply_goal(flow, config), run_steps)
    assert engine.memory.calls == [*before, *PROBE_CALLS]  # the probe, gone again


def test_the_preflight_checks_what_the_engine_would_refuse_before_any_step() -> None:
    config = config_from_toml(DIND.replace('"8080:8080"', '"8080:8080", "--pid", "container:x"'))
    engine = engine_for(config)
    flow = Flow(engine)
    with pytest.raises(ExecutionError, match="has no container x \\(nothing was created\\)"):
        flow.converge(apply_goal(flow, config), run_steps)
    assert engine.memory.calls == PROBE_CALLS  # the probe, gone again


def test_a_teardown_is_not_held_up_by_a_port_someone_else_holds() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    flow = Flow(engine)
    flow.converge(apply_goal(flow, config), run_steps)
    engine.primitives.stop(NAMES[Role.SIDECAR], 0)
    foreign_holding(engine, config.image, 8080)
    flow.converge(Goal(REF, teardown), run_steps)
    assert owned_names(engine, "demo") == set()


def test_steps_are_counted_against_the_whole_plan_when_it_runs_in_parts() -> None:
    """A session runs its plan in two parts (attaching between the booth's create and
    start); its progress still reads [7/7], not [1/1]."""
    config = config_from_toml(DIND)
    engine = engine_for(config)
    seen: list[tuple[Op, int]] = []

    class Recording:
        def start(self, step: Step, total: int) -> None:
            seen.append((step.op, total))

        def done(self, step: Step, total: int, seconds: float, ok: bool = True) -> None:
            assert total == 7

        def note(self, message: str) -> None:
            pass

    def in_parts(executor: Executor, plan: Plan, actual: ActualState) -> int:
        before, start = split_at_booth_start(plan)
        assert before.steps and start.steps
        return len(executor.run(before, actual) + executor.run(start, actual))

    flow = Flow(engine, Recording())
    assert flow.converge(apply_goal(flow, config), in_parts).result == 7
    assert [total for _, total in seen] == [7] * 7
    assert seen[-1][0] == Op.START_CONTAINER


@pytest.mark.parametrize("keep_network", [True, False])
def test_a_sessions_clean_up_leaves_the_volume_and_a_network_that_existed(
    keep_network: bool,
) -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    flow = Flow(engine)
    flow.converge(apply_goal(flow, config), run_steps)
    remove_session_objects(flow, REF, keep_network=keep_network, locked=False)
    kept = {NAMES[Role.VOLUME]} | ({NAMES[Role.NETWORK]} if keep_network else set())
    assert owned_names(engine, "demo") == kept
