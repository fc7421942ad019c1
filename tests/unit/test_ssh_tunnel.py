"""ssh_tunnel: the ssh command line, its failures as one line, and the process's lifetime.

The lifetime tests run a stand-in ``ssh`` (first on PATH) that listens where ``-L``
asks and waits: what is tested is booth's side (start, wait, end, SIGKILL), not ssh.
The real ssh against a real sshd: tests/integration/test_engine_ssh.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from reconciler.engine import connect as engine_connect
from reconciler.engine import ssh_tunnel
from reconciler.engine.address import EngineAddress
from reconciler.engine.ssh_tunnel import SshTunnel, failure_line, forward_command, ssh_arguments
from reconciler.errors import DockerUnavailableError

WHERE = EngineAddress("ssh://deploy@build-host.example:2200", "DOCKER_HOST")

# What OpenSSH 9.2 prints for a known host whose key changed (StrictHostKeyChecking).
CHANGED_KEY = """\
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @
@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@
IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!
Someone could be eavesdropping on you right now (man-in-the-middle attack)!
It is also possible that a host key has just been changed.
The fingerprint for the ED25519 key sent by the remote host is
SHA256:2b9bXbF0p3y4dJt3F6xV1mC5rjlM0f3m8Gc3vQ2bq0E.
Please contact your system administrator.
Add correct host key in /root/.ssh/known_hosts to get rid of this message.
Offending ED25519 key in /root/.ssh/known_hosts:1
Host key for [127.0.0.1]:2222 has changed and you have requested strict checking.
Host key verification failed.
"""


def test_the_command_is_the_docker_clis_destination_with_one_forward() -> None:
    assert ssh_arguments(WHERE) == ["-l", "deploy", "-p", "2200", "--", "build-host.example"]
    assert ssh_arguments(EngineAddress("ssh://host", "context x")) == ["--", "host"]
    command = forward_command(WHERE, "/tmp/d/docker.sock")
    assert command[:2] == ["ssh", "-N"]
    assert "-L" in command and "/tmp/d/docker.sock:/var/run/docker.sock" in command
    # Nothing that weakens the host-key check, and nothing that overrides the user's
    # multiplexing settings: their ~/.ssh/config decides.
    joined = " ".join(command).lower()
    for weakening in ("stricthostkeychecking", "userknownhostsfile", "controlpath", "-s "):
        assert weakening not in joined


def test_a_host_option_in_the_url_cannot_become_an_ssh_option() -> None:
    args = ssh_arguments(EngineAddress("ssh://-oProxyCommand=x", "DOCKER_HOST"))
    assert args[-2] == "--"


def test_a_url_without_a_host_is_an_error() -> None:
    with pytest.raises(DockerUnavailableError, match="names no host"):
        ssh_arguments(EngineAddress("ssh://", "DOCKER_HOST"))


def test_a_changed_host_key_is_one_sentence() -> None:
    line = failure_line(CHANGED_KEY)
    assert "\n" not in line
    assert "Host key for [127.0.0.1]:2222 has changed" in line
    assert "known_hosts" in line and "ssh-keygen -R" in line and "never skips" in line


def test_other_failures_are_ssh_s_last_line() -> None:
    said = "debug noise\nssh: connect to host h port 22: Connection refused\n"
    assert failure_line(said) == "ssh: connect to host h port 22: Connection refused"
    assert failure_line("") == "ssh ended without saying why"


FAKE_SSH = textwrap.dedent("""\
    #!{python}
    # A stand-in ssh: listen where -L asks (after a moment, as after a login), serve nothing.
    import socket, sys, time
    args = sys.argv[1:]
    with open({calls!r}, "a") as calls:
        calls.write(" ".join(args) + "\\n")
    if "-O" in args:
        sys.exit(255)
    if {fail!r}:
        sys.stderr.write("Permission denied (publickey).\\n")
        sys.exit(255)
    local = args[args.index("-L") + 1].rsplit(":", 1)[0]
    time.sleep(0.1)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(local)
    listener.listen()
    while True:  # an engine that hangs up at once
        listener.accept()[0].close()
    """)


def fake_ssh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail: bool = False) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    script = bin_dir / "ssh"
    script.write_text(FAKE_SSH.format(python=sys.executable, calls=str(calls), fail=fail))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(ssh_tunnel.tempfile, "tempdir", None)  # TMPDIR read again
    return calls


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (ended, not reaped yet) counts as gone.
    return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


def test_open_waits_for_the_socket_and_close_ends_ssh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fake_ssh(tmp_path, monkeypatch)
    tunnel = SshTunnel.open(WHERE, timeout=10)
    assert Path(tunnel.socket).exists() and tunnel.url == f"unix://{tunnel.socket}"
    directory = Path(tunnel.socket).parent
    assert directory.stat().st_mode & 0o777 == 0o700
    pid = tunnel._process.pid
    tunnel.close()
    assert not alive(pid) and not directory.exists()
    tunnel.close()  # idempotent
    # Nobody else served the socket: no `ssh -O cancel` was needed.
    assert [line for line in calls.read_text().splitlines() if "-O" in line] == []


def test_an_ssh_that_fails_is_one_line_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_ssh(tmp_path, monkeypatch, fail=True)
    with pytest.raises(DockerUnavailableError) as failed:
        SshTunnel.open(WHERE, timeout=10)
    assert str(failed.value) == (
        "cannot reach the Docker engine at ssh://deploy@build-host.example:2200 "
        "(DOCKER_HOST) over ssh: Permission denied (publickey)."
    )
    assert list(tmp_path.glob(f"{ssh_tunnel.DIR_PREFIX}*")) == []


OPENER = textwrap.dedent("""\
    import sys, time
    from reconciler.engine.address import EngineAddress
    from reconciler.engine.ssh_tunnel import SshTunnel
    tunnel = SshTunnel.open(EngineAddress("ssh://h", "DOCKER_HOST"), timeout=10)
    print(tunnel._process.pid, flush=True)
    time.sleep(600)
    """)


def test_ssh_ends_when_booth_is_sigkilled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_ssh(tmp_path, monkeypatch)
    booth = subprocess.Popen(
        [sys.executable, "-c", OPENER], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    assert booth.stdout is not None
    ssh_pid = int(booth.stdout.readline())
    assert alive(ssh_pid)
    booth.send_signal(signal.SIGKILL)
    booth.wait()
    deadline = time.monotonic() + 5
    while alive(ssh_pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(ssh_pid)
    # Its private directory stayed; the next open removes it.
    left = list(tmp_path.glob(f"{ssh_tunnel.DIR_PREFIX}{booth.pid}-*"))
    assert len(left) == 1
    SshTunnel.open(WHERE, timeout=10).close()
    assert not left[0].exists()


def test_a_prestarted_login_is_the_one_connect_uses_or_is_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fake_ssh(tmp_path, monkeypatch)
    monkeypatch.setenv("DOCKER_HOST", WHERE.url)
    engine_connect.prestart(None)
    (started,) = engine_connect._started
    # The stand-in serves no Engine API: the connect fails, over the prestarted ssh.
    with pytest.raises(DockerUnavailableError, match="cannot reach the Docker engine"):
        engine_connect.connect(WHERE)
    assert len(calls.read_text().splitlines()) == 1 and engine_connect._started == []
    assert started._process.poll() is not None

    engine_connect.prestart(None)
    (unused,) = engine_connect._started
    engine_connect.close_unused()
    assert unused._process.poll() is not None and engine_connect._started == []
    assert list(tmp_path.glob(f"{ssh_tunnel.DIR_PREFIX}*")) == []


def test_prestart_leaves_other_engines_and_errors_to_connect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
    engine_connect.prestart(None)
    monkeypatch.setenv("DOCKER_HOST", "ssh://")
    engine_connect.prestart(None)  # no host: connect says so
    assert engine_connect._started == []
