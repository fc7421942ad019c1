"""The one flow that changes an engine: lock → observe → plan → preflight → execute.

``apply``, ``destroy``, ``run`` (a session) and a session's clean-up differ only in what
they converge to, what they show of the plan and how they run it. A :class:`Goal` says
the first two, an ``execute`` callable the third, and :meth:`Flow.converge` does the
rest, once: the instance lock is held from before the engine is observed until the last
step (no other run comes between what was seen and what is done), every check the
engine can fail is made before the first step (``preflight.check_plan``), and the
executor is built the same way for all of them. The caller connects (``Flow.engine``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar

import attrs

from reconciler.app.loading import Loading
from reconciler.apply import preflight
from reconciler.apply.images import pull_images
from reconciler.apply.progress import NullProgress, Progress
from reconciler.config.booth_config import DEFAULT_READY_TIMEOUT, BoothConfig, InstanceRef
from reconciler.config.runargs.routing import Word
from reconciler.core.model import ActualState, DesiredGraph, Kind, Role, legacy_instance
from reconciler.core.plan import Plan, Step, make_plan
from reconciler.core.reconcile import Change
from reconciler.engine.engine import Engine

if TYPE_CHECKING:
    from reconciler.apply.execute import BeforeStep, Executor, StepResult

T = TypeVar("T")
OnPlan = Callable[[Plan, ActualState], None]
# Runs a plan (after the preflight, with the lock held) on the executor the flow built.
Execute = Callable[["Executor", Plan, ActualState], T]


@attrs.frozen
class Goal:
    """What one run of the flow converges an instance to, and what it shows."""

    ref: InstanceRef
    # What to change, given what the engine has: a desired graph reconciled, a teardown.
    changes: Callable[[ActualState], Sequence[Change]]
    # How the engine is asked (None: for the instance's objects, ``engine.observe``).
    observe: Callable[[], ActualState] | None = None
    # Shown the plan before anything runs; it may refuse the plan by raising.
    on_plan: OnPlan | None = None
    dry_run: bool = False
    ready_timeout: float = DEFAULT_READY_TIMEOUT
    silence_build: bool = False
    pull: bool = False  # a build pulls its base images first (``pull = true``)
    words: tuple[Word, ...] = ()  # the run-args and their sources, which a failure names


@attrs.frozen
class Converged(Generic[T]):
    """The plan made from what the engine had, and what running it returned (None: it
    was not run, being empty or a dry run)."""

    plan: Plan
    actual: ActualState
    result: T | None = None


@attrs.frozen
class Flow:
    """An engine, connected, and how a run on it is shown (``progress``) and, in the
    crash-safety tests, held at a step (``before_step``)."""

    engine: Engine
    progress: Progress = attrs.field(factory=NullProgress)
    before_step: BeforeStep | None = None

    def converge(self, goal: Goal, execute: Execute[T], *, locked: bool = False) -> Converged[T]:
        """Lock, observe, plan, show, preflight and run ``goal``. ``locked``: the caller
        holds the instance lock already (taking it again, a new flock on a new file
        descriptor, would wait for ourselves)."""
        with contextlib.nullcontext() if locked else self._lock(goal.ref.instance):
            actual = goal.observe() if goal.observe is not None else self._observe(goal.ref)
            plan = make_plan(goal.ref.instance, goal.changes(actual))
            if goal.on_plan is not None:
                goal.on_plan(plan, actual)
            if goal.dry_run or not plan.has_changes:
                return Converged(plan, actual)
            # What the engine cannot run fails here, before anything is created.
            preflight.check_plan(self.engine, plan, actual)
            return Converged(plan, actual, execute(self._executor(goal, plan), plan, actual))

    @contextlib.contextmanager
    def _lock(self, instance: str) -> Iterator[None]:
        # Deferred: lock loads tempfile (with shutil, random, bz2, lzma: ~5 ms), which a
        # plan, the command run most often, never needs.
        from reconciler.apply.lock import instance_lock

        with instance_lock(self.engine.address, instance):
            yield

    def _observe(self, ref: InstanceRef) -> ActualState:
        return self.engine.observe(ref.name, ref.port)

    def _executor(self, goal: Goal, plan: Plan) -> Executor:
        # Deferred: execute loads certificates, readiness, undo and interrupts (~12 ms),
        # which a converged apply (nothing to run) never needs.
        from reconciler.apply.execute import Executor

        ref = goal.ref
        return Executor(
            self.engine,
            ref.instance,
            goal.ready_timeout,
            progress=_WholePlan(self.progress, len(plan.steps)),
            before_step=self.before_step,
            silence_build=goal.silence_build,
            pull=goal.pull,
            legacy=legacy_instance(ref.name, ref.port),
            words=goal.words,
        )

    def observe_desired(
        self, config: BoothConfig, desired: DesiredGraph, *, pull: bool = False
    ) -> ActualState:
        """What the engine has of ``desired``, the image it builds included; with
        ``pull``, the images its containers run are pulled first and their new IDs kept."""
        pulled = pull_images(self.engine, images_to_pull(desired), self.progress) if pull else ()
        actual = self.engine.observe(config.name, config.port, built_image(desired))
        return attrs.evolve(actual, pulled=pulled) if pulled else actual

    def observe_loading(self, loading: Loading, *, pull: bool = False) -> ActualState:
        """:meth:`observe_desired` for a config still being loaded: without ``pull`` the
        engine is asked first and the context's hash waited for after (what to pull is
        known only from the complete graph)."""
        if pull:
            return self.observe_desired(*loading.result(), pull=True)
        config = loading.config
        return self.engine.observe(
            config.name, config.port, loading.built_tag(), loading.trigger_bases()
        )


def run_steps(executor: Executor, plan: Plan, actual: ActualState) -> tuple[StepResult, ...]:
    """How ``apply`` and ``destroy`` run a plan: every step, in one go."""
    return tuple(executor.run(plan, actual))


@attrs.frozen
class _WholePlan:
    """Progress for a plan perhaps run in parts (a session attaches between its booth's
    create and start): steps are counted against the whole plan (``[7/7]``, not
    ``[7/1]`` for the booth's start)."""

    inner: Progress
    total: int

    def start(self, step: Step, total: int) -> None:
        self.inner.start(step, self.total)

    def done(self, step: Step, total: int, seconds: float, ok: bool = True) -> None:
        self.inner.done(step, self.total, seconds, ok)

    def note(self, message: str) -> None:
        self.inner.note(message)


def built_image(desired: DesiredGraph) -> str | None:
    """The tag of the image the graph builds, which observation must look at too."""
    image = desired.get(Role.IMAGE)
    return image.name if image is not None else None


def images_to_pull(desired: DesiredGraph) -> list[str]:
    """What ``pull = true`` pulls: every image a container of the graph runs, except the
    one booth builds, and the base images of that build."""
    images = {str(r.spec["Image"]) for r in desired if r.kind == Kind.CONTAINER}
    image = desired.get(Role.IMAGE)
    bases = set(image.base_images) if image is not None else set()
    return sorted((images - {built_image(desired) or ""}) | bases)
