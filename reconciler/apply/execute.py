"""Plan steps → engine calls, one step at a time, each idempotent.

Each step carries what it acts on, so a step is run without looking anything up again;
the only thing learned on the way is the ID of a container this run created. A 404 on
remove is success; a 409 on create continues when the object is ours with the same spec
hash. A failure leaves a state the next ``apply`` converges from: a container that was
created but failed to start is removed again at once, and then everything this run
created or started is taken back, newest first (``apply/undo.py``), so a failed apply leaves
nothing of its own running.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from reconciler.apply import certificates
from reconciler.apply.images import ensure_images
from reconciler.apply.interrupts import StepInterrupts
from reconciler.apply.progress import BUILD_NOTE, NullProgress, Progress
from reconciler.apply.readiness import SHUTDOWN_COMPLETE, wait_ready
from reconciler.apply.undo import Journal, undone
from reconciler.config.runargs.provenance import attributed
from reconciler.config.runargs.routing import Word
from reconciler.core.inner_daemon import BOOTH_CERT_PATH, SERVER_TLS_DIR, InnerListener
from reconciler.core.model import (
    LABEL_BASE_IMAGES,
    LABEL_SPEC_HASH,
    ActualState,
    Kind,
    Resource,
    Role,
    canonical_json,
    is_owned,
)
from reconciler.core.plan import Op, Plan, Step
from reconciler.engine.engine import Engine, wait_removed
from reconciler.engine.seam import BuildRequest
from reconciler.errors import (
    BoothError,
    EngineConflict,
    EngineError,
    EngineNotFound,
    ExecutionError,
    ForeignObjectError,
    RunInterrupted,
)
from reconciler.ui.logs import get_logger

STOP_TIMEOUT = 10
NETWORK_REMOVE_RETRY_SECONDS = 5.0

# Called before each step with the step and the run's interrupt state: the crash-safety
# tests install one to hold a run at an exact point (see tests/integration).
BeforeStep = Callable[[Step, StepInterrupts], None]

log = get_logger()


@attrs.frozen
class StepResult:
    step: Step
    seconds: float


@attrs.define
class Executor:
    """Applies plans for one instance; remembers the container IDs it learns on the way."""

    engine: Engine
    instance: str
    ready_timeout: float = 120.0
    progress: Progress = attrs.field(factory=NullProgress)
    before_step: BeforeStep | None = None
    silence_build: bool = False
    pull: bool = False  # a build pulls its base images first (``pull = true``)
    # (image, ID) pulled before planning: a build records the IDs of its base images.
    pulled: tuple[tuple[str, str], ...] = ()
    # The run-arg words and their sources: a failure quoting a value names where it was set.
    words: tuple[Word, ...] = ()
    ids: dict[Role, str] = attrs.field(factory=dict)
    # Containers this run created, which therefore hold their certificates already.
    created: set[Role] = attrs.field(factory=set)
    # The new sidecar's certificates, issued while the steps before its create run.
    issuing: certificates.Issuing | None = attrs.field(default=None, init=False)
    # The client files installed in the sidecar this run created (by file name): its
    # booth gets them without reading them back from the sidecar.
    client_files: dict[str, bytes] | None = attrs.field(default=None, init=False)
    # The instance label an earlier booth gave this instance (``{name}-{port}``): what
    # it made is removed as this instance's own (``model.is_owned``).
    legacy: str | None = None

    def _owns(self, labels: Any) -> bool:
        return is_owned(labels, self.instance, legacy=self.legacy)

    # What the current run created or started, taken back if a later step fails.
    journal: Journal = attrs.field(init=False)

    @journal.default
    def _new_journal(self) -> Journal:
        return Journal(self.instance, STOP_TIMEOUT)

    def run(self, plan: Plan, actual: ActualState | None = None) -> list[StepResult]:
        for step in plan.steps:
            if step.observed is not None and step.observed.kind == Kind.CONTAINER:
                self.ids.setdefault(step.role, step.observed.id)
        if _creates_tls_sidecar(plan):
            self.issuing = certificates.Issuing(self.instance)
        self.pulled = actual.pulled if actual is not None else ()
        self.journal = self._new_journal()
        ensure_images(self.engine, plan, self.progress)
        done: list[StepResult] = []
        total = len(plan.steps)
        with StepInterrupts() as interrupts:
            for step in plan.steps:
                if self.before_step is not None:
                    self.before_step(step, interrupts)
                try:
                    done.append(self._timed(step, total, interrupts))
                except BoothError as err:
                    if step.op in (Op.CREATE_CONTAINER, Op.START_CONTAINER):
                        err = attributed(err, self.words)  # the engine refused a value
                    raise undone(err, self.journal, self.engine) from None
                if interrupts.received:
                    raise RunInterrupted(_interrupted(step, total, done=True))
        return done

    def _timed(self, step: Step, total: int, interrupts: StepInterrupts) -> StepResult:
        started = time.monotonic()
        self.progress.start(step, total)
        ok = False
        # Waiting changes nothing, so it can be abandoned at once; any other step
        # finishes first, leaving an object either made or not made.
        if step.op == Op.WAIT_READY:
            interrupts.abandon = lambda s=step: _interrupted(s, total, done=False)
        try:
            self._apply(step)
            ok = True
        finally:
            interrupts.abandon = None
            seconds = time.monotonic() - started
            self.progress.done(step, total, seconds, ok)
        return StepResult(step, seconds)

    def _apply(self, step: Step) -> None:
        try:
            _OPS[step.op](self, step)
        except EngineError as err:
            raise ExecutionError(f"step {step.index} {step.op} {step.name} failed: {err}") from None

    def _target(self, step: Step) -> str:
        return self.ids.get(step.role, step.name)

    def _build_image(self, step: Step) -> None:
        resource = _desired(step)
        spec = resource.spec
        request = BuildRequest(
            context=spec["ContextDir"],
            dockerfile=spec["DockerfilePath"],
            tag=resource.name,
            build_args=spec["BuildArgs"],
            labels={**resource.labels(self.instance), **self._base_label(resource)},
            pull=self.pull,
        )
        progress = NullProgress() if self.silence_build else self.progress
        self.engine.primitives.build(request, lambda line: progress.note(BUILD_NOTE + line))

    def _base_label(self, resource: Resource) -> dict[str, str]:
        """The IDs of the base images pulled for this build, for the next pull to compare."""
        pulled = dict(self.pulled)
        bases = {base: pulled[base] for base in resource.base_images if base in pulled}
        return {LABEL_BASE_IMAGES: canonical_json(bases)} if bases else {}

    def _create_network(self, step: Step) -> None:
        resource = _desired(step)
        try:
            self.engine.primitives.create_network(
                resource.name, resource.spec["Driver"], resource.labels(self.instance)
            )
        except EngineConflict:
            self._check_ours(self.engine.network(resource.name)[1], resource)
            return
        self.journal.created(Kind.NETWORK, step.role, resource.name)

    def _create_volume(self, step: Step) -> None:
        resource = _desired(step)
        labels = self.engine.create_volume(
            resource.name, resource.spec["Driver"], resource.labels(self.instance)
        )
        self._check_ours(labels, resource)
        # Not found when planned, and the instance lock keeps other runs out: this run's.
        self.journal.created(Kind.VOLUME, step.role, resource.name)

    def _create_container(self, step: Step) -> None:
        resource = _desired(step)
        config: dict[str, Any] = {**resource.spec, "HostConfig": dict(resource.spec["HostConfig"])}
        config["Labels"] = {**config.get("Labels", {}), **resource.labels(self.instance)}
        mode = str(config["HostConfig"].get("NetworkMode", ""))
        if step.role == Role.BOOTH and mode.startswith("container:"):
            # Join the sidecar by ID: the namespace belongs to that exact container.
            sidecar = self.ids.get(Role.SIDECAR) or mode.removeprefix("container:")
            config["HostConfig"]["NetworkMode"] = f"container:{sidecar}"
        try:
            self.ids[step.role] = self.engine.create_container(resource.name, config)
        except EngineConflict:
            container_id, labels = self.engine.container(resource.name)
            self._check_ours(labels, resource)
            self.ids[step.role] = container_id
            return
        self.journal.created(Kind.CONTAINER, step.role, resource.name, self.ids[step.role])
        # Between create and start, off the critical path for the booth (the inner
        # daemon is still booting): the certificates live and die with the containers.
        self._install_certificates(step.role, resource)
        self.created.add(step.role)

    def _install_certificates(self, role: Role, resource: Resource) -> None:
        if resource.inner_listener != InnerListener.TLS:
            return
        if role == Role.SIDECAR:
            issuing, self.issuing = self.issuing, None
            self.client_files = certificates.install_in_sidecar(
                self.engine, self.ids[role], self.instance, issuing
            )
        else:
            joined = str(resource.spec["HostConfig"]["NetworkMode"])
            sidecar = self.ids.get(Role.SIDECAR) or joined.removeprefix("container:")
            if self.client_files is None and not certificates.present(
                self.engine, sidecar, SERVER_TLS_DIR
            ):
                # An earlier run stopped between the sidecar's create and its copy.
                self.client_files = certificates.install_in_sidecar(
                    self.engine, sidecar, self.instance, None
                )
            certificates.install_in_booth(self.engine, sidecar, self.ids[role], self.client_files)

    def _ensure_certificates(self, step: Step) -> None:
        """A container this run did not create may lack its certificates: an earlier run
        may have stopped between its create and its copy."""
        resource = step.desired
        if resource is None or resource.inner_listener != InnerListener.TLS:
            return
        if step.role in self.created:
            return
        where = SERVER_TLS_DIR if step.role == Role.SIDECAR else BOOTH_CERT_PATH
        if not certificates.present(self.engine, self._target(step), where):
            self._install_certificates(step.role, resource)

    def _start_container(self, step: Step) -> None:
        self._ensure_certificates(step)
        target = self._target(step)
        try:
            self.engine.primitives.start(target)
        except EngineError as err:
            if _never_started(self.engine, target):
                # Leave nothing half-created: the next apply creates it afresh.
                with _missing_is_done():
                    self.engine.primitives.remove_container(target)
            raise ExecutionError(
                f"cannot start {step.role} {step.name}: {_explain_start_error(str(err))}"
            ) from None
        if step.role not in self.created:
            self.journal.started(step.role, step.name, target)

    def _restart_container(self, step: Step) -> None:
        self.engine.primitives.restart(self._target(step), STOP_TIMEOUT)

    def _stop_container(self, step: Step) -> None:
        with _missing_is_done():
            if step.role == Role.SIDECAR:
                # Graceful as `docker stop`, without the inner daemon's idle last second.
                self.engine.stop_until_logged(self._target(step), STOP_TIMEOUT, SHUTDOWN_COMPLETE)
            else:
                self.engine.primitives.stop(self._target(step), STOP_TIMEOUT)

    def _remove_container(self, step: Step) -> None:
        target = self.ids.pop(step.role, step.name)
        with _missing_is_done():
            try:
                self.engine.primitives.remove_container(target)
            except EngineError as err:
                if "already in progress" not in str(err):
                    raise
                # A booth with AutoRemove (CodingBooth's --rm) is removed by the engine
                # once it stops: wait for that removal instead of making a second one.
                wait_removed(self.engine, target)

    def _remove_network(self, step: Step) -> None:
        deadline = time.monotonic() + NETWORK_REMOVE_RETRY_SECONDS
        while True:
            try:
                with _missing_is_done():
                    network_id, labels = self.engine.network(step.name)
                    if not self._owns(labels):
                        log.warning("network.kept_foreign", name=step.name)
                        return
                    self.engine.primitives.remove_network(network_id)
                return
            except EngineError as err:
                if "active endpoints" not in str(err) or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _remove_volume(self, step: Step) -> None:
        with _missing_is_done():
            if not self._owns(self.engine.volume_labels(step.name)):
                log.warning("volume.kept_foreign", name=step.name)
                return
            self.engine.primitives.remove_volume(step.name)

    def _wait_ready(self, step: Step) -> None:
        listener = step.desired.inner_listener if step.desired is not None else None
        wait_ready(
            self.engine,
            self._target(step),
            step.name,
            self.ready_timeout,
            listener or InnerListener.TCP,
        )

    def _check_ours(self, labels: Any, resource: Resource) -> None:
        if not is_owned(labels, self.instance):
            raise ForeignObjectError(
                f"{resource.kind} {resource.name!r} appeared meanwhile and was not created by "
                "booth; booth will not touch it"
            )
        if labels.get(LABEL_SPEC_HASH) != resource.spec_hash:
            raise ExecutionError(
                f"{resource.kind} {resource.name!r} was created concurrently with another "
                "spec; run `booth apply` again"
            )


_OPS: dict[Op, Callable[[Executor, Step], None]] = {
    Op.BUILD_IMAGE: Executor._build_image,
    Op.CREATE_NETWORK: Executor._create_network,
    Op.CREATE_VOLUME: Executor._create_volume,
    Op.CREATE_CONTAINER: Executor._create_container,
    Op.START_CONTAINER: Executor._start_container,
    Op.RESTART_CONTAINER: Executor._restart_container,
    Op.STOP_CONTAINER: Executor._stop_container,
    Op.REMOVE_CONTAINER: Executor._remove_container,
    Op.REMOVE_NETWORK: Executor._remove_network,
    Op.REMOVE_VOLUME: Executor._remove_volume,
    Op.WAIT_READY: Executor._wait_ready,
}


def _creates_tls_sidecar(plan: Plan) -> bool:
    return any(
        step.op == Op.CREATE_CONTAINER
        and step.role == Role.SIDECAR
        and step.desired is not None
        and step.desired.inner_listener == InnerListener.TLS
        for step in plan.steps
    )


def _desired(step: Step) -> Resource:
    if step.desired is None:  # pragma: no cover - build-up steps always carry one
        raise ExecutionError(f"step {step.index} {step.op} has no desired {step.role}")
    return step.desired


def _never_started(engine: Engine, container: str) -> bool:
    try:
        return engine.container_state(container).get("Status") == "created"
    except EngineError:
        return False


def _explain_start_error(text: str) -> str:
    if "port is already allocated" in text or "address already in use" in text:
        return f"a declared host port is already in use ({text})"
    return text


@contextlib.contextmanager
def _missing_is_done() -> Iterator[None]:
    """A 404 on remove/stop means the object is already gone: the step is done."""
    with contextlib.suppress(EngineNotFound):
        yield


def _interrupted(step: Step, total: int, *, done: bool) -> str:
    where = "after" if done else "during"
    return (
        f"interrupted {where} step {step.index}/{total} ({step.op} {step.name}); "
        "run `booth apply` to converge or `booth destroy` to clean up"
    )
