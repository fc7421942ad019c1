"""Plan steps → Docker API calls, one step at a time, each idempotent.

A 404 on remove is success; a 409 on create re-observes and continues when the object
is ours with the same spec hash. A failure leaves a state the next ``apply`` converges
from: a container that was created but failed to start is removed again at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

import attrs
import docker
import docker.errors
import requests.exceptions

from reconciler.desired import (
    BOOTH,
    LABEL_INSTANCE,
    LABEL_MANAGED,
    LABEL_SPEC_HASH,
    SIDECAR,
    DesiredGraph,
    Resource,
)
from reconciler.errors import (
    BoothError,
    ExecutionError,
    ForeignObjectError,
    ImageUnavailableError,
    NotReadyError,
    RunInterrupted,
    one_line,
)
from reconciler.logs import get_logger
from reconciler.plan import Plan, Step
from reconciler.ports import DAEMON_PORT
from reconciler.preflight import busy_host_ports, describe_busy
from reconciler.progress import NullProgress, Progress
from reconciler.state import ActualState

STOP_TIMEOUT = 10
NETWORK_REMOVE_RETRY_SECONDS = 5.0
LOG_TAIL_LINES = 15
# Test-only (see _pause_for_tests): never set outside the integration tests.
TEST_PAUSE_ENV = "BOOTH_TEST_PAUSE_BEFORE"
TEST_PAUSE_SECONDS = 60.0

log = get_logger()


@attrs.frozen
class StepResult:
    step: Step
    seconds: float


@attrs.define
class Executor:
    """Applies one plan for one instance; remembers container IDs it learns on the way."""

    client: docker.APIClient
    desired: DesiredGraph | None
    ready_timeout: float = 120.0
    # Probing host ports only means something when the engine runs on this host.
    check_host_ports: bool = False
    ids: dict[str, str] = attrs.field(factory=dict)
    progress: Progress = attrs.field(factory=NullProgress)

    def run(self, plan: Plan, actual: ActualState | None = None) -> list[StepResult]:
        for change in plan.changes:
            if change.actual is not None and change.kind == "container":
                self.ids.setdefault(change.role, change.actual.id)
        self._ensure_images(plan)
        if self.check_host_ports:
            self._check_host_ports(plan, actual or ActualState())
        done: list[StepResult] = []
        with _Interrupts(len(plan.steps)) as interrupts:
            for step in plan.steps:
                _pause_for_tests(step, interrupts)
                started = time.monotonic()
                self.progress.start(step, len(plan.steps))
                # Waiting changes nothing, so it can be abandoned at once; any other step
                # finishes first, leaving an object either made or not made.
                interrupts.current = step if step.op == "wait-ready" else None
                ok = False
                try:
                    self._apply(step)
                    ok = True
                finally:
                    interrupts.current = None
                    seconds = time.monotonic() - started
                    self.progress.done(step, len(plan.steps), seconds, ok)
                done.append(StepResult(step, seconds))
                if interrupts.received:
                    raise RunInterrupted(_interrupted_message(step, interrupts.total, done=True))
        return done

    def _check_host_ports(self, plan: Plan, actual: ActualState) -> None:
        """Fail before creating anything when a host port this plan publishes is taken.

        Ports our own running containers hold are skipped: the plan frees them itself.
        """
        starting = {s.role for s in plan.steps if s.op in ("create-container", "start-container")}
        ours = {_host_port(p) for o in actual if o.owned and o.running for p in o.ports}
        wanted = []
        for role in sorted(starting):
            bindings = self._resource(role).spec["HostConfig"].get("PortBindings", {})
            for key, hosts in bindings.items():
                proto = key.partition("/")[2] or "tcp"
                for host in hosts:
                    port = host["HostPort"]
                    if port.isdigit() and int(port) not in ours:
                        wanted.append((host["HostIp"], int(port), proto))
        busy = busy_host_ports(wanted)
        if busy:
            raise ExecutionError(describe_busy(busy, self._published_by_containers()))

    def _published_by_containers(self) -> dict[int, str]:
        """Host port → ``container <name>`` for running containers (error path only)."""
        holders: dict[int, str] = {}
        for container in self.client.containers():
            name = (container.get("Names") or ["/?"])[0].lstrip("/")
            for port in container.get("Ports") or []:
                if "PublicPort" in port:
                    holders[int(port["PublicPort"])] = f"container {name}"
        return holders

    # -- images -------------------------------------------------------------------------

    def _ensure_images(self, plan: Plan) -> None:
        """Pull missing images before anything is created, so a bad image changes nothing."""
        images = sorted(
            {self._resource(s.role).spec["Image"] for s in plan.steps if s.op == "create-container"}
        )
        for image in images:
            try:
                self.client.inspect_image(image)  # type: ignore[no-untyped-call]
                continue
            except docker.errors.NotFound:
                pass
            log.debug("image.pull", image=image)
            self.progress.note(f"pulling {image}")
            repository, tag = _split_image(image)
            layers: dict[str, str] = {}
            try:
                for event in self.client.pull(repository, tag=tag, stream=True, decode=True):
                    if "error" in event:
                        raise docker.errors.APIError(event["error"])
                    if "id" in event and "status" in event:
                        layers[event["id"]] = event["status"]
                        self.progress.note(pull_summary(image, layers))
                self.client.inspect_image(image)  # type: ignore[no-untyped-call]
            except (docker.errors.APIError, requests.exceptions.RequestException) as err:
                raise ImageUnavailableError(
                    f"image {image!r} is not present locally and cannot be pulled "
                    f"({one_line(err)}); build or load it, or set `image`/`dind-image` to a "
                    "local image"
                ) from None

    # -- steps ----------------------------------------------------------------------------

    def _apply(self, step: Step) -> None:
        try:
            getattr(self, "_op_" + step.op.replace("-", "_"))(step)
        except BoothError:
            raise
        except (docker.errors.APIError, requests.exceptions.RequestException) as err:
            raise ExecutionError(
                f"step {step.index} {step.op} {step.name} failed: {one_line(err)}"
            ) from None

    def _resource(self, role: str) -> Resource:
        resource = self.desired.get(role) if self.desired else None
        if resource is None:  # pragma: no cover - plans only create desired resources
            raise ExecutionError(f"no desired {role} in this plan")
        return resource

    def _labels(self, resource: Resource) -> dict[str, str]:
        assert self.desired is not None
        return resource.labels(self.desired.instance)

    def _op_create_network(self, step: Step) -> None:
        resource = self._resource(step.role)
        try:
            self.client.create_network(
                resource.name,
                driver=resource.spec["Driver"],
                labels=self._labels(resource),
                check_duplicate=True,
            )
        except docker.errors.APIError as err:
            if err.status_code != 409:
                raise
            self._check_ours(self.client.inspect_network(resource.name), resource, "network")

    def _op_create_volume(self, step: Step) -> None:
        resource = self._resource(step.role)
        # Creating an existing volume returns it unchanged, so check who owns it.
        created = self.client.create_volume(
            resource.name, driver=resource.spec["Driver"], labels=self._labels(resource)
        )
        self._check_ours(created, resource, "volume")

    def _op_create_container(self, step: Step) -> None:
        resource = self._resource(step.role)
        config = resource.spec
        config["Labels"] = {**config.get("Labels", {}), **self._labels(resource)}
        if step.role == BOOTH and config["HostConfig"]["NetworkMode"].startswith("container:"):
            # Join the sidecar by ID: the namespace belongs to that exact container.
            sidecar = self.ids.get(SIDECAR) or config["HostConfig"]["NetworkMode"][10:]
            config["HostConfig"]["NetworkMode"] = f"container:{sidecar}"
        try:
            created = self.client.create_container_from_config(  # type: ignore[no-untyped-call]
                config, name=resource.name
            )
            self.ids[step.role] = created["Id"]
        except docker.errors.APIError as err:
            if err.status_code != 409:
                raise
            existing = self.client.inspect_container(resource.name)
            self._check_ours(existing["Config"], resource, "container")
            self.ids[step.role] = existing["Id"]

    def _op_start_container(self, step: Step) -> None:
        target = self.ids.get(step.role, step.name)
        try:
            self.client.start(target)
        except docker.errors.APIError as err:
            if _never_started(self.client, target):
                # Leave nothing half-created: the next apply creates it afresh.
                _ignore_missing(lambda: self.client.remove_container(target, v=True, force=True))
            raise ExecutionError(
                f"cannot start {step.role} {step.name}: {_explain_start_error(err)}"
            ) from None

    def _op_restart_container(self, step: Step) -> None:
        self.client.restart(self.ids.get(step.role, step.name), timeout=STOP_TIMEOUT)

    def _op_stop_container(self, step: Step) -> None:
        _ignore_missing(
            lambda: self.client.stop(self.ids.get(step.role, step.name), timeout=STOP_TIMEOUT)
        )

    def _op_remove_container(self, step: Step) -> None:
        target = self.ids.pop(step.role, step.name)
        _ignore_missing(lambda: self.client.remove_container(target, v=True, force=True))

    def _op_remove_network(self, step: Step) -> None:
        deadline = time.monotonic() + NETWORK_REMOVE_RETRY_SECONDS
        while True:
            try:
                _ignore_missing(lambda: self._remove_owned_network(step.name))
                return
            except docker.errors.APIError as err:
                if "active endpoints" not in str(err) or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _remove_owned_network(self, name: str) -> None:
        network = self.client.inspect_network(name)
        if not _is_ours(network.get("Labels"), self.desired.instance if self.desired else None):
            log.warning("network.kept_foreign", name=name)
            return
        self.client.remove_network(network["Id"])

    def _op_remove_volume(self, step: Step) -> None:
        def remove() -> None:
            volume = self.client.inspect_volume(step.name)
            if not _is_ours(volume.get("Labels"), self.desired.instance if self.desired else None):
                log.warning("volume.kept_foreign", name=step.name)
                return
            self.client.remove_volume(step.name)

        _ignore_missing(remove)

    def _op_wait_ready(self, step: Step) -> None:
        wait_ready(self.client, self.ids.get(step.role, step.name), step.name, self.ready_timeout)

    def _check_ours(self, raw: dict[str, Any], resource: Resource, kind: str) -> None:
        labels = raw.get("Labels") or {}
        assert self.desired is not None
        if not _is_ours(labels, self.desired.instance):
            raise ForeignObjectError(
                f"{kind} {resource.name!r} appeared meanwhile and was not created by booth; "
                "booth will not touch it"
            )
        if labels.get(LABEL_SPEC_HASH) != resource.spec_hash:
            raise ExecutionError(
                f"{kind} {resource.name!r} was created concurrently with another spec; "
                "run `booth apply` again"
            )


def _is_ours(labels: dict[str, str] | None, instance: str | None) -> bool:
    labels = labels or {}
    return labels.get(LABEL_MANAGED) == "true" and labels.get(LABEL_INSTANCE) == instance


READY_SCRIPT = """\
deadline=$(( $(date +%s) + {timeout} ))
delay=0.025
tries=0
url=http://127.0.0.1:{port}/_ping
while :; do
  if {{ wget -q -O- "$url" || busybox wget -q -O- "$url"; }} >/dev/null 2>&1; then
    echo ready; exit 0
  fi
  # -gt: whole seconds, so wait at least the full timeout, never a second less.
  [ "$(date +%s)" -gt "$deadline" ] && exit 1
  # A heartbeat: the API client reads this exec's output with a 60 s socket timeout, so
  # a silent wait longer than that (ready-timeout defaults to 120 s) would end in a
  # read timeout instead of a readiness verdict.
  printf .
  tries=$((tries + 1))
  [ "$tries" -gt 80 ] && delay=0.2
  sleep "$delay"
done
"""
# How long a sidecar whose poller exec ended may take to be reported as exited.
EXIT_SETTLE_SECONDS = 3.0


def wait_ready(client: docker.APIClient, container: str, name: str, timeout: float) -> None:
    """Poll the inner daemon's ``/_ping`` from inside the sidecar's own namespace.

    One exec runs the polling loop (25 ms apart for the first 2 s, then 200 ms), which is
    far cheaper than an exec per attempt. If the sidecar exits, the exec ends with it and
    we fail at once with its last log lines.
    """
    script = READY_SCRIPT.format(timeout=max(1, int(timeout + 0.999)), port=DAEMON_PORT)
    started = time.monotonic()
    try:
        exec_id = client.exec_create(container, ["sh", "-c", script], stdout=True, stderr=True)
        output = client.exec_start(exec_id["Id"]).decode(errors="replace")
        exit_code = client.exec_inspect(exec_id["Id"]).get("ExitCode")
    except docker.errors.APIError as err:
        output, exit_code = one_line(err), None
    if exit_code == 0 and "ready" in output:
        return
    # Exit code 1 is the poller's own verdict (its deadline passed); anything else
    # before the deadline means the exec ended under it, e.g. because the sidecar died.
    timed_out = exit_code == 1 or time.monotonic() - started >= timeout
    raise NotReadyError(_not_ready_message(client, container, name, timeout, timed_out))


def _not_ready_message(
    client: docker.APIClient, container: str, name: str, timeout: float, timed_out: bool
) -> str:
    try:
        state = _settled_state(client, container, 0.0 if timed_out else EXIT_SETTLE_SECONDS)
        logs = client.logs(container, tail=LOG_TAIL_LINES).decode(errors="replace")
    except docker.errors.APIError:
        state, logs = {"Status": "missing"}, ""
    tail = " | ".join(line.strip() for line in logs.strip().splitlines()[-LOG_TAIL_LINES:])
    if state.get("Status") != "running":
        why = (
            f"the sidecar {name} exited (status {state.get('Status')}, "
            f"exit code {state.get('ExitCode')})"
        )
    elif timed_out:
        why = f"the inner Docker daemon in {name} did not answer within {timeout:g}s"
    else:
        why = f"the readiness check in {name} ended early (still running)"
    return f"{why}; last log lines: {tail or '(none)'}"


def _settled_state(client: docker.APIClient, container: str, wait_seconds: float) -> dict[str, Any]:
    """The container's state once it is no longer running, or after ``wait_seconds``.

    The poller exec ends the moment the sidecar's main process dies, but the engine
    reports the container as exited a moment later; reading the state at once would
    call a crashed sidecar a slow one ("did not answer within 120s" after one second).
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        state: dict[str, Any] = client.inspect_container(container)["State"]
        if state.get("Status") != "running" or time.monotonic() >= deadline:
            return state
        time.sleep(0.05)


def _never_started(client: docker.APIClient, container: str) -> bool:
    try:
        return bool(client.inspect_container(container)["State"]["Status"] == "created")
    except docker.errors.APIError:
        return False


def _explain_start_error(err: docker.errors.APIError) -> str:
    text = one_line(err)
    if "port is already allocated" in text or "address already in use" in text:
        return f"a declared host port is already in use ({text})"
    return text


def _ignore_missing(call: Callable[[], object]) -> None:
    """A 404 on remove/stop means the object is already gone: the step is done."""
    with contextlib.suppress(docker.errors.NotFound):
        call()


_LAYER_DONE = ("Pull complete", "Already exists", "Download complete")


def pull_summary(image: str, layers: dict[str, str]) -> str:
    """``pulling docker:dind: 3/7 layers`` from the per-layer statuses of a pull stream."""
    done = sum(1 for status in layers.values() if status.startswith(_LAYER_DONE))
    return f"pulling {image}: {done}/{len(layers)} layers"


def _host_port(published: str) -> int:
    """Host port of an observed ``ip:host:container/proto`` string."""
    return int(published.rsplit(":", 2)[1])


def _split_image(image: str) -> tuple[str, str | None]:
    if "@" in image:
        return image, None
    repository, _, tag = image.rpartition(":")
    if repository and "/" not in tag:
        return repository, tag
    return image, "latest"


def _interrupted_message(step: Step, total: int, *, done: bool) -> str:
    where = "after" if done else "during"
    return (
        f"interrupted {where} step {step.index}/{total} ({step.op} {step.name}); "
        "run `booth apply` to converge or `booth destroy` to clean up"
    )


class _Interrupts:
    """SIGINT/SIGTERM: remember it and stop after the current step.

    During an abandonable step (``current`` set) or on a second signal, stop at once.
    ``total`` is the plan's step count, so a message reads "step 5/7", not "step 5/5".
    """

    def __init__(self, total: int) -> None:
        self.total = total
        self.received = False
        self.current: Step | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Interrupts:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        for sig, old in self._previous.items():
            signal.signal(sig, old)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.current is not None:
            raise RunInterrupted(_interrupted_message(self.current, self.total, done=False))
        if self.received:
            raise KeyboardInterrupt
        self.received = True
        log.warning("interrupt.received", signal=signum, detail="stopping after the current step")


def _pause_for_tests(step: Step, interrupts: _Interrupts) -> None:
    """Test-only hook: ``BOOTH_TEST_PAUSE_BEFORE=op[:role]`` holds the run before that step.

    The crash-safety tests kill ``booth apply`` at exact points between steps (a sidecar
    created but not started, a ready sidecar without its booth …). Those steps take
    milliseconds, so timing a kill by polling the engine would race them. A marker line
    on stderr tells the test the pause has begun; a SIGINT/SIGTERM ends it, and the
    paused step then runs as the current one. Unset (always, outside the tests) this is
    one environment lookup per step.
    """
    wanted = os.environ.get(TEST_PAUSE_ENV)
    if not wanted or wanted not in (step.op, f"{step.op}:{step.role}"):
        return
    print(
        f"booth: test pause before step {step.index} ({step.op} {step.role})",
        file=sys.stderr,
        flush=True,
    )
    deadline = time.monotonic() + TEST_PAUSE_SECONDS
    while time.monotonic() < deadline and not interrupts.received:
        time.sleep(0.05)
