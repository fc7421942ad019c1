"""booth as a process (``python -m reconciler`` and the ``booth`` console script), offline.

``cli.run()`` leaves with ``os._exit`` (no interpreter teardown), so these check what that
must not lose: output written to a pipe (block-buffered) and the exit code. They also give
the coverage measurement of CI a booth subprocess that needs no Docker engine.
"""

from __future__ import annotations

import io
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from reconciler.cli.main import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = str(REPO / "examples" / "dind-example")


def in_process(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue()


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_python_m_reconciler_prints_the_whole_plan_to_a_pipe() -> None:
    args = ("-C", EXAMPLE, "plan", "--offline", "--json")
    proc = run([sys.executable, "-m", "reconciler", *args])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert (0, proc.stdout) == in_process(*args)


def test_booth_console_script_passes_the_exit_code_on() -> None:
    booth = Path(sys.executable).with_name("booth")
    if not booth.exists():
        pytest.skip(f"no booth console script next to {sys.executable} (pip install -e .)")
    args = ("-C", EXAMPLE, "plan", "--offline", "--detailed-exitcode")
    proc = run([str(booth), *args])
    assert proc.returncode == 2, proc.stderr  # changes pending
    assert (2, proc.stdout) == in_process(*args)
    summary = "Plan: 5 to create, 0 to replace, 0 to start, 0 to remove."
    assert proc.stdout.rstrip().endswith(summary)


def test_an_error_is_one_line_on_stderr_and_exit_1(tmp_path: Path) -> None:
    proc = run([sys.executable, "-m", "reconciler", "-C", str(tmp_path / "missing"), "plan"])
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith("booth: error: ") and proc.stderr.count("\n") == 1, proc.stderr
