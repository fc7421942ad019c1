"""``execute.Executor`` on the in-memory engine: every step against an engine with Docker's
semantics (tests/support/engine_contract.py holds the fake to them), including the
failures a real engine gives: conflicts, foreign objects, busy ports, missing images,
a daemon that never answers, interruptions and an engine restart."""

from __future__ import annotations

from typing import Any

import pytest
from booth_builders import config_from_toml
from memory_apply import (
    apply,
    destroy,
    engine_for,
    executor,
    foreign_holding,
    observed,
    owned_names,
    plan,
)

from reconciler.config.booth_config import BoothConfig
from reconciler.config.desired import build_desired
from reconciler.core.inner_daemon import BOOTH_CERT_PATH, CLIENT_TLS_DIR, SERVER_TLS_DIR
from reconciler.core.model import ActualState, Kind, Role, resource_names
from reconciler.core.plan import Op, Plan, Step, make_plan
from reconciler.core.reconcile import destroy_changes, reconcile
from reconciler.engine.memory.engine import MemoryEngine
from reconciler.errors import (
    ExecutionError,
    ForeignObjectError,
    ImageUnavailableError,
    NotReadyError,
    RunInterrupted,
)

DIND = 'name = "demo"\nport = 10000\ndind = true\nrun-args = ["-p", "8080:8080"]\n'
NAMES = resource_names("demo", 10000)


def status(engine: MemoryEngine, name: str) -> str:
    return str(engine.container_state(name)["Status"])


def inspected(engine: MemoryEngine, name: str) -> Any:
    found = engine.lookups.inspect(Kind.CONTAINER, name)
    assert found is not None
    return found


def test_a_fresh_apply_creates_the_instance_and_then_nothing_is_left_to_do() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    done = [(r.step.op, r.step.role) for r in apply(engine, config)]
    # The order among these is the planner's (test_plan_steps.py); what the engine
    # needs is checked by the engine itself: a booth starts only in a running sidecar.
    assert sorted(done) == sorted(
        [
            (Op.CREATE_NETWORK, Role.NETWORK),
            (Op.CREATE_VOLUME, Role.VOLUME),
            (Op.CREATE_CONTAINER, Role.SIDECAR),
            (Op.START_CONTAINER, Role.SIDECAR),
            (Op.CREATE_CONTAINER, Role.BOOTH),
            (Op.WAIT_READY, Role.SIDECAR),
            (Op.START_CONTAINER, Role.BOOTH),
        ]
    )
    assert done.index((Op.WAIT_READY, Role.SIDECAR)) < done.index((Op.START_CONTAINER, Role.BOOTH))
    assert owned_names(engine, "demo") == set(NAMES.values())
    assert status(engine, NAMES[Role.BOOTH]) == status(engine, NAMES[Role.SIDECAR]) == "running"
    sidecar_id = engine.container(NAMES[Role.SIDECAR])[0]
    booth = inspected(engine, NAMES[Role.BOOTH])
    assert booth["HostConfig"]["NetworkMode"] == f"container:{sidecar_id}"
    assert engine.published_ports() == {10000: "container demo-10000-dind"} | {
        8080: "container demo-10000-dind"
    }
    assert not plan(engine, config).has_changes


def test_without_dind_the_booth_publishes_its_own_ports() -> None:
    config = config_from_toml(DIND.replace("dind = true", "dind = false"))
    engine = engine_for(config)
    apply(engine, config)
    assert owned_names(engine, "demo") == {"demo"}
    assert set(engine.published_ports()) == {10000, 8080}
    assert not plan(engine, config).has_changes


def test_a_changed_port_replaces_the_sidecar_and_keeps_the_volume() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    apply(engine, config)
    volume_labels = engine.volume_labels(NAMES[Role.VOLUME])
    changed = config_from_toml(DIND.replace("8080:8080", "8081:8080"))
    ops = [(r.step.op, r.step.role) for r in apply(engine, changed)]
    assert (Op.REMOVE_CONTAINER, Role.SIDECAR) in ops
    assert (Op.CREATE_VOLUME, Role.VOLUME) not in ops
    assert engine.volume_labels(NAMES[Role.VOLUME]) == volume_labels
    assert set(engine.published_ports()) == {10000, 8081}
    assert not plan(engine, changed).has_changes


def test_tls_certificates_go_into_the_sidecar_and_the_booth() -> None:
    config = config_from_toml(DIND + 'daemon-endpoint = "tls"\n')
    engine = engine_for(config)
    apply(engine, config)
    server = engine.read_files(NAMES[Role.SIDECAR], SERVER_TLS_DIR)
    client = engine.read_files(NAMES[Role.SIDECAR], CLIENT_TLS_DIR)
    assert set(server) == set(client) == {"ca.pem", "cert.pem", "key.pem"}
    assert engine.read_files(NAMES[Role.BOOTH], BOOTH_CERT_PATH) == client
    # A booth replaced alone gets the client files the running sidecar holds.
    replaced = config_from_toml(DIND + 'daemon-endpoint = "tls"\ncmds = ["sleep", "1"]\n')
    ops = [(r.step.op, r.step.role) for r in apply(engine, replaced)]
    assert (Op.CREATE_CONTAINER, Role.SIDECAR) not in ops
    assert engine.read_files(NAMES[Role.BOOTH], BOOTH_CERT_PATH) == client


def test_a_missing_image_is_pulled_and_an_unavailable_one_changes_nothing() -> None:
    config = config_from_toml(DIND)
    engine = MemoryEngine(images=[config.image], remote=[config.dind_image])
    apply(engine, config)
    assert ("pull", config.dind_image) in engine.memory.calls
    other = config_from_toml(DIND.replace("demo", "other") + 'dind-image = "nowhere:1"\n')
    with pytest.raises(ImageUnavailableError, match="nowhere:1"):
        apply(engine, other)
    assert owned_names(engine, "other") == set()


def test_a_busy_host_port_fails_the_start_and_leaves_nothing_half_created() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    foreign = foreign_holding(engine, config.image, 8080)
    with pytest.raises(ExecutionError, match="a declared host port is already in use"):
        apply(engine, config)
    assert (
        engine.lookups.inspect(Kind.CONTAINER, NAMES[Role.SIDECAR]) is None
    )  # created, then removed
    assert status(engine, foreign) == "running"
    engine.primitives.stop(foreign, 0)
    apply(engine, config)
    assert not plan(engine, config).has_changes
    assert status(engine, foreign) == "exited"


@pytest.mark.parametrize("role", [Role.SIDECAR, Role.NETWORK])
def test_a_foreign_object_that_appears_meanwhile_is_left_alone(role: Role) -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    actual = observed(engine, config)
    if role == Role.NETWORK:
        engine.primitives.create_network(NAMES[role], "bridge", {"someone": "else"})
    else:
        engine.create_container(NAMES[role], {"Image": config.image, "Labels": {"x": "y"}})
    steps = _plan_from(config, actual)
    with pytest.raises(ForeignObjectError, match="not created by booth"):
        executor(engine, config).run(steps, actual)
    if role == Role.NETWORK:
        assert engine.network(NAMES[role])[1] == {"someone": "else"}
    else:
        assert engine.container(NAMES[role])[1] == {"x": "y"}


def _plan_from(config: BoothConfig, actual: ActualState) -> Plan:
    return make_plan(config.instance, reconcile(build_desired(config), actual))


def test_an_object_another_run_made_with_the_same_spec_is_taken_over() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    actual = observed(engine, config)
    steps = _plan_from(config, actual)
    other = engine_for(config)  # what a concurrent apply made, on the same engine
    apply(other, config)
    network = other.memory.networks_by_id.popitem()[1]
    engine.memory.networks_by_id[network.id] = network
    executor(engine, config).run(steps, actual)
    assert not plan(engine, config).has_changes


def test_an_object_another_run_made_with_another_spec_stops_the_apply() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    actual = observed(engine, config)
    steps = _plan_from(config, actual)
    network = build_desired(config).get(Role.NETWORK)
    assert network is not None
    labels = dict(network.labels("demo"))
    engine.primitives.create_network(
        NAMES[Role.NETWORK], "bridge", labels | {"io.codingbooth.spec-hash": "x"}
    )
    with pytest.raises(ExecutionError, match="created concurrently with another spec"):
        executor(engine, config).run(steps, actual)


def test_destroy_removes_every_owned_object_and_only_those() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    apply(engine, config)
    neighbour = config_from_toml(
        'name = "demox"\nport = 10001\ndind = true\nrun-args = ["-p", "8090:8080"]\n'
    )
    apply(engine, neighbour)
    engine.memory.pause(NAMES[Role.BOOTH])  # a paused booth is stopped, then removed
    destroy(engine, config, remove_volumes=False)
    assert owned_names(engine, "demo") == {NAMES[Role.VOLUME]}
    destroy(engine, config)
    assert owned_names(engine, "demo") == set()
    assert owned_names(engine, "demox") == set(resource_names("demox", 10001).values())


def test_destroy_keeps_a_network_or_volume_that_is_no_longer_ours() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    apply(engine, config)
    actual = observed(engine, config)
    # Between the plan and its removal steps, both were replaced by someone else's.
    for name in (NAMES[Role.BOOTH], NAMES[Role.SIDECAR]):
        engine.primitives.remove_container(name)
    engine.primitives.remove_network(NAMES[Role.NETWORK])
    engine.primitives.remove_volume(NAMES[Role.VOLUME])
    engine.primitives.create_network(NAMES[Role.NETWORK], "bridge", {"theirs": "1"})
    engine.create_volume(NAMES[Role.VOLUME], "local", {"theirs": "1"})
    steps = make_plan("demo", destroy_changes(actual, remove_volumes=True))
    executor(engine, config).run(steps, actual)  # the containers' 404s are success
    assert engine.network(NAMES[Role.NETWORK])[1] == {"theirs": "1"}
    assert engine.volume_labels(NAMES[Role.VOLUME]) == {"theirs": "1"}


def test_a_daemon_booth_removed_by_the_engine_on_stop_is_destroyed_without_error() -> None:
    config = config_from_toml(DIND + "daemon = true\n")
    engine = engine_for(config)
    apply(engine, config)
    assert inspected(engine, NAMES[Role.BOOTH])["HostConfig"]["AutoRemove"] is True
    destroy(engine, config)
    assert owned_names(engine, "demo") == set()


def test_a_daemon_that_never_answers_fails_the_wait_with_its_state() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    engine.memory.exec_result = lambda _container, _command: (1, "....")
    with pytest.raises(NotReadyError, match="did not answer within 1s"):
        apply(engine, config)

    def dies(container: dict[str, Any], _command: list[str]) -> tuple[int, str]:
        engine.memory.exit(container["Id"], 1)
        return 137, ""

    engine.memory.exec_result = dies
    with pytest.raises(NotReadyError, match="exited \\(status exited, exit code 1\\)"):
        apply(engine, config)
    engine.memory.exec_result = lambda _container, _command: (0, "ready\n")
    apply(engine, config)
    assert not plan(engine, config).has_changes


@pytest.mark.parametrize("stop_at", range(7))
def test_an_apply_stopped_before_any_step_converges_on_the_next(stop_at: int) -> None:
    config = config_from_toml(DIND + 'daemon-endpoint = "tls"\n')
    engine = engine_for(config)

    def kill(step: Step, _interrupts: object) -> None:
        if step.index == stop_at + 1:
            raise RunInterrupted("killed")

    with pytest.raises(RunInterrupted):
        apply(engine, config, before_step=kill)
    apply(engine, config)
    assert not plan(engine, config).has_changes
    client = engine.read_files(NAMES[Role.SIDECAR], CLIENT_TLS_DIR)
    assert engine.read_files(NAMES[Role.BOOTH], BOOTH_CERT_PATH) == client


class Killed(BaseException):
    """booth's process died."""


@pytest.mark.parametrize("writes", range(8))  # a fresh TLS apply makes 8 writes
def test_an_apply_killed_before_any_write_converges_on_the_next(writes: int) -> None:
    """As SIGKILL would: also inside a step, e.g. between a sidecar's create and the copy
    of its certificates, which the next apply then makes."""
    config = config_from_toml(DIND + 'daemon-endpoint = "tls"\n')
    engine = engine_for(config)

    def kill(_operation: str, _ref: str) -> None:
        if len(engine.memory.calls) == writes:
            raise Killed

    engine.memory.before_write = kill
    with pytest.raises(Killed):
        apply(engine, config)
    engine.memory.before_write = None
    apply(engine, config)
    assert not plan(engine, config).has_changes
    client = engine.read_files(NAMES[Role.SIDECAR], CLIENT_TLS_DIR)
    assert set(client) == {"ca.pem", "cert.pem", "key.pem"}
    assert engine.read_files(NAMES[Role.BOOTH], BOOTH_CERT_PATH) == client


def test_after_an_engine_restart_the_instance_is_started_again() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    apply(engine, config)
    engine.memory.restart_engine()
    assert status(engine, NAMES[Role.SIDECAR]) == "exited"
    ops = {r.step.op for r in apply(engine, config)}
    assert Op.START_CONTAINER in ops
    assert status(engine, NAMES[Role.BOOTH]) == "running"
    assert not plan(engine, config).has_changes
