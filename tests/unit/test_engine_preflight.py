"""Checks of the engine made before a plan creates anything (preflight.check_engine) and
the remote host-port check, against a fake engine: what is missing is named."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs
import pytest
from booth_builders import desired_from_toml

from reconciler.apply import preflight
from reconciler.core.model import ActualState
from reconciler.core.plan import Plan, make_plan
from reconciler.core.reconcile import reconcile
from reconciler.engine.seam import EngineInfo
from reconciler.errors import EngineNotFound, ExecutionError


@attrs.define
class FakeEngine:
    kind: str = "docker"
    local: bool = True
    rootless: bool = False
    missing_code: bool = False
    held: Mapping[int, str] = attrs.field(factory=dict)
    probes: list[str] = attrs.field(factory=list)
    api: str = "1.41"
    missing_paths: tuple[str, ...] = ()
    containers: tuple[str, ...] = ()
    cpus: int = 2

    @property
    def address(self) -> str:
        return "unix:///fake.sock" if self.local else "ssh://me@box"

    @property
    def primitives(self) -> FakeEngine:
        return self  # the one fake answers the primitives (``info``) too

    @property
    def is_local(self) -> bool:
        return self.local

    def identity(self) -> EngineInfo:
        return EngineInfo(self.kind, "1", self.api, self.address, self.local)

    def container(self, name: str) -> tuple[str, Mapping[str, str]]:
        if name not in self.containers:
            raise EngineNotFound(f"No such container: {name}")
        return name, {}

    def info(self) -> Mapping[str, object]:
        return {"NCPU": self.cpus}

    def privileged_allowed(self) -> bool | None:
        return False if self.rootless else None

    def missing_bind_source(self, image: str, source: str) -> str | None:
        self.probes.append(source)
        missing = self.missing_code or source in self.missing_paths
        return f"{source} does not exist on the engine's host me@box" if missing else None

    def published_ports(self) -> dict[int, str]:
        return dict(self.held)


def fresh_plan(toml: str = "") -> Plan:
    desired = desired_from_toml(toml)
    return make_plan(desired.instance, reconcile(desired, ActualState()))


def test_a_rootless_engine_is_refused_before_the_privileged_sidecar() -> None:
    dind = fresh_plan("dind = true\n")
    with pytest.raises(ExecutionError, match=r"rootless .* \(nothing was created\)"):
        preflight.check_engine(FakeEngine(rootless=True), dind)  # type: ignore[arg-type]
    # Without DinD nothing is privileged: a rootless engine is fine.
    preflight.check_engine(FakeEngine(rootless=True), fresh_plan("dind = false\n"))  # type: ignore[arg-type]


def test_podman_without_catatonit_names_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(preflight, "CATATONIT", tmp_path / "catatonit")
    with pytest.raises(ExecutionError, match="apt-get install catatonit"):
        preflight.check_engine(FakeEngine(kind="podman"), fresh_plan())  # type: ignore[arg-type]
    preflight.check_engine(FakeEngine(kind="docker"), fresh_plan())  # type: ignore[arg-type]
    (tmp_path / "catatonit").touch()
    preflight.check_engine(FakeEngine(kind="podman"), fresh_plan())  # type: ignore[arg-type]


def test_a_remote_engine_is_asked_for_the_code_dir() -> None:
    engine = FakeEngine(local=False, missing_code=True)
    with pytest.raises(ExecutionError, match="does not exist on the engine's host"):
        preflight.check_engine(engine, fresh_plan())  # type: ignore[arg-type]
    local = FakeEngine(local=True, missing_code=True)
    preflight.check_engine(local, fresh_plan())  # type: ignore[arg-type]
    assert local.probes == []


def test_remote_ports_are_checked_by_asking_the_engine(caplog: pytest.LogCaptureFixture) -> None:
    plan = fresh_plan()
    port = next(int(p.split(":")[1]) for p in plan.changes[-1].desired_summary()["ports"])
    busy = FakeEngine(local=False, held={port: "container other"})
    with pytest.raises(ExecutionError, match=f"{port} \\(held by container other\\)"):
        preflight.check_host_ports(busy, plan, ActualState())  # type: ignore[arg-type]
    preflight.check_host_ports(FakeEngine(local=False), plan, ActualState())  # type: ignore[arg-type]


# --- values only the engine can judge (issue 21): refused before anything is created -----


def run_args_plan(*words: str, dind: bool = True) -> Plan:
    quoted = ", ".join(f'"{word}"' for word in words)
    return fresh_plan(f"dind = {str(dind).lower()}\nrun-args = [{quoted}]\n")


@pytest.mark.parametrize("dind", [True, False])
def test_more_cpus_than_the_engine_has_are_refused(dind: bool) -> None:
    plan = run_args_plan("--cpus", "1000", dind=dind)
    with pytest.raises(ExecutionError) as caught:
        preflight.check_engine(FakeEngine(cpus=2), plan)  # type: ignore[arg-type]
    assert str(caught.value) == (
        "run-arg --cpus 1000: the engine at unix:///fake.sock has 2 CPUs, so --cpus can be "
        "at most 2 (nothing was created)"
    )
    preflight.check_engine(FakeEngine(cpus=1000), plan)  # type: ignore[arg-type]
    preflight.check_engine(FakeEngine(cpus=2), run_args_plan("--cpus", "2"))  # type: ignore[arg-type]


def test_an_image_mount_needs_an_engine_that_knows_it() -> None:
    plan = run_args_plan("--mount", "type=image,source=busybox,target=/img")
    with pytest.raises(ExecutionError, match=r"speaks API 1\.41, and image mounts need API 1\.48"):
        preflight.check_engine(FakeEngine(api="1.41"), plan)  # type: ignore[arg-type]
    preflight.check_engine(FakeEngine(api="1.48"), plan)  # type: ignore[arg-type]
    preflight.check_engine(FakeEngine(api="1.52"), plan)  # type: ignore[arg-type]


def test_a_missing_mount_source_or_device_on_a_local_engine_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    mount = run_args_plan("--mount", f"type=bind,source={missing},target=/m")
    with pytest.raises(ExecutionError) as caught:
        preflight.check_engine(FakeEngine(), mount)  # type: ignore[arg-type]
    assert str(caught.value).startswith(f"run-arg --mount source {missing}: no such file")
    created = run_args_plan("--mount", f"type=bind,source={missing},target=/m,bind-create-src")
    preflight.check_engine(FakeEngine(), created)  # type: ignore[arg-type]
    missing.mkdir()
    preflight.check_engine(FakeEngine(), mount)  # type: ignore[arg-type]
    device = run_args_plan("--device", f"{tmp_path}/nodev:/dev/x")
    with pytest.raises(ExecutionError, match=f"--device {tmp_path}/nodev: no such device"):
        preflight.check_engine(FakeEngine(), device)  # type: ignore[arg-type]
    preflight.check_engine(FakeEngine(), run_args_plan("--device", "/dev/null"))  # type: ignore[arg-type]


def test_a_remote_engine_is_asked_for_a_mount_source_and_not_for_devices() -> None:
    engine = FakeEngine(local=False)
    plan = run_args_plan("--mount", "type=bind,source=/srv/data,target=/m", "--device", "/dev/x1")
    preflight.check_engine(engine, plan)  # type: ignore[arg-type]
    assert "/srv/data" in engine.probes
    with pytest.raises(ExecutionError, match="run-arg --mount: /srv/data does not exist"):
        preflight.check_engine(FakeEngine(local=False, missing_paths=("/srv/data",)), plan)  # type: ignore[arg-type]


@pytest.mark.parametrize("flag", ["--pid", "--ipc"])
def test_joining_a_container_the_engine_does_not_have_is_refused(flag: str) -> None:
    plan = run_args_plan(flag, "container:other", dind=False)
    with pytest.raises(ExecutionError) as caught:
        preflight.check_engine(FakeEngine(), plan)  # type: ignore[arg-type]
    assert str(caught.value) == (
        f"run-arg {flag} container:other: the engine at unix:///fake.sock has no container "
        "other (nothing was created)"
    )
    preflight.check_engine(FakeEngine(containers=("other",)), plan)  # type: ignore[arg-type]


def test_joining_the_sidecar_this_plan_creates_needs_no_lookup() -> None:
    names = {s.desired.role: s.desired.name for s in fresh_plan("dind = true\n").steps if s.desired}
    plan = run_args_plan("--pid", f"container:{names['sidecar']}")
    preflight.check_engine(FakeEngine(), plan)  # type: ignore[arg-type]
