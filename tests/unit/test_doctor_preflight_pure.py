"""``booth doctor`` and the preflight that stops an apply before anything is created,
in-process on the in-memory engine (memory_cli.py) dressed as the engines booth meets:
local or remote, Docker or Podman, rootful or rootless. Host ports are this machine's
(a socket the test holds on 127.0.0.1); the host's other facts come through
``doctor.HostFacts``."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import pytest
from memory_apply import apply
from memory_cli import DIND, MemoryCli, code_dir, memory_cli

from reconciler.app import doctor
from reconciler.config.booth_config import load_config
from reconciler.config.desired import build_desired
from reconciler.engine.address import EngineAddress
from reconciler.engine.memory.engine import MemoryBackend, MemoryEngine
from reconciler.errors import EXIT_ERROR, DockerUnavailableError, EngineError

IMAGES = ("docker:dind", "nawaman/codingbooth:base-0.13.0")


@attrs.frozen
class HostAddress(EngineAddress):
    """A memory:// address that says whether it is a socket on this machine (a local
    engine: host ports and bind sources are this host's) or another host's engine."""

    local: bool = True

    @property
    def is_local(self) -> bool:
        return self.local


class HostBackend(MemoryBackend):
    """The in-memory engine as a Docker or Podman, rootful or rootless engine, whose host
    lacks the directories ``missing`` (a bind of one is refused at create, as Docker
    refuses it)."""

    def __init__(self, *, kind: str, rootless: bool, missing: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kind, self.rootless, self.missing = kind, rootless, set(missing)

    def version(self) -> Mapping[str, Any]:
        engine = "Podman Engine" if self.kind == "podman" else "Engine"
        return {"Version": "5.0", "ApiVersion": "1.41", "Components": [{"Name": engine}]}

    def info(self) -> Mapping[str, Any]:
        return {**super().info(), "SecurityOptions": ["name=rootless"] if self.rootless else []}

    def create_container(self, name: str | None, config: Mapping[str, Any]) -> str:
        for mount in config.get("HostConfig", {}).get("Mounts") or []:
            if mount.get("Type") == "bind" and mount.get("Source") in self.missing:
                raise EngineError(
                    'invalid mount config for type "bind": bind source path does not '
                    f"exist: {mount['Source']}"
                )
        return super().create_container(name, config)


def host_engine(
    *,
    kind: str = "docker",
    local: bool = True,
    rootless: bool = False,
    missing: Sequence[str] = (),
    images: Sequence[str] = IMAGES,
    **kwargs: Any,
) -> MemoryEngine:
    """The in-memory engine as a local or remote (at ``remote-host``), Docker or Podman,
    rootful or rootless engine."""
    backend = HostBackend(kind=kind, rootless=rootless, missing=missing, images=images, **kwargs)
    address = HostAddress("memory://" if local else "memory://remote-host", "default", local=local)
    return MemoryEngine(backend=backend, address=address)


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port something on this host listens on (this test)."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def _cli(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    engine: MemoryEngine,
    toml: str = DIND,
) -> MemoryCli:
    return memory_cli(monkeypatch, tmp_path, capsys, engine, toml)


def test_apply_refuses_a_busy_host_port_of_a_local_engine_before_creating_anything(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    held_port: int,
) -> None:
    engine = host_engine()
    cli = _cli(monkeypatch, tmp_path, capsys, engine, DIND.replace("10000", str(held_port)))
    ran = cli.booth("apply")
    assert ran.code == EXIT_ERROR
    assert ran.err.count("\n") == 1
    assert f"host port already in use: 127.0.0.1:{held_port}/tcp" in ran.err
    assert "(nothing was created)" in ran.err
    assert engine.memory.calls == []
    checks = json.loads(cli.booth("doctor", "--json").out)["checks"]
    ports = next(c for c in checks if c["name"] == "ports")
    assert ports["status"] == "fail"
    assert f"127.0.0.1:{held_port}/tcp" in ports["detail"]


def test_a_local_engine_s_own_ports_are_not_busy_for_the_next_apply(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = _cli(monkeypatch, tmp_path, capsys, host_engine())
    with socket.socket() as probe:  # a port that is free now
        probe.bind(("127.0.0.1", 0))
        free = int(probe.getsockname()[1])
    (cli.code / ".booth" / "config.toml").write_text(DIND.replace("8080:8080", f"{free}:80"))
    assert cli.booth("apply").code == 0
    text = cli.booth("doctor").out
    assert text.startswith("OK    engine")
    assert "OK    ports" in text and f"127.0.0.1:{free}:80/tcp" in text


def test_a_rootless_engine_is_refused_for_the_dind_sidecar(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = host_engine(rootless=True, local=False)
    cli = _cli(monkeypatch, tmp_path, capsys, engine)
    ran = cli.booth("apply")
    assert ran.code == EXIT_ERROR
    assert "runs rootless and cannot run the privileged DinD sidecar" in ran.err
    assert engine.memory.calls == []
    doctor_run = cli.booth("doctor")
    assert doctor_run.code == EXIT_ERROR
    assert "FAIL  privileged" in doctor_run.out
    assert "fix: use a rootful engine" in doctor_run.out


def test_a_remote_engine_without_the_code_directory_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = tmp_path / "demo"  # memory_cli's code directory, missing on the engine's host
    said = f"{code} does not exist on the engine's host remote-host: a remote engine mounts"
    engine = host_engine(local=False, missing=[str(code)])
    cli = _cli(monkeypatch, tmp_path, capsys, engine)
    assert cli.code == code
    ran = cli.booth("apply")
    assert ran.code == EXIT_ERROR
    assert said in ran.err and "(nothing was created)" in ran.err
    assert engine.memory.calls == []


def test_podman_remote_warns_that_catatonit_cannot_be_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = host_engine(kind="podman", local=False)
    cli = _cli(monkeypatch, tmp_path, capsys, engine)
    ran = cli.booth("apply")
    assert ran.code == 0, ran.err
    assert "--init needs catatonit" in ran.err and "cannot be checked from here" in ran.err


def _checks(
    engine: MemoryEngine,
    tmp_path: Path,
    host: doctor.HostFacts | None = None,
    toml: str = DIND,
) -> dict[str, doctor.Check]:
    config = load_config(str(code_dir(tmp_path, toml)), None)
    checks = doctor.run_checks(
        lambda: engine, config, build_desired(config), host or doctor.HostFacts()
    )
    return {c.name: c for c in checks}


def _facts(capbnd: str = "000001ffffffffff", catatonit: bool = True) -> doctor.HostFacts:
    return doctor.HostFacts(
        status_text=lambda: f"CapBnd:\t{capbnd}\n",
        cgroup_v2=lambda: True,
        catatonit=lambda: catatonit,
    )


def test_doctor_on_a_local_podman_checks_capabilities_catatonit_and_images(
    tmp_path: Path,
) -> None:
    engine = host_engine(kind="podman", images=["docker:dind"])
    checks = _checks(engine, tmp_path, _facts(catatonit=False))
    assert checks["engine"].detail == "podman 5.0 (API 1.41) at memory://"
    assert checks["capabilities"].status == doctor.OK
    assert checks["cgroup"].detail == "cgroup v2"  # the engine said nothing: the host's
    assert checks["catatonit"].status == doctor.FAIL
    missing = checks["image nawaman/codingbooth:base-0.13.0"]
    assert missing.status == doctor.WARN
    assert "not present (image): apply will try to pull it" in missing.detail
    assert "docker save nawaman/codingbooth:base-0.13.0" in missing.fix
    assert checks["image docker:dind"].status == doctor.OK
    assert checks["inner daemon"].detail == "no sidecar yet: apply starts one"
    assert not doctor.passed(list(checks.values()))
    without_init = _checks(
        engine,
        tmp_path / "b",
        _facts(catatonit=False),
        DIND.replace('"-p"', '"--init=false", "-p"'),
    )
    assert without_init["catatonit"].detail == "not needed (--init=false)"
    assert _checks(engine, tmp_path / "c", _facts())["catatonit"].detail == "present"


def test_doctor_warns_when_the_bounding_set_cannot_be_read(tmp_path: Path) -> None:
    checks = _checks(host_engine(), tmp_path, _facts(capbnd="not-hex"))
    assert checks["capabilities"].status == doctor.WARN
    assert checks["capabilities"].detail == "cannot read the capability bounding set"


def test_doctor_judges_the_inner_daemon_of_a_running_a_stopped_and_a_mute_sidecar(
    tmp_path: Path,
) -> None:
    answers = {"code": 0}

    def daemon(_container: Mapping[str, Any], _command: list[str]) -> tuple[int, str]:
        return answers["code"], "ready\n"

    engine = host_engine(local=False, exec_result=daemon)
    config = load_config(str(code_dir(tmp_path / "applied")), None)
    assert apply(engine, config)
    assert _checks(engine, tmp_path)["inner daemon"].detail == "answers in demo-10000-dind"
    answers["code"] = 1
    mute = _checks(engine, tmp_path / "again")["inner daemon"]
    assert mute.status == doctor.FAIL
    assert mute.detail == "demo-10000-dind: does not answer /_ping"
    engine.primitives.stop("demo", 1)
    engine.primitives.stop("demo-10000-dind", 1)
    stopped = _checks(engine, tmp_path / "stopped")["inner daemon"]
    assert stopped.status == doctor.WARN
    assert stopped.detail == "sidecar demo-10000-dind is exited"


def test_doctor_reports_an_engine_it_cannot_reach_as_one_failed_check(tmp_path: Path) -> None:
    config = load_config(str(code_dir(tmp_path)), None)

    def unreachable() -> MemoryEngine:
        raise DockerUnavailableError("cannot reach the engine at unix:///nowhere.sock")

    checks = doctor.run_checks(unreachable, config, build_desired(config))
    assert [(c.name, c.status) for c in checks] == [("engine", doctor.FAIL)]
    assert "start the engine" in checks[0].fix
    text = doctor.render_text(checks)
    assert text.startswith("FAIL  engine  cannot reach the engine at unix:///nowhere.sock\n")


def _held_slots() -> Iterator[tuple[int, socket.socket | None]]:
    """Each NEXT slot, with a socket holding it on all interfaces, or None when something
    else on this machine holds it already."""
    for port in range(10000, 65001, 1000):
        holder = socket.socket()
        try:
            holder.bind(("0.0.0.0", port))
        except OSError:
            holder.close()
            yield port, None
        else:
            yield port, holder


def test_next_on_a_local_engine_takes_the_first_slot_free_on_this_host_and_keeps_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = host_engine()
    cli = _cli(monkeypatch, tmp_path, capsys, engine, DIND.replace("10000", '"NEXT"'))
    held, expected = [], None
    for port, holder in _held_slots():
        if holder is None:
            continue
        if not held:
            held.append(holder)  # the first slot free here: taken by this test
            continue
        holder.close()  # the second one: free for booth
        expected = port
        break
    try:
        assert expected is not None
        ran = cli.booth("plan", "--json")
        applied = cli.booth("apply")
    finally:
        for holder in held:
            holder.close()
    assert ran.code == 0, ran.err
    assert f"demo-{expected}-dind" in ran.out
    assert applied.code == 0, applied.err
    # The first slot is free again, but an instance that exists keeps its port.
    assert f"demo-{expected}-dind" in cli.booth("status").out
    assert "No changes." in cli.booth("plan").out
