"""booth's command line, in-process, on the in-memory engine.

``cli.main`` runs as the console script does (parsing, the workspace, the lock, the
observer, the planner, the preflight, the executor, the renderers); only the engine it
connects to is a :class:`~reconciler.engine.memory.engine.MemoryEngine`, which the contract suite
(``engine_contract.py``) holds to Docker's semantics. The one seam is
``engine_connect.connect``, which every command reaches the engine through. So that a
missed seam cannot reach a real engine, ``DOCKER_HOST`` names a socket that does not
exist: a command that connected around the seam would fail, never touch the machine's
engine.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import attrs
import pytest

from reconciler.cli.main import main
from reconciler.config.booth_config import CliInputs, first_slot, load_config
from reconciler.engine import connect as engine_connect
from reconciler.engine.address import EngineAddress
from reconciler.engine.memory.engine import MemoryEngine
from reconciler.ui import logs

# A small DinD booth (sidecar, network, volume) with one published port.
DIND = 'name = "demo"\nport = 10000\ndind = true\nrun-args = ["-p", "8080:8080"]\n'


@attrs.frozen
class Ran:
    code: int
    out: str
    err: str


@attrs.define
class MemoryCli:
    """A code directory with ``.booth/config.toml``, and the engine its commands reach."""

    code: Path
    engine: MemoryEngine
    capsys: pytest.CaptureFixture[str]
    connected_to: list[EngineAddress] = attrs.field(factory=list)

    def booth(self, *words: str) -> Ran:
        """``booth -C CODE WORDS...``: exit code, stdout, stderr."""
        self.capsys.readouterr()
        try:
            code = main(["-C", str(self.code), *words])
        finally:
            # ``-v`` or ``--log-format json`` bind structlog to this test's captured
            # stderr, which is closed after it: later tests must find the default again.
            logs.configure()
        captured = self.capsys.readouterr()
        return Ran(code, captured.out, captured.err)


def code_dir(root: Path, toml: str = DIND) -> Path:
    code = root / "demo"
    (code / ".booth").mkdir(parents=True)
    (code / ".booth" / "config.toml").write_text(toml)
    return code


def engine_with_images(code: Path, **kwargs: object) -> MemoryEngine:
    """An engine that has the images the config runs (offline: NEXT is the first slot)."""
    config = load_config(str(code), None, CliInputs(), resolve_port=first_slot)
    return MemoryEngine(images=sorted({config.image, config.dind_image}), **kwargs)  # type: ignore[arg-type]


@contextmanager
def stdin_not_a_terminal() -> Iterator[None]:
    """fd 0 on /dev/null for the block, whatever runs the tests (a terminal, say): the
    commands choose a terminal session or piped output by ``os.isatty(0)``."""
    saved = os.dup(0)
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(null, 0)
        yield
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(null)


def memory_cli(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    engine: MemoryEngine | None = None,
    toml: str = DIND,
) -> MemoryCli:
    """Commands of a code directory made from ``toml`` reach ``engine`` (default: one with
    the config's images); locks in ``tmp_path``, no colour."""
    code = code_dir(tmp_path, toml)
    engine = engine if engine is not None else engine_with_images(code)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine-here.sock")
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    cli = MemoryCli(code, engine, capsys)

    def connect(where: EngineAddress) -> MemoryEngine:
        cli.connected_to.append(where)
        return engine

    monkeypatch.setattr(engine_connect, "connect", connect)
    return cli
