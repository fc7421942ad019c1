"""Reconcile + plan against a model of Docker: any drift converges in one apply.

Actual states are derived from the desired state of an *earlier* config of the same
instance (so DinD on→off leaves an owned network and sidecar behind, a port change leaves
a stale sidecar, …) and then drifted: objects deleted, stopped, killed, their spec hash
changed, or our network swapped for a foreign one.
"""

from __future__ import annotations

import attrs
from docker_model import DockerModel, ModelError, ModelObject
from hypothesis import given, settings
from hypothesis import strategies as st
from prop_support import PROJECT, actual_equal_to, configs

from reconciler.config.booth_config import BoothConfig
from reconciler.config.desired import build_desired
from reconciler.core.model import ActualState, DesiredGraph, Role, resource_names
from reconciler.core.plan import Plan, make_plan
from reconciler.core.reconcile import Action, Change, ReasonCode, destroy_changes, reconcile

BOOTH, NETWORK, SIDECAR, VOLUME = Role.BOOTH, Role.NETWORK, Role.SIDECAR, Role.VOLUME
CREATE, NONE, REMOVE, REPLACE, RESTART, START = (
    Action.CREATE,
    Action.NONE,
    Action.REMOVE,
    Action.REPLACE,
    Action.RESTART,
    Action.START,
)

CONTAINER_DRIFT = ("keep", "keep", "delete", "stop", "created", "dead", "stale")
OTHER_DRIFT = ("keep", "keep", "delete", "stale")
STATE_AFTER = {
    "keep": "running",
    "stale": "running",
    "stop": "exited",
    "created": "created",
    "dead": "dead",
}
STALE_HASH = "0" * 64


@attrs.frozen
class Scenario:
    old: BoothConfig
    new: BoothConfig
    drift: dict[str, str]
    foreign: tuple[str, ...]
    objects: dict[str, ModelObject]

    def model(self) -> DockerModel:
        """A fresh model (objects copied: the model mutates them)."""
        objects = {name: attrs.evolve(obj) for name, obj in self.objects.items()}
        return DockerModel(build_desired(self.new), objects)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    old, new = draw(configs()), draw(configs())
    before = build_desired(old)
    objects: dict[str, ModelObject] = {}
    drift: dict[str, str] = {}
    for resource in before:
        container = resource.kind == "container"
        change = draw(st.sampled_from(CONTAINER_DRIFT if container else OTHER_DRIFT))
        drift[resource.role] = change
        if change == "delete":
            continue
        obj = DockerModel.object_for(
            resource, before.dind, state=STATE_AFTER[change] if container else None
        )
        if change == "stale":
            obj.spec_hash = STALE_HASH
        objects[resource.name] = obj
    # Namespaces as they were before the drift: the booth joined a running sidecar.
    names = resource_names(PROJECT, 10000)
    sidecar, booth = objects.get(names[SIDECAR]), objects.get(names[BOOTH])
    built = before.get(Role.IMAGE)
    if booth is not None and built is not None:
        # The booth runs the image that was there (a "stale" one: another build).
        image = objects.get(built.name)
        booth.runs = image.spec_hash if image is not None else built.spec_hash
    if sidecar is not None and sidecar.running:
        sidecar.netns = 1
    if booth is not None and booth.running:
        booth.netns = 1 if booth.joins else 2
    # An object with one of our names that booth did not create.
    foreign = tuple(draw(st.lists(st.sampled_from((NETWORK, VOLUME)), unique=True, max_size=1)))
    for role in foreign:
        objects[names[role]] = ModelObject(kind=role, role=None, owned=False, spec_hash=None)
    return Scenario(old, new, drift, foreign, objects)


def plan_for(desired: DesiredGraph, actual: ActualState) -> Plan:
    return make_plan(desired.instance, reconcile(desired, actual))


def desired_changes(plan: Plan) -> dict[str, Change]:
    return {c.role: c for c in plan.changes if c.action != REMOVE}


# --- actual == desired ----------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(config=configs(), data=st.data())
def test_no_changes_when_actual_equals_desired(config: BoothConfig, data: st.DataObject) -> None:
    desired = build_desired(config)
    observed = data.draw(st.permutations(actual_equal_to(desired).objects))
    plan = plan_for(desired, ActualState(tuple(observed)))
    assert plan.steps == ()
    assert {c.action for c in plan.changes} == {NONE}
    assert plan.summary() == {"create": 0, "replace": 0, "start": 0, "remove": 0}


@settings(max_examples=100, deadline=None)
@given(config=configs())
def test_fresh_plan_creates_everything_in_order(config: BoothConfig) -> None:
    desired = build_desired(config)
    plan = plan_for(desired, ActualState())
    assert [c.action for c in plan.changes] == [CREATE] * len(desired.resources)
    ops = [(s.op, s.role) for s in plan.steps]
    # A build comes first (a booth cannot be created before its image exists).
    expected = [
        ("build-image" if r.kind == "image" else f"create-{r.role}", r.role)
        for r in desired
        if r.kind != "container"
    ]
    assert (expected[:1] == [("build-image", Role.IMAGE)]) is (config.build is not None)
    if config.dind:
        # Both are created before the privileged sidecar starts; the booth starts once
        # the inner daemon answers.
        expected += [
            ("create-container", SIDECAR),
            ("create-container", BOOTH),
            ("start-container", SIDECAR),
            ("wait-ready", SIDECAR),
            ("start-container", BOOTH),
        ]
    else:
        expected += [("create-container", BOOTH), ("start-container", BOOTH)]
    assert ops == expected


# --- any drift converges ----------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(scenario=scenarios())
def test_applying_the_plan_converges_and_a_second_plan_is_empty(scenario: Scenario) -> None:
    model = scenario.model()
    plan = plan_for(model.desired, model.actual())
    for step in plan.steps:
        model.apply(step)
    model.assert_converged()
    again = plan_for(model.desired, model.actual())
    assert again.steps == (), [(s.op, s.name, s.reason) for s in again.steps]


@settings(max_examples=200, deadline=None)
@given(scenario=scenarios())
def test_steps_follow_the_documented_order(scenario: Scenario) -> None:
    model = scenario.model()
    plan = plan_for(model.desired, model.actual())
    ops = [s.op for s in plan.steps]
    # A build first (the old booth keeps running while it builds), then teardown, then
    # build-up.
    builds = [i for i, op in enumerate(ops) if op == "build-image"]
    teardown = [i for i, op in enumerate(ops) if op.startswith(("stop-", "remove-"))]
    buildup = [i for i, op in enumerate(ops) if i not in builds and i not in teardown]
    assert builds == list(range(len(builds)))
    assert not teardown or not buildup or max(teardown) < min(buildup)
    rank = {Role.IMAGE: 0, NETWORK: 0, VOLUME: 0, SIDECAR: 1, BOOTH: 2}
    # Every create comes before the first (re)start, so nothing runs yet when the engine
    # refuses a create; each group goes in creation order. wait-ready sits where the
    # daemon must answer (checked below), not by rank.
    creates = [i for i in buildup if ops[i].startswith("create-")]
    starts = [i for i in buildup if ops[i] in ("start-container", "restart-container")]
    assert not creates or not starts or max(creates) < min(starts)
    for group in (creates, starts):
        ranks = [rank[plan.steps[i].role] for i in group]
        assert ranks == sorted(ranks)
    removal_ranks = [rank[plan.steps[i].role] for i in teardown]
    assert removal_ranks == sorted(removal_ranks, reverse=True)
    assert [s.index for s in plan.steps] == list(range(1, len(plan.steps) + 1))
    roles_ops = [(s.op, s.role) for s in plan.steps]
    booth_runs = [
        i
        for i, pair in enumerate(roles_ops)
        if pair in (("start-container", BOOTH), ("restart-container", BOOTH))
    ]
    if booth_runs and scenario.new.dind:
        # The booth never (re)starts before the inner daemon answers ...
        assert ops.count("wait-ready") == 1
        wait = ops.index("wait-ready")
        assert all(i > wait for i in booth_runs)
    if "wait-ready" in ops:
        wait = ops.index("wait-ready")
        # ... and the daemon is waited for only after its sidecar was (re)started.
        sidecar_starts = [
            i
            for i, pair in enumerate(roles_ops)
            if pair in (("start-container", SIDECAR), ("restart-container", SIDECAR))
        ]
        assert all(i < wait for i in sidecar_starts)


@settings(max_examples=200, deadline=None)
@given(scenario=scenarios())
def test_namespace_cascade(scenario: Scenario) -> None:
    model = scenario.model()
    changes = desired_changes(plan_for(model.desired, model.actual()))
    sidecar, booth = changes.get(SIDECAR), changes[BOOTH]
    if sidecar is None:
        assert booth.action != RESTART
        return
    if sidecar.action == REPLACE:
        assert booth.action in (REPLACE, CREATE)
    if sidecar.action == CREATE and booth.actual is not None:
        assert booth.action == REPLACE
    if sidecar.action == START and booth.actual is not None and booth.actual.running:
        assert booth.action in (RESTART, REPLACE)
        image = changes.get(Role.IMAGE)
        rebuilt = image is not None and image.action in (CREATE, REPLACE)
        if booth.actual.spec_hash == model.desired.get(BOOTH).spec_hash:  # type: ignore[union-attr]
            if rebuilt:  # a new image outranks the restart: the booth is made anew on it
                assert booth.action == REPLACE
                assert booth.reason_code == ReasonCode.IMAGE_REBUILT
            else:
                assert booth.action == RESTART
                assert booth.reason == "namespace owner restarted"
    if booth.action == RESTART:
        assert sidecar.action == START
    if booth.action == REPLACE and booth.reason == "namespace owner replaced":
        assert sidecar.action in (CREATE, REPLACE)


@settings(max_examples=100, deadline=None)
@given(scenario=scenarios(), remove_volumes=st.booleans())
def test_destroy_removes_everything_booth_owns(scenario: Scenario, remove_volumes: bool) -> None:
    model = scenario.model()
    before = dict(model.objects)
    plan = make_plan(
        model.desired.instance, destroy_changes(model.actual(), remove_volumes=remove_volumes)
    )
    for step in plan.steps:
        model.apply(step)
    # A built image stays: it is the next apply's build cache.
    left = {name: obj for name, obj in model.objects.items() if obj.owned}
    images = {name for name, obj in before.items() if obj.owned and obj.role == Role.IMAGE}
    assert images <= set(left)
    if remove_volumes:
        assert {obj.role for obj in left.values()} <= {Role.IMAGE}
    else:
        assert {obj.role for obj in left.values()} <= {VOLUME, Role.IMAGE}
    foreign = {name for name, obj in before.items() if not obj.owned}
    assert foreign <= set(model.objects)


def test_the_model_rejects_a_booth_in_a_dead_namespace() -> None:
    """Guards the model: without the cascade restart, the check above would fail."""
    from prop_support import config_from_raw

    desired = build_desired(config_from_raw({"project-name": PROJECT, "dind": True}))
    model = DockerModel(desired, {})
    for step in plan_for(desired, ActualState()).steps:
        model.apply(step)
    sidecar = desired.get(SIDECAR)
    assert sidecar is not None
    from reconciler.core.plan import Step

    model.apply(Step(0, "stop-container", SIDECAR, sidecar.name, "test", ReasonCode.SPEC_CHANGED))
    model.apply(Step(0, "start-container", SIDECAR, sidecar.name, "test", ReasonCode.SPEC_CHANGED))
    try:
        model.assert_converged()
    except AssertionError as err:
        assert "dead namespace" in str(err)
    else:  # pragma: no cover
        raise AssertionError("the model missed a booth left in a dead namespace")
    try:
        model.apply(
            Step(
                0,
                "remove-network",
                NETWORK,
                desired.get(NETWORK).name,
                "test",
                ReasonCode.SPEC_CHANGED,
            )
        )  # type: ignore[union-attr]
    except ModelError as err:
        assert "active endpoints" in str(err)
    else:  # pragma: no cover
        raise AssertionError("the model let a network with endpoints be removed")
