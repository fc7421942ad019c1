"""Helpers shared by the example tests: paths, the CLI in-process, scripts as subprocesses."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cli_support import CliResult

from reconciler.cli import main as cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
DIND_EXAMPLE = EXAMPLES / "dind-example"
KIND_EXAMPLE = EXAMPLES / "kind-example"
CI_EXAMPLE = EXAMPLES / "ci"
CHECK_PORTS = CI_EXAMPLE / "check-exposed-ports.py"

SCRIPT_TIMEOUT = 60.0


def example_dirs() -> list[Path]:
    """Every example with a booth config."""
    return sorted(p.parent.parent for p in EXAMPLES.glob("*/.booth/config.toml"))


def example_scripts() -> list[Path]:
    return sorted(EXAMPLES.rglob("*.sh"))


def plan_offline(directory: Path, *extra: str) -> tuple[int, dict[str, Any] | None, str]:
    """``booth -C directory plan --offline --json`` in-process: (exit code, plan, stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        rc = cli.main(["-C", str(directory), *extra, "plan", "--offline", "--json"])
    text = out.getvalue()
    return rc, (json.loads(text) if rc == 0 else None), text


def sidecar_ports(plan: Mapping[str, Any]) -> list[str]:
    for change in plan["changes"]:
        if change["resource"] == "sidecar":
            return list(change["desired"]["ports"])
    raise AssertionError(f"no sidecar in plan {plan['instance']}")


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    cwd: Path | None = None,
    timeout: float = SCRIPT_TIMEOUT,
    replace_env: bool = False,
) -> CliResult:
    full_env = dict(env or {}) if replace_env else {**os.environ, **(env or {})}
    proc = subprocess.run(
        list(argv),
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


def check_ports(*args: str, stdin: str | None = None) -> CliResult:
    """check-exposed-ports.py as CI runs it: a subprocess of this Python."""
    return run([sys.executable, str(CHECK_PORTS), *args], stdin=stdin)
