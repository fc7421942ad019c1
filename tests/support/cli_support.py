"""Helpers every suite that runs booth or a script shares: its result, a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from typing import NamedTuple


class CliResult(NamedTuple):
    rc: int
    stdout: str
    stderr: str

    def explain(self) -> str:
        return f"exit {self.rc}\n--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"


def run_python(script: str) -> subprocess.CompletedProcess[str]:
    """``script`` in a fresh interpreter (what a new ``booth`` process has loaded, say)."""
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )


def modules_a_plan_loads(code_dir: str, packages: tuple[str, ...]) -> str:
    """A ``booth plan --detailed-exitcode`` of ``code_dir`` in a fresh interpreter: its exit
    code and the sorted modules of ``packages`` it loaded, as one line (``"0 []"``: a
    converged plan that loaded none of them)."""
    script = "\n".join(
        [
            "import sys",
            "from reconciler.cli.main import main",
            f"code = main(['-q', '-C', {code_dir!r}, 'plan', '--detailed-exitcode'])",
            f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {packages!r})",
            "print(code, heavy)",
        ]
    )
    result = run_python(script)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]


_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, never handed out twice in this session."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _handed_out and port not in (2375, 2376, 10000):
            _handed_out.add(port)
            return port
    raise RuntimeError("no free port found")  # pragma: no cover


def config_reads(argv: list[str], config: str) -> tuple[int, int]:
    """``booth ARGV`` (``cli.main``) in a fresh interpreter: its exit code, and how many
    times that process opened the file ``config`` (counted by an audit hook on every
    ``open``, whoever opens it; a forked child's opens are its own)."""
    script = "\n".join(
        [
            "import os, sys",
            f"config = {os.path.realpath(config)!r}",
            "opens = []",
            "def count(event, args):",
            "    if event == 'open' and isinstance(args[0], (str, os.PathLike)):",
            "        if os.fspath(args[0]) == config:",
            "            opens.append(args[1])",
            "sys.addaudithook(count)",
            "from reconciler.cli.main import main",
            f"code = main({argv!r})",
            "print('\\nexit', code, 'opens', len(opens))",
        ]
    )
    result = run_python(script)
    words = result.stdout.splitlines()[-1].split() if result.stdout else []
    assert words[:1] == ["exit"], result.stderr
    return int(words[1]), int(words[3])
