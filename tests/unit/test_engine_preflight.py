"""Checks of the engine made before a plan creates anything (preflight.check_engine) and
the remote host-port check, against a fake engine: what is missing is named."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs
import pytest
from booth_builders import desired_from_toml

from reconciler import preflight
from reconciler.engine import EngineInfo
from reconciler.errors import ExecutionError
from reconciler.model import ActualState
from reconciler.plan import Plan, make_plan
from reconciler.reconcile import reconcile


@attrs.define
class FakeEngine:
    kind: str = "docker"
    local: bool = True
    rootless: bool = False
    missing_code: bool = False
    held: Mapping[int, str] = attrs.field(factory=dict)
    probes: list[str] = attrs.field(factory=list)

    @property
    def endpoint(self) -> str:
        return "unix:///fake.sock" if self.local else "ssh://me@box"

    @property
    def is_local(self) -> bool:
        return self.local

    def identity(self) -> EngineInfo:
        return EngineInfo(self.kind, "1", "1.41", self.endpoint, self.local)

    def privileged_allowed(self) -> bool | None:
        return False if self.rootless else None

    def missing_bind_source(self, image: str, source: str) -> str | None:
        self.probes.append(source)
        return f"{source} does not exist on the engine's host me@box" if self.missing_code else None

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
