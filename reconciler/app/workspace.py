"""One booth workspace: its config (read once), its engine (connected once), a command each.

The CLI turns arguments into a :class:`Target` and calls a method; tests and other
front ends can do the same. What changes the engine runs through the one flow of
``app/flow.py`` (lock → observe → plan → preflight → execute). ``destroy`` and ``status``
need only what identifies the instance, so a config whose ports or run-args no longer
parse cannot block clean-up.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from reconciler.app.flow import Flow, Goal, OnPlan, run_steps
from reconciler.app.loading import Loading
from reconciler.apply.preflight import check_plan_values
from reconciler.apply.progress import NullProgress, Progress
from reconciler.config.booth_config import (
    BoothConfig,
    CliInputs,
    InstanceRef,
    config_from,
    first_slot,
    instance_ref_from,
)
from reconciler.config.table import ConfigDocument, ConfigSource
from reconciler.core import port_choice
from reconciler.core.model import ActualState, DesiredGraph
from reconciler.core.plan import Plan, make_plan
from reconciler.core.reconcile import Change, check_owner_dir, destroy_changes, reconcile
from reconciler.engine import connect as engine_connect
from reconciler.engine.address import resolve as resolve_address
from reconciler.engine.engine import Engine
from reconciler.errors import ConfigError
from reconciler.image.context import ContextWalk
from reconciler.image.hashing import ContextHashing
from reconciler.ui.logs import get_logger

if TYPE_CHECKING:
    from reconciler.app.session import Attach
    from reconciler.apply.execute import BeforeStep, StepResult

log = get_logger()


@attrs.frozen
class Target:
    """What the user points booth at: a code directory, its config, the command line."""

    code_dir: str = "."
    config_file: str | None = None
    cli: CliInputs = attrs.field(factory=CliInputs)


@attrs.frozen
class Outcome:
    plan: Plan
    results: tuple[StepResult, ...] = ()

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.results)


def _connect(context: str | None = None) -> Engine:
    """The engine ``--context`` (None: DOCKER_HOST, DOCKER_CONTEXT, the current context)
    names, over the transport ``engine_connect`` chooses for it."""
    return engine_connect.connect(resolve_address(context))


def connector(context: str | None) -> Callable[[], Engine]:
    """``connect`` for a ``--context NAME`` (None: DOCKER_HOST, DOCKER_CONTEXT, ...)."""
    return lambda: _connect(context)


@attrs.define
class Workspace:
    target: Target
    progress: Progress = attrs.field(factory=NullProgress)
    before_step: BeforeStep | None = None
    connect: Callable[[], Engine] = _connect
    # A context hash begun before the config was read (``config.prefetch``):
    # used if the config asks for the same walk, else ended.
    prefetched: ContextHashing | None = None
    # The config's one read (None: the target's, read when first needed); the CLI
    # passes the one it read early, for the prefetch.
    source: ConfigSource | None = None
    _engine: Engine | None = attrs.field(default=None, init=False)

    @property
    def connected(self) -> Engine | None:
        """The engine this workspace connected to, if it did (the CLI shows its identity)."""
        return self._engine

    def engine(self) -> Engine:
        """One connection per workspace: the port choice and the command share it."""
        if self._engine is None:
            self._engine = self.connect()
        return self._engine

    def flow(self) -> Flow:
        """The flow that changes this workspace's engine (``app/flow.py``)."""
        return Flow(self.engine(), self.progress, self.before_step)

    def document(self) -> ConfigDocument:
        """The config as read, once per workspace (``config_table.ConfigSource``)."""
        if self.source is None:
            self.source = ConfigSource(self.target.code_dir, self.target.config_file)
        return self.source.document()

    def resolve_port(self, setting: str, code: Path, name: str) -> int:
        """``port = "NEXT" | "RANDOM"``: an instance of this code directory that exists keeps
        its port; otherwise a slot that is free where the engine publishes."""
        engine = self.engine()
        existing = engine.instances_of(str(code), name)
        if existing or engine.is_local:  # an existing instance's port needs no probe
            return port_choice.choose(setting, existing, port_choice.port_free_here)
        published = engine.published_ports()
        return port_choice.choose(setting, existing, lambda port: port not in published)

    def load(self, *, offline: bool = False) -> tuple[BoothConfig, DesiredGraph]:
        """Config and desired graph (see :meth:`Loading.result`)."""
        with self.loading(offline=offline, background=False) as loading:
            return loading.result()

    @contextlib.contextmanager
    def loading(
        self, *, attach: Attach | None = None, offline: bool = False, background: bool = True
    ) -> Iterator[Loading]:
        """The config, read; with ``background``, a build context's hash is computed in a
        child process meanwhile (reaped when the block ends), so observing the engine
        overlaps the walk of a large code dir.

        ``attach``: a session's booth, with a TTY and an open stdin (as ``--run-arg=-t
        --run-arg=-i``) or an open stdin, so plan and spec hash describe the booth that
        is really created."""
        # Offline, nothing is asked of the machine either: NEXT is the first slot, so an
        # offline plan (a CI review) is the same everywhere.
        resolve = first_slot if offline else self.resolve_port
        config = config_from(
            self.document(), self.target.cli, resolve_port=resolve, walk_context=False
        )
        if attach is not None:
            # Deferred: session loads terminal (termios, tty) and piping, which only a
            # session (and its dry run) needs.
            from reconciler.app.session import attached_config

            config = attached_config(config, attach)
        inputs = config.build.inputs if config.build is not None else None
        prefetched = self._take_prefetched(inputs.walk if inputs is not None else None)
        if inputs is None:
            yield Loading(config, None)
            return
        # A Dockerfile that reads no file of the context is probably not walked at all
        # (unless a base image's ONBUILD trigger may read it): no child for it.
        background = background and inputs.trigger_bases is None
        with prefetched or ContextHashing(inputs.walk, background=background) as hashing:
            yield Loading(config, hashing)

    def _take_prefetched(self, walk: ContextWalk | None) -> ContextHashing | None:
        """The prefetched hashing if it walks ``walk``; any other is ended."""
        prefetched, self.prefetched = self.prefetched, None
        if prefetched is not None and prefetched.walk != walk:
            log.debug("context_hashing.prefetch_unused")
            prefetched.close()
            return None
        return prefetched

    def close(self) -> None:
        """End what this workspace began and no command used (a prefetched hashing), and
        its engine's connections (an SSH tunnel's process)."""
        self._take_prefetched(None)
        if self._engine is not None:
            self._engine.close()
        engine_connect.close_unused()

    def instance_ref(self) -> InstanceRef:
        return instance_ref_from(self.document(), self.resolve_port)

    def plan(self, *, offline: bool = False, pull: bool = False) -> Plan:
        """``pull``: pull the images first, as ``apply`` with ``pull = true`` does (a plan
        pulls only when asked: pulling moves local tags)."""
        if pull and offline:
            raise ConfigError("plan: --pull asks the engine to pull; it cannot be --offline")
        with self.loading(offline=offline, background=not offline) as loading:
            actual = ActualState() if offline else self.observe_loading(loading, pull=pull)
            config, desired = loading.result(actual)
        if config.pull and not pull and not offline:
            log.info(
                "plan.not_pulled",
                detail="pull = true: apply pulls the images first; "
                "`booth plan --pull` pulls now and shows what that changes",
            )
        plan = make_plan(desired.instance, reconcile(desired, actual))
        if not offline:  # what only the engine can judge, as apply checks it (no probes)
            check_plan_values(self.engine(), plan)
        return plan

    def observe_loading(self, loading: Loading, *, pull: bool = False) -> ActualState:
        """What the engine has of the config being loaded (``Flow.observe_loading``)."""
        return self.flow().observe_loading(loading, pull=pull)

    def observed(self) -> tuple[BoothConfig, DesiredGraph, ActualState]:
        """Config, desired graph and what the engine has of them (``status``): the engine
        asked first, as a plan asks it, so a build that reads no file of its context is
        not walked, and a walk overlaps the requests."""
        with self.loading() as loading:
            actual = self.observe_loading(loading)
            config, desired = loading.result(actual)
        return config, desired, actual

    def observe(self) -> tuple[InstanceRef, ActualState, Engine]:
        ref = self.instance_ref()
        engine = self.engine()
        return ref, engine.observe(ref.name, ref.port), engine

    def apply(
        self,
        *,
        dry_run: bool = False,
        on_plan: OnPlan | None = None,
        check: OnPlan | None = None,
    ) -> Outcome:
        """``check``: called with the plan before it is shown or run (it may refuse it).
        CodingBooth's ``dryrun = true`` shows the plan as ``--dry-run`` does."""
        with self.loading() as loading:
            config = loading.config
            flow = self.flow()
            goal = Goal(
                InstanceRef(config.name, config.port),
                lambda actual: reconcile(loading.result(actual)[1], actual),
                observe=lambda: flow.observe_loading(loading, pull=config.pull),
                on_plan=_checked(check, on_plan),
                dry_run=dry_run or config.dryrun,
                ready_timeout=config.ready_timeout,
                silence_build=config.silence_build,
                pull=config.pull,
                words=config.run_arg_words,
            )
            converged = flow.converge(goal, run_steps)
        return Outcome(converged.plan, converged.result or ())

    def destroy(
        self, *, volumes: bool = False, dry_run: bool = False, on_plan: OnPlan | None = None
    ) -> Outcome:
        ref = self.instance_ref()

        def changes(actual: ActualState) -> Sequence[Change]:
            check_owner_dir(ref.instance, ref.code_dir, actual, exists=os.path.isdir)
            return destroy_changes(actual, remove_volumes=volumes)

        goal = Goal(ref, changes, on_plan=on_plan, dry_run=dry_run)
        converged = self.flow().converge(goal, run_steps)
        return Outcome(converged.plan, converged.result or ())

    def run(self, *, attach: Attach) -> int:
        # Deferred: session loads terminal (termios, tty) and piping (see ``loading``).
        from reconciler.app.session import run_session

        with self.loading(attach=attach) as loading:
            return run_session(self.flow(), loading, attach=attach)


def _checked(check: OnPlan | None, on_plan: OnPlan | None) -> OnPlan | None:
    """``on_plan`` after ``check`` (which may refuse the plan by raising)."""
    if check is None:
        return on_plan

    def both(plan: Plan, actual: ActualState) -> None:
        check(plan, actual)
        if on_plan is not None:
            on_plan(plan, actual)

    return both
