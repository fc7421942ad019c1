"""``booth run``: CodingBooth's session — apply, attach to (or follow) the booth, tear down
when it ends."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time

import pytest
from engine_support import inspect_volume, labelled_containers, labelled_networks

pytestmark = pytest.mark.docker


def test_run_shows_all_output_returns_the_booths_exit_code_and_tears_down(
    make_booth, docker_client
):
    b = make_booth()

    # The command ends at once: its output and its end must not be missed by the session.
    result = b.cli(
        "run", "--", "sh", "-c", "echo line1; echo line2; docker ps -q | wc -l; exit 3", timeout=60
    )

    assert result.rc == 3, result.explain()
    assert result.stdout.split() == ["line1", "line2", "0"], result.explain()
    assert labelled_containers(docker_client, b.instance) == {}
    assert labelled_networks(docker_client, b.instance) == []
    assert inspect_volume(docker_client, b.volume) is not None  # the data volume stays


def test_failed_run_reports_the_real_error_and_cleans_up(make_booth, docker_client):
    b = make_booth()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]

        started = time.monotonic()
        result = b.cli("run", "-p", f"{taken}:8080", "--", "true", timeout=60)
        elapsed = time.monotonic() - started

    assert result.rc == 1, result.explain()
    assert elapsed < 8, f"took {elapsed:.1f}s: {result.explain()}"
    assert "already in use" in result.stderr and str(taken) in result.stderr, result.explain()
    assert labelled_containers(docker_client, b.instance) == {}
    assert labelled_networks(docker_client, b.instance) == []  # this run created it: removed


# -- a terminal session: stdin is a TTY, as for a person typing -----------------------------

SESSION_TIMEOUT = 90.0


class TerminalSession:
    """``python -m reconciler -C <dir> args…`` on a fresh pseudo-terminal, as its
    controlling terminal (``pty.fork``): stdin is a TTY, and resizing the terminal sends
    the program SIGWINCH, as it would in a terminal window."""

    def __init__(self, b, *args: str, rows: int = 30, columns: int = 100) -> None:
        argv = [sys.executable, "-m", "reconciler", "-C", str(b.path), *args]
        # The same lock directory as the fixture's runs (see BoothDir.cli).
        env = {**os.environ, "XDG_RUNTIME_DIR": str(b.path.parent / "run")}
        self.output = b""
        self.rc: int | None = None
        pid, fd = pty.fork()
        if pid == 0:  # pragma: no cover - the child only replaces itself
            try:
                os.execve(sys.executable, argv, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.resize(rows, columns)

    def resize(self, rows: int, columns: int) -> None:
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    def type(self, data: bytes) -> None:
        os.write(self.fd, data)

    def _read(self, timeout: float) -> bool:
        """Read what is there within ``timeout``; False once the terminal is closed."""
        if not select.select([self.fd], [], [], timeout)[0]:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: every slave end is closed, the program has ended
            return False
        self.output += chunk
        return bool(chunk)

    def text(self) -> str:
        return self.output.decode(errors="replace")

    def expect(self, pattern: str, timeout: float = SESSION_TIMEOUT) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.text())
            if found:
                return found
            if time.monotonic() >= deadline or not self._read(0.2):
                raise AssertionError(f"{pattern!r} not seen; the terminal showed:\n{self.text()}")

    def wait(self, timeout: float = SESSION_TIMEOUT) -> int:
        """Read until the program ends (so it never blocks on a full terminal); its exit code."""
        deadline = time.monotonic() + timeout
        while self.rc is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.rc = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() >= deadline:
                raise AssertionError(f"still running after {timeout:g}s:\n{self.text()}")
            self._read(0.1)
        while self._read(0.05) and select.select([self.fd], [], [], 0)[0]:
            pass
        return self.rc

    def close(self) -> None:
        if self.rc is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.rc = -9
        os.close(self.fd)


@pytest.fixture
def terminal_session():
    """Factory of :class:`TerminalSession`; any still running is killed at the end."""
    sessions: list[TerminalSession] = []

    def start(b, *args: str, **size: int) -> TerminalSession:
        sessions.append(TerminalSession(b, *args, **size))
        return sessions[-1]

    yield start
    for session in sessions:
        session.close()


def assert_session_objects_gone(docker_client, b) -> None:
    """Booth, sidecar and the network this run created are gone; the data volume stays."""
    assert labelled_containers(docker_client, b.instance) == {}
    assert labelled_networks(docker_client, b.instance) == []


# The booth's side of the conversation: that it has a TTY, that input typed before and
# after it started arrives, that the terminal's size reaches it at the start and when the
# window changes.
INTERACTIVE_SCRIPT = """\
test -t 0 && test -t 1 && echo "ready:tty"
read x
echo "got:$x"
echo "size:$(stty size)"
i=0
until [ "$(stty size)" = "40 120" ] || [ "$i" -ge 150 ]; do sleep 0.1; i=$((i + 1)); done
echo "resized:$(stty size)"
exit 4
"""


def test_terminal_session_is_attached_like_docker_run_it_and_tears_down(
    make_booth, docker_client, terminal_session
):
    b = make_booth()

    session = terminal_session(b, "run", "--", "sh", "-c", INTERACTIVE_SCRIPT, rows=30, columns=100)
    session.expect(r"ready:tty")  # written at once on start: attaching lost nothing
    session.type(b"hello\n")
    session.expect(r"got:hello")
    session.expect(r"size:30 100")
    session.resize(40, 120)  # SIGWINCH → the booth's TTY is resized
    session.expect(r"resized:40 120")
    rc = session.wait()

    assert rc == 4, session.text()
    assert_session_objects_gone(docker_client, b)
    assert inspect_volume(docker_client, b.volume) is not None  # the data volume stays


def test_ctrl_c_in_a_terminal_session_goes_to_the_booth(
    make_booth, docker_client, terminal_session
):
    # Without DinD: this is about the terminal, and a lone booth starts in a moment.
    b = make_booth(dind=False)
    script = 'trap "echo caught-int; exit 7" INT; echo ready; while :; do sleep 0.1; done'

    session = terminal_session(b, "run", "--", "sh", "-c", script)
    session.expect(r"ready")
    session.type(b"\x03")  # raw mode: a byte for the booth's TTY, not SIGINT for booth
    session.expect(r"caught-int")
    rc = session.wait()

    assert rc == 7, session.text()
    assert_session_objects_gone(docker_client, b)


def test_run_with_piped_stdin_streams_plainly_and_exits_with_the_booths_code(
    make_booth, docker_client
):
    """Not a terminal (a pipe with data): no TTY, output followed (the booth's stderr to
    ours, as ``docker run`` splits them), stdin not forwarded."""
    b = make_booth()
    argv = [sys.executable, "-m", "reconciler", "-C", str(b.path), "run", "--"]
    script = "test -t 0 || echo no-tty; test -t 1 || echo plain; echo to-stderr >&2; exit 3"
    env = {**os.environ, "XDG_RUNTIME_DIR": str(b.path.parent / "run")}

    proc = subprocess.run(
        [*argv, "sh", "-c", script],
        input="typed\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.split() == ["no-tty", "plain"], proc.stdout + proc.stderr
    assert "to-stderr\n" in proc.stderr
    assert_session_objects_gone(docker_client, b)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signalled_terminal_session_restores_the_terminal_and_tears_down(
    make_booth, docker_client, terminal_session, signum
):
    """SIGTERM, or SIGHUP (the terminal window closed), ends the session as Ctrl-C ends a
    non-terminal one: booth and sidecar removed, exit 130, the terminal as it was."""
    b = make_booth(dind=False)

    session = terminal_session(b, "run", "--", "sh", "-c", "echo ready; sleep 600")
    session.expect(r"ready")
    assert not termios.tcgetattr(session.fd)[3] & termios.ICANON  # raw while attached
    os.kill(session.pid, signum)
    rc = session.wait()

    assert rc == 130, session.text()
    assert termios.tcgetattr(session.fd)[3] & termios.ICANON, "terminal left in raw mode"
    assert_session_objects_gone(docker_client, b)
