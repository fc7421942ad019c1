"""Helpers every suite that runs booth or a script shares: its result, a free port."""

from __future__ import annotations

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
