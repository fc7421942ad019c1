"""``session.run_session`` on the in-memory engine: a ``booth run`` that follows its booth's
output, through the one flow (plan, refuse a booth another session runs, run, attend,
tear down under or after the lock). Terminals are not modelled: attached sessions run
against real engines (tests/integration/test_engine_run.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from booth_builders import config_from_toml
from memory_apply import apply, engine_for, owned_names

from reconciler.app.flow import Flow
from reconciler.app.loading import Loading
from reconciler.app.session import Attach, run_session
from reconciler.core.model import Role, resource_names
from reconciler.core.plan import Op, Step
from reconciler.engine.memory.engine import MemoryEngine
from reconciler.errors import InstanceTakenError

DIND = 'name = "demo"\nport = 10000\ndind = true\n'
NAMES = resource_names("demo", 10000)


@pytest.fixture(autouse=True)
def _own_lock_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real instance lock, in this test's directory; a held lock fails at once (so
    a session that waited for its own lock would fail, not hang)."""
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("BOOTH_LOCK_TIMEOUT", "0")


class BoothExits:
    """Progress that ends the booth's main process with ``code`` once it has started
    (nothing runs in memory by itself)."""

    def __init__(self, engine: MemoryEngine, code: int) -> None:
        self.engine, self.code = engine, code
        self.totals: list[int] = []

    def start(self, step: Step, total: int) -> None:
        self.totals.append(total)

    def done(self, step: Step, total: int, seconds: float, ok: bool = True) -> None:
        if step.op == Op.START_CONTAINER and step.role == Role.BOOTH:
            self.engine.memory.exit(step.name, self.code)

    def note(self, message: str) -> None:
        pass


def session(text: str, code: int = 3) -> tuple[MemoryEngine, Flow, Loading]:
    config = config_from_toml(text)
    engine = engine_for(config)
    return engine, Flow(engine, BoothExits(engine, code)), Loading(config, None)


def test_a_session_exits_with_its_booths_code_and_leaves_only_the_volume() -> None:
    engine, flow, loading = session(DIND, code=3)
    assert run_session(flow, loading, attach=Attach.FOLLOW) == 3
    assert owned_names(engine, "demo") == {NAMES[Role.VOLUME]}
    assert isinstance(flow.progress, BoothExits)
    assert flow.progress.totals == [7] * 7 + [4] * 4  # the plan, then the clean-up


def test_a_kept_alive_session_leaves_its_booth_for_the_next_run() -> None:
    engine, flow, loading = session(DIND + "keep-alive = true\n", code=0)
    assert run_session(flow, loading, attach=Attach.FOLLOW) == 0
    assert owned_names(engine, "demo") == set(NAMES.values())
    assert engine.container_state(NAMES[Role.BOOTH])["Status"] == "exited"
    assert run_session(flow, loading, attach=Attach.FOLLOW) == 0  # started again


def test_a_booth_another_session_runs_is_not_taken_over() -> None:
    engine, flow, loading = session(DIND)
    apply(engine, loading.config)  # its booth runs
    writes = list(engine.memory.calls)
    with pytest.raises(InstanceTakenError, match="running already"):
        run_session(flow, loading, attach=Attach.FOLLOW)
    assert engine.memory.calls == writes


class Refused(Exception):
    """The engine's refusal of a step, as a test raises it."""


def test_a_session_whose_run_fails_is_cleaned_up_under_its_own_lock() -> None:
    engine, flow, loading = session(DIND)

    def refuse_the_booths_start(operation: str, ref: str) -> None:
        if (operation, ref) == ("start", NAMES[Role.BOOTH]):
            raise Refused(ref)

    engine.memory.before_write = refuse_the_booths_start
    with pytest.raises(Refused):
        run_session(flow, loading, attach=Attach.FOLLOW)
    # The network this run created went too; the data volume stays, as after any session.
    assert owned_names(engine, "demo") == {NAMES[Role.VOLUME]}
