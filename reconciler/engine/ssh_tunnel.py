"""One SSH connection per run: the remote engine's socket behind a local one.

docker-py's SSH transport, like the docker CLI, starts ``ssh HOST docker system
dial-stdio`` for every HTTP connection it opens: a TCP and SSH handshake, a login and a
docker CLI started on the engine's host, per connection. A booth run opens several (the
reads, each stream, the log a stop watches, an exec that outlives a request), so over
SSH a converged plan took 4 s and an apply eight times the local one (README,
"Benchmarks").

Here the system ``ssh`` runs once per run, ``ssh -N -L LOCAL:REMOTE``: it listens on a
unix socket in a private directory here (mode 0700) and carries every connection made to
it as a channel of its one connection to the engine's socket there. The local-socket
clients (``unix_api``, and the SDK on ``unix://``) serve every request as they do for a
local engine.

The system ``ssh`` with the user's settings: ``~/.ssh/config``, the agent, known_hosts,
ProxyJump and an existing ``ControlMaster`` (then not even a login: the master holds the
forward, and it is cancelled at close). Host keys are checked as ssh checks them: booth
passes no option that weakens the check, and a failure is one line.

The process ends with the run whatever happens: ``close`` (the workspace's end, and the
interpreter's) ends it; it ignores SIGINT, so a Ctrl-C lets the current step finish
over a live connection (``apply/interrupts.py``); on Linux the kernel sends it SIGTERM when
booth dies, even by SIGKILL (``PR_SET_PDEATHSIG``), and the private directory such a
run leaves is removed by the next run's open.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.engine.address import EngineAddress
from reconciler.errors import DockerUnavailableError
from reconciler.ui.logs import get_logger

# Where dockerd listens on the engine's host (the docker CLI's default there as well).
REMOTE_SOCKET = "/var/run/docker.sock"
# A login may wait for an agent's confirmation or a passphrase typed on the terminal.
OPEN_TIMEOUT = 60.0
CLOSE_TIMEOUT = 2.0
DIR_PREFIX = "booth-ssh-"
_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 0.005  # for a file to appear here: no round trip

log = get_logger()


def ssh_arguments(where: EngineAddress) -> list[str]:
    """The ssh options and destination of an ``ssh://[user@]host[:port]`` URL, as the
    docker CLI passes them (``-l``, ``-p``, ``--`` before the host, so no host can be
    read as an option)."""
    url = urlsplit(where.url)
    if not url.hostname:
        raise DockerUnavailableError(f"{where.url} ({where.source}) names no host")
    arguments = ["-l", url.username] if url.username else []
    if url.port:
        arguments += ["-p", str(url.port)]
    return [*arguments, "--", url.hostname]


def forward_command(where: EngineAddress, local: str, remote: str = REMOTE_SOCKET) -> list[str]:
    """``ssh -N -L LOCAL:REMOTE``; a forward that cannot be set up ends ssh at once."""
    forward = ["-N", "-o", "ExitOnForwardFailure=yes", "-L", f"{local}:{remote}"]
    return ["ssh", *forward, *ssh_arguments(where)]


def failure_line(stderr: str) -> str:
    """ssh's reason on one line: its last line that says something, the host-key
    mismatch (a box of ``@`` and a long explanation) as a sentence of its own."""
    if "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr:
        changed = next((ln for ln in stderr.splitlines() if "has changed" in ln), "")
        return (
            f"the engine host's key is not the one known_hosts has for it ({changed.strip()} "
            "Host key verification failed); booth never skips the check: if the host really "
            "got a new key, remove the old one with ssh-keygen -R"
        )
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip().strip("@").strip()]
    return lines[-1] if lines else "ssh ended without saying why"


class SshTunnel:
    """A running ``ssh -N -L``; ``url`` is the local socket it serves."""

    def __init__(self, process: subprocess.Popen[bytes], directory: Path, where: EngineAddress):
        self._process = process
        self._directory = directory
        self._where = where
        self.socket = str(directory / "docker.sock")
        self.remote = REMOTE_SOCKET

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def address(self) -> EngineAddress:
        return self._where

    @classmethod
    def open(cls, where: EngineAddress, timeout: float = OPEN_TIMEOUT) -> SshTunnel:
        """Start ssh and return once its socket is there (it is made after the login)."""
        tunnel = cls.start(where)
        tunnel.wait_until_listening(timeout)
        return tunnel

    @classmethod
    def start(cls, where: EngineAddress) -> SshTunnel:
        """Start ssh without waiting for it: the login overlaps whatever booth does
        next (``wait_until_listening`` before the first request)."""
        directory = Path(tempfile.mkdtemp(prefix=f"{DIR_PREFIX}{os.getpid()}-"))
        stderr = (directory / "ssh.err").open("wb")
        command = forward_command(where, str(directory / "docker.sock"))
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                # Safe: booth connects before it starts any thread.
                preexec_fn=_child_setup(os.getpid()),  # noqa: PLW1509
            )
        except OSError as err:
            shutil.rmtree(directory, ignore_errors=True)
            raise DockerUnavailableError(
                f"cannot run ssh for {where.url} ({where.source}): {err}"
            ) from None
        finally:
            stderr.close()
        tunnel = cls(process, directory, where)
        atexit.register(tunnel.close)
        sweep_stale()  # while ssh logs in
        return tunnel

    def wait_until_listening(self, timeout: float = OPEN_TIMEOUT) -> None:
        """Return once ssh serves the socket; one line (and ssh ended) if it cannot."""
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.socket):
            if self._process.poll() is not None or time.monotonic() > deadline:
                reason = (
                    self.stderr()
                    if self._process.poll() is not None
                    else (f"no answer within {timeout:g}s")
                )
                self.close()
                raise DockerUnavailableError(
                    f"cannot reach the Docker engine at {self._where.url} "
                    f"({self._where.source}) over ssh: {failure_line(reason)}"
                )
            time.sleep(_POLL_SECONDS)
        log.debug("ssh.tunnel_open", endpoint=self._where.url, socket=self.socket)

    def stderr(self) -> str:
        """What ssh has said so far (its errors, warnings)."""
        try:
            return (self._directory / "ssh.err").read_text(errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        """End ssh (and a forward an existing ControlMaster holds for it); idempotent."""
        atexit.unregister(self.close)
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(CLOSE_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._still_served():
                self._cancel_in_master()
        shutil.rmtree(self._directory, ignore_errors=True)

    def _still_served(self) -> bool:
        """Whether someone still listens on our socket once our ssh is gone: a
        ControlMaster the user runs, which holds the forward our ssh asked it for."""
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(self.socket)
        except OSError:
            return False
        finally:
            probe.close()
        return True

    def _cancel_in_master(self) -> None:
        """The master would keep the forward (and its listening socket) after our ssh
        ended, until it exits itself: ``ssh -O cancel`` removes it."""
        cancel = ["ssh", "-O", "cancel", "-L", f"{self.socket}:{self.remote}"]
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                cancel + ssh_arguments(self._where),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=CLOSE_TIMEOUT,
                check=False,
            )


def _child_setup(parent: int) -> Callable[[], None]:
    """What the ssh child does between fork and exec: ignore SIGINT (a Ctrl-C on the
    terminal reaches the whole process group; booth decides what it stops), and on
    Linux ask for SIGTERM when booth dies. The C library is loaded here, before the
    fork: the child only calls into it."""
    libc_name = ctypes.util.find_library("c")
    prctl = ctypes.CDLL(libc_name, use_errno=True).prctl if libc_name else None

    def setup() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        asked = prctl is not None and prctl(_PR_SET_PDEATHSIG, signal.SIGTERM) == 0
        if asked and os.getppid() != parent:  # booth died before the request: end now
            os._exit(1)

    return setup


def sweep_stale() -> None:
    """Remove the private directories of runs that ended without closing (a SIGKILLed
    booth: its ssh ended with it, the directory stayed)."""
    for directory in Path(tempfile.gettempdir()).glob(f"{DIR_PREFIX}*-*"):
        pid = directory.name.removeprefix(DIR_PREFIX).partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)) and directory.stat().st_uid == os.getuid():
            shutil.rmtree(directory, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
