"""An SSH engine (``DOCKER_HOST=ssh://…``): one SSH connection per run, gone with the run.

Run against each ssh:// engine of BOOTH_TEST_ENGINES (``.ci/engines-up.sh``: sshd on
127.0.0.1 in front of the local dockerd); deselected when there is none. Every ``ssh``
booth starts goes through a wrapper that records its arguments and then runs the ssh the
engine's set-up provides, as a user's ~/.ssh/config would be used.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import docker
import pytest
from cli_support import modules_a_plan_loads
from engine_support import BoothDir, eventually, labelled_containers
from engine_targets import EngineTarget
from pausing_booth import MARKER

pytestmark = [pytest.mark.docker, pytest.mark.engines, pytest.mark.engines_over_ssh]

TUNNEL_DIR_PREFIX = "booth-ssh-"  # reconciler.engine.ssh_tunnel.DIR_PREFIX
SAYS = "booth-says-hello"


def ssh_wrapper(directory: Path, *options: str) -> tuple[dict[str, str], Path]:
    """An ``ssh`` first on PATH that logs its arguments, adds ``options``, and runs the
    ssh the selected engine's PATH finds; the environment for booth, and the log."""
    real = shutil.which("ssh")
    assert real is not None, "no ssh on PATH"
    directory.mkdir(exist_ok=True)
    log = directory / "ssh.calls"
    log.touch()
    wrapper = directory / "ssh"
    extra = " ".join(options)
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec {real} {extra} "$@"\n')
    wrapper.chmod(0o755)
    return {"PATH": f"{directory}{os.pathsep}{os.environ['PATH']}"}, log


def tunnels_of(pid: int) -> list[str]:
    """Command lines of the ssh processes the booth process ``pid`` started."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        line = " ".join(a.decode(errors="replace") for a in argv)
        if f"{TUNNEL_DIR_PREFIX}{pid}-" in line and "ssh" in argv[0].decode(errors="replace"):
            found.append(line)
    return found


def tunnel_dirs_of(pid: int) -> list[Path]:
    return list(Path(tempfile.gettempdir()).glob(f"{TUNNEL_DIR_PREFIX}{pid}-*"))


def forwards(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if " -N " in f" {line} "]


def test_every_command_over_one_ssh_connection(
    make_booth: Callable[..., BoothDir],
    docker_client: docker.DockerClient,
    engine: EngineTarget,
    tmp_path: Path,
) -> None:
    env, log = ssh_wrapper(tmp_path / "ssh")
    b = make_booth(cmds=["sh", "-c", f"echo {SAYS}; exec sleep infinity"])

    def ok(*args: str) -> str:
        result = b.cli(*args, env=env)
        assert result.rc == 0, f"booth {' '.join(args)}: {result.explain()}"
        return result.stdout

    ok("apply")
    assert {c["State"] for c in labelled_containers(docker_client, b.instance).values()} == {
        "running"
    }
    plan = ok("plan", "--detailed-exitcode")
    assert plan.startswith("Engine: ") and "remote over ssh" in plan.splitlines()[0], plan
    assert plan.endswith("No changes. The booth matches the configuration.\n"), plan
    inner = ok("exec", "--", "docker", "version", "--format", "{{.Server.Os}}")
    assert inner.strip() == "linux"

    def logged() -> None:
        assert SAYS in ok("logs", "--tail", "5")

    eventually(logged, what="the booth's first line in `booth logs`")
    ok("destroy", "--volumes")
    assert labelled_containers(docker_client, b.instance) == {}

    calls = log.read_text().splitlines()
    # One forward per command (apply, plan, exec, the logs until they showed, destroy),
    # never docker-py's per-connection `docker system dial-stdio`.
    assert len(forwards(log)) == len([c for c in calls if "-O cancel" not in c]), calls
    assert not [c for c in calls if "dial-stdio" in c], calls
    assert 5 <= len(forwards(log)) <= 5 + 20, calls


def test_run_and_followed_logs_end_their_ssh(
    make_booth: Callable[..., BoothDir], engine: EngineTarget, tmp_path: Path
) -> None:
    env, log = ssh_wrapper(tmp_path / "ssh")
    session = make_booth()
    ran = session.cli("run", "--", "echo", SAYS, env=env)
    assert ran.rc == 0 and SAYS in ran.stdout, ran.explain()
    assert len(forwards(log)) == 1, log.read_text()

    b = make_booth(cmds=["sh", "-c", f"echo {SAYS}; exec sleep infinity"])
    assert b.cli("apply", env=env).rc == 0
    follow = b.start("logs", "--follow", env=env)

    def followed() -> None:
        assert SAYS in follow.stdout_path.read_text()

    eventually(followed, timeout=30, what="the booth's first line in `booth logs -f`")
    assert tunnels_of(follow.pid), "the followed log runs over no ssh tunnel"
    follow.send(signal.SIGINT)  # Ctrl-C: the end of a followed log, as `docker logs -f`
    assert follow.result(timeout=30).rc == 0
    assert tunnels_of(follow.pid) == []
    assert tunnel_dirs_of(follow.pid) == []


def test_a_sigkilled_apply_leaves_no_ssh_process(
    make_booth: Callable[..., BoothDir], engine: EngineTarget, tmp_path: Path
) -> None:
    env, _ = ssh_wrapper(tmp_path / "ssh")
    b = make_booth()
    run = b.start("apply", env=env, pause_before="wait-ready")
    run.wait_for(MARKER)
    assert tunnels_of(run.pid), "the paused apply runs over no ssh tunnel"
    run.kill()  # SIGKILL: booth runs no clean-up of its own
    deadline = time.monotonic() + 10
    while tunnels_of(run.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert tunnels_of(run.pid) == []
    # The next run converges, and removes the private directory the killed one left.
    assert b.cli("apply", env=env).rc == 0
    assert tunnel_dirs_of(run.pid) == []


def test_a_changed_host_key_is_one_clear_error(
    make_booth: Callable[..., BoothDir], engine: EngineTarget, tmp_path: Path
) -> None:
    url = urlsplit(engine.env["DOCKER_HOST"])
    key = tmp_path / "other_host_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    known = tmp_path / "known_hosts"
    host = f"[{url.hostname}]:{url.port}" if url.port else str(url.hostname)
    known.write_text(f"{host} {Path(f'{key}.pub').read_text()}")
    env, _ = ssh_wrapper(tmp_path / "ssh", "-o", f"UserKnownHostsFile={known}")
    b = make_booth()
    failed = b.cli("plan", env=env)
    assert failed.rc == 1, failed.explain()
    lines = failed.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("booth: error: "), failed.stderr
    message = lines[0]
    assert "known_hosts" in message and "ssh-keygen -R" in message, message
    assert str(url.port) in message  # names the engine


def test_a_converged_plan_over_ssh_imports_neither_the_sdk_nor_requests(
    make_booth: Callable[..., BoothDir], engine: EngineTarget
) -> None:
    """Over the run's tunnel the plan's reads are the local socket's (unix_api)."""
    b = make_booth()
    b.ok("apply")
    assert (
        modules_a_plan_loads(str(b.path), ("docker", "requests", "urllib3", "paramiko")) == "0 []"
    )


def test_a_users_control_master_is_used_and_keeps_no_forward_of_booths(
    make_booth: Callable[..., BoothDir], engine: EngineTarget, tmp_path: Path
) -> None:
    """With ``ControlPath`` set and a master running (the user's), booth's ssh is a
    client of it; the forward it asked the master for is cancelled at the end, and the
    master stays the user's."""
    url = urlsplit(engine.env["DOCKER_HOST"])
    control = tmp_path / "cm"
    destination = ["-l", str(url.username), "-p", str(url.port), "--", str(url.hostname)]
    options = ["-o", f"ControlPath={control}"]
    master = [*options, "-o", "ControlMaster=yes", "-o", "ControlPersist=120", "-N", "-f"]
    subprocess.run(["ssh", *master, *destination], check=True, timeout=30)
    try:
        env, log = ssh_wrapper(tmp_path / "ssh", *options)
        b = make_booth()
        planned = b.cli("plan", env=env)
        assert planned.rc == 0, planned.explain()
        (forward,) = forwards(log)
        local = forward.split(" -L ", 1)[1].split(":", 1)[0]
        checked = subprocess.run(["ssh", *options, "-O", "check", *destination], check=False)
        assert checked.returncode == 0, "the user's master ended with booth's run"
        assert local not in Path("/proc/net/unix").read_text(), "the master still forwards"
    finally:
        subprocess.run(["ssh", *options, "-O", "exit", *destination], check=False, timeout=30)


REWRITING_SSH = """#!{python}
# ssh, but a forward to the engine's socket goes to a path that does not exist there.
import os, sys
args = [a.replace(":/var/run/docker.sock", ":/nonexistent/docker.sock") for a in sys.argv[1:]]
with open({log!r}, "a") as log:
    log.write(" ".join(args) + "\\n")
os.execv({real!r}, [{real!r}, *args])
"""


def test_a_socket_that_cannot_be_forwarded_falls_back_to_the_sdks_transport(
    make_booth: Callable[..., BoothDir], engine: EngineTarget, tmp_path: Path
) -> None:
    real = shutil.which("ssh")
    assert real is not None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "ssh.calls"
    wrapper = bin_dir / "ssh"
    wrapper.write_text(REWRITING_SSH.format(python=sys.executable, log=str(log), real=real))
    wrapper.chmod(0o755)
    b = make_booth()
    planned = b.cli("plan", env={"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"})
    assert planned.rc == 0, planned.explain()
    assert "refused the forwarded socket" in planned.stderr, planned.explain()
    assert "open failed" in planned.stderr
    calls = log.read_text()
    assert " -N " in f" {calls}" and "dial-stdio" in calls, calls
