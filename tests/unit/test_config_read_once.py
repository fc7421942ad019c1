"""The config file is read once per process (issue 22): the instance, the run mode, the
build context's prefetch and the full config all come from one read
(``config_table.ConfigSource``). Counted in a fresh ``booth`` process by an audit hook
on every ``open`` of the file (``cli_support.config_reads``), not by a double of ours.

The paths that need an engine (an online plan, an apply, a destroy, CodingBooth's
session dry run) are counted in tests/integration/test_engine_config_read_once.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import config_reads

from reconciler.cli.main import main

BUILD = "FROM scratch\nCOPY . /code\n"  # reads its context: an online plan prefetches


def booth_dir(tmp_path: Path, config: str) -> Path:
    code = tmp_path / "code"
    (code / ".booth").mkdir(parents=True)
    (code / ".booth" / "Dockerfile").write_text(BUILD)
    (code / ".booth" / "config.toml").write_text(config)
    (code / "app.py").write_text("print('hello')\n")
    return code


def config_of(code: Path) -> str:
    return str(code / ".booth" / "config.toml")


@pytest.mark.parametrize(
    "command",
    [["plan", "--offline"], ["plan", "--offline", "--json"], ["render", "kubernetes"]],
)
def test_a_command_that_asks_no_engine_reads_the_config_once(
    tmp_path: Path, command: list[str]
) -> None:
    code = booth_dir(tmp_path, 'name = "once"\nport = 10000\n')
    assert config_reads(["-q", "-C", str(code), *command], config_of(code)) == (0, 1)


def test_a_config_that_cannot_be_read_is_reported_once_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An online plan reads the config early (to begin the prefetch); a read that fails
    is reported where the plan reads its config, from that same read."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    code = booth_dir(tmp_path, "port = [\n")
    assert config_reads(["-q", "-C", str(code), "plan"], config_of(code)) == (1, 1)
    assert main(["-q", "-C", str(code), "plan"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"booth: error: {config_of(code)}: malformed TOML"), err
    assert err.count("\n") == 1


def test_an_early_read_does_not_change_which_error_comes_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``apply --format docker`` without ``--dry-run`` is refused for what it asks before
    the config is judged, as it was before the config was read early."""
    code = booth_dir(tmp_path, "port = [\n")
    assert main(["-q", "-C", str(code), "apply", "--format", "docker"]) == 1
    err = capsys.readouterr().err
    assert "--format docker prints the commands instead of running them" in err, err
