"""``execute.Executor`` on the in-memory engine, continued: builds and pulls, a sidecar
stopped behind booth's back, signals during and between steps, and the engine refusing
a step (test_execute_memory.py has the everyday runs)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from booth_builders import config_from_toml
from memory_apply import apply, destroy, engine_for, executor, observed, owned_names, plan

from reconciler.apply import execute
from reconciler.apply.interrupts import StepInterrupts
from reconciler.config.booth_config import BoothConfig
from reconciler.config.desired import build_desired
from reconciler.core.model import LABEL_BASE_IMAGES, Kind, Role, resource_names
from reconciler.core.plan import Op, Step, make_plan
from reconciler.core.reconcile import reconcile
from reconciler.errors import ExecutionError, RunInterrupted

DIND = 'name = "demo"\nport = 10000\ndind = true\n'
NAMES = resource_names("demo", 10000)


def ops(results: list[Any]) -> list[tuple[Op, Role]]:
    return [(r.step.op, r.step.role) for r in results]


def built_config(tmp_path: Path, dockerfile: str = "FROM base:1\n") -> BoothConfig:
    (tmp_path / ".booth").mkdir(exist_ok=True)
    (tmp_path / ".booth" / "Dockerfile").write_text(dockerfile)
    return config_from_toml(DIND, code=str(tmp_path))


def test_a_built_image_is_built_once_and_rebuilt_when_its_dockerfile_changes(
    tmp_path: Path,
) -> None:
    config = built_config(tmp_path)
    assert config.build is not None
    engine = engine_for(config)
    assert (Op.BUILD_IMAGE, Role.IMAGE) in ops(apply(engine, config))
    image = engine.memory.images[config.build.tag]
    assert image.labels["io.codingbooth.role"] == "image"
    assert not plan(engine, config).has_changes
    changed = built_config(tmp_path, "FROM base:1\nRUN true\n")
    done = ops(apply(engine, changed))
    assert (Op.BUILD_IMAGE, Role.IMAGE) in done
    assert (Op.REMOVE_CONTAINER, Role.BOOTH) in done  # the booth runs the new image
    assert (Op.CREATE_CONTAINER, Role.SIDECAR) not in done
    assert not plan(engine, changed).has_changes


def test_with_pull_a_build_records_its_base_images_and_a_moved_base_rebuilds(
    tmp_path: Path,
) -> None:
    config = built_config(tmp_path)
    assert config.build is not None
    engine = engine_for(config, remote=("base:1", config.dind_image))
    apply(engine, config, pull=True)
    labels = engine.memory.images[config.build.tag].labels
    assert labels[LABEL_BASE_IMAGES] == f'{{"base:1":"{engine.image_id("base:1")}"}}'
    assert not make_plan("demo", reconcile(build_desired(config), observed(engine, config))).steps
    # Every pull gives a new ID here (the base moved): the image is rebuilt.
    assert (Op.BUILD_IMAGE, Role.IMAGE) in ops(apply(engine, config, pull=True))


def test_a_sidecar_stopped_behind_booths_back_is_started_and_its_booth_restarted() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    apply(engine, config)
    engine.primitives.stop(NAMES[Role.SIDECAR], 0)
    done = ops(apply(engine, config))
    assert (Op.START_CONTAINER, Role.SIDECAR) in done
    assert (Op.RESTART_CONTAINER, Role.BOOTH) in done
    assert engine.container_state(NAMES[Role.BOOTH])["Status"] == "running"
    assert not plan(engine, config).has_changes


def test_a_start_the_engine_refuses_removes_the_created_container() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    apply(engine, config)
    engine.primitives.remove_container(NAMES[Role.BOOTH])
    engine.primitives.remove_container(NAMES[Role.SIDECAR])
    actual = observed(engine, config)
    steps = make_plan("demo", reconcile(build_desired(config), actual))
    engine.primitives.remove_network(NAMES[Role.NETWORK])  # gone between the plan and its steps
    with pytest.raises(ExecutionError, match=r"cannot start sidecar .*not found"):
        executor(engine, config).run(steps, actual)
    assert engine.lookups.inspect(Kind.CONTAINER, NAMES[Role.SIDECAR]) is None
    apply(engine, config)
    assert not plan(engine, config).has_changes


def test_a_volume_someone_else_mounts_fails_the_destroy_naming_the_step() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)
    apply(engine, config)
    volume = NAMES[Role.VOLUME]
    engine.create_container(
        "borrower", {"Image": config.image, "HostConfig": {"Binds": [f"{volume}:/d"]}}
    )
    with pytest.raises(ExecutionError, match=f"remove-volume {volume} failed: .*in use"):
        destroy(engine, config)
    assert owned_names(engine, "demo") == {volume}
    assert engine.container("borrower")[0]


def test_a_network_someone_else_runs_on_fails_the_destroy_after_retrying(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(execute, "NETWORK_REMOVE_RETRY_SECONDS", 0.2)
    config = config_from_toml(DIND)
    engine = engine_for(config)
    apply(engine, config)
    network = NAMES[Role.NETWORK]
    engine.create_container(
        "guest", {"Image": config.image, "HostConfig": {"NetworkMode": network}}
    )
    engine.primitives.start("guest")
    with pytest.raises(ExecutionError, match="active endpoints"):
        destroy(engine, config)
    assert engine.container_state("guest")["Status"] == "running"


def test_ctrl_c_during_a_step_stops_the_run_after_that_step() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)

    def interrupt(step: Step, _interrupts: StepInterrupts) -> None:
        if step.op == Op.CREATE_VOLUME:
            os.kill(os.getpid(), signal.SIGINT)  # handled: remembered, not raised

    with pytest.raises(RunInterrupted, match="after step 2/7 \\(create-volume"):
        apply(engine, config, before_step=interrupt)
    assert owned_names(engine, "demo") == {NAMES[Role.NETWORK], NAMES[Role.VOLUME]}
    apply(engine, config)
    assert not plan(engine, config).has_changes


def test_ctrl_c_during_the_wait_abandons_it_at_once() -> None:
    config = config_from_toml(DIND)
    engine = engine_for(config)

    def wait(_container: dict[str, Any], _command: list[str]) -> tuple[int, str]:
        os.kill(os.getpid(), signal.SIGINT)
        raise AssertionError("the signal handler raises first")

    engine.memory.exec_result = wait
    with pytest.raises(RunInterrupted, match="during step 6/7 \\(wait-ready"):
        apply(engine, config)
    assert engine.container_state(NAMES[Role.BOOTH])["Status"] == "created"
