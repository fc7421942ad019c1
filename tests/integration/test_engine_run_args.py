"""A wide set of run-args, applied to a real engine and read back from ``docker inspect``.

The unit spec table (tests/unit/test_flag_spec_table.py) checks the specs booth builds;
this checks that the engine runs what those specs say, field by field, in the engine's
own words: a field the engine drops or renames (``Entrypoint``, a mount's ``RW``) would
pass the spec table and fail here.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from engine_support import docker_cli, in_booth

from reconciler.core.inner_daemon import DEFAULT_INNER_LISTENER, booth_env

pytestmark = pytest.mark.docker

MiB = 1 << 20
DEVICE = "/dev/fuse" if os.path.exists("/dev/fuse") else "/dev/null"


def test_run_args_reach_the_engine_field_by_field(make_booth, tmp_path: Path) -> None:
    ro_dir, mount_dir = tmp_path / "ro-bind", tmp_path / "ro-mount"
    for directory in (ro_dir, mount_dir):
        directory.mkdir()
        (directory / "seen.txt").write_text("x\n")
    b = make_booth(
        cmds=["infinity"],
        run_args=[
            *("-e", "FROM_FLAG=1", "--env-file", "vars.env"),
            *("-v", f"{ro_dir}:/ro-bind:ro"),
            *("--mount", f"type=bind,source={mount_dir},target=/ro-mount,readonly"),
            *("-w", "/tmp/work", "-u", "1000:1000", "-l", "team=core"),
            *("--cap-add", "SYS_PTRACE", "--cap-drop", "MKNOD"),
            *("--device", f"{DEVICE}:{DEVICE}:rw"),
            *("--security-opt", "no-new-privileges"),
            *("--tmpfs", "/scratch:size=16m", "--shm-size", "96m", "-m", "256m"),
            *("--cpus", "0.5", "--init", "--entrypoint", "sleep", "-it"),
            *("-h", "boothbox", "--dns", "9.9.9.9", "--add-host", "db:10.0.0.2"),
        ],
    )
    (b.path / "vars.env").write_text("FROM_FILE=2\n")
    b.ok("apply")

    booth = b.container("booth")
    assert booth is not None
    config, host = booth["Config"], booth["HostConfig"]
    endpoint_env = set(booth_env(DEFAULT_INNER_LISTENER))
    assert {"FROM_FLAG=1", "FROM_FILE=2", *endpoint_env} <= set(config["Env"])
    assert config["WorkingDir"] == "/tmp/work"
    assert config["User"] == "1000:1000"
    assert config["Labels"]["team"] == "core"
    assert config["Entrypoint"] == ["sleep"]
    assert config["Cmd"] == ["infinity"]
    assert config["Tty"] is True
    assert config["OpenStdin"] is True
    assert f"{ro_dir}:/ro-bind:ro" in host["Binds"]
    # The --mount, and the code directory (sent as a Mounts bind: a missing source fails).
    assert {
        "Type": "bind",
        "Source": str(mount_dir),
        "Target": "/ro-mount",
        "ReadOnly": True,
    } in host["Mounts"]
    assert [m["Target"] for m in host["Mounts"]] == ["/home/coder/code", "/ro-mount"]
    mounts = {m["Destination"]: m for m in booth["Mounts"]}
    assert mounts["/ro-bind"]["RW"] is False
    assert mounts["/ro-mount"]["RW"] is False
    assert mounts["/home/coder/code"]["RW"] is True
    assert host["CapAdd"] == ["SYS_PTRACE"]
    assert host["CapDrop"] == ["MKNOD"]
    assert host["Devices"] == [
        {"PathOnHost": DEVICE, "PathInContainer": DEVICE, "CgroupPermissions": "rw"}
    ]
    assert host["SecurityOpt"] == ["no-new-privileges"]
    assert host["Tmpfs"] == {"/scratch": "size=16m"}
    assert host["ShmSize"] == 96 * MiB
    assert host["Memory"] == 256 * MiB
    assert host["NanoCpus"] == 500_000_000
    assert host["Init"] is True
    assert host["Privileged"] is False
    assert host["NetworkMode"] == f"container:{b.container_id('sidecar')}"
    # Namespace flags land on the sidecar, which owns the namespace, not on the booth.
    assert host.get("Dns") in (None, [])
    assert host.get("ExtraHosts") in (None, [])

    sidecar = b.container("sidecar")
    assert sidecar is not None
    assert sidecar["Config"]["Hostname"] == "boothbox"
    assert sidecar["HostConfig"]["Dns"] == ["9.9.9.9"]
    assert sidecar["HostConfig"]["ExtraHosts"] == ["db:10.0.0.2"]

    # ... and the running booth sees them: read-only mounts, the shared /etc/hosts.
    for target in ("/ro-bind", "/ro-mount"):
        assert in_booth(b.booth, "cat", f"{target}/seen.txt").stdout == "x\n"
        # as root, so only the read-only mount can refuse the write
        write = docker_cli("exec", "-u", "0", b.booth, "touch", f"{target}/new", check=False)
        assert write.rc != 0 and "Read-only file system" in write.stderr, write.explain()
    assert in_booth(b.booth, "id", "-u").stdout.strip() == "1000"
    assert "10.0.0.2" in in_booth(b.booth, "cat", "/etc/hosts").stdout


def test_the_flags_codingbooth_passes_through_reach_the_engine(make_booth) -> None:
    """--ulimit, --sysctl (net.* on the namespace's owner), --ipc, --group-add, --restart,
    -P with --expose (through the sidecar's port set) and -d, read back from the engine."""
    b = make_booth(
        run_args=[
            *("--ulimit", "nofile=1024:2048", "--ipc", "shareable", "--group-add", "44"),
            *("--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmax=65536"),
            *("--restart", "unless-stopped", "--expose", "8081", "-P", "-d"),
        ]
    )
    b.ok("apply")
    booth, sidecar = b.container("booth"), b.container("sidecar")
    assert booth is not None and sidecar is not None
    host = booth["HostConfig"]
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 1024, "Hard": 2048}]
    assert host["Sysctls"] == {"kernel.shmmax": "65536"}
    assert host["IpcMode"] == "shareable"
    assert host["GroupAdd"] == ["44"]
    assert host["RestartPolicy"] == {"Name": "unless-stopped", "MaximumRetryCount": 0}
    assert sidecar["HostConfig"]["Sysctls"] == {"net.ipv4.ip_forward": "1"}
    assert "8081/tcp" in sidecar["Config"]["ExposedPorts"]
    (binding,) = sidecar["NetworkSettings"]["Ports"]["8081/tcp"]
    assert binding["HostIp"] == "127.0.0.1" and int(binding["HostPort"]) > 0
    assert in_booth(b.booth, "sh", "-c", "ulimit -n").stdout.strip() == "1024"
    assert in_booth(b.booth, "cat", "/proc/sys/net/ipv4/ip_forward").stdout.strip() == "1"
    assert "44" in in_booth(b.booth, "id", "-G").stdout.split()


def test_rm_makes_the_engine_remove_a_booth_whose_command_ends(make_booth) -> None:
    b = make_booth(dind=False, cmds=["true"], run_args=["--rm"])
    b.ok("apply")
    deadline = time.monotonic() + 15
    while b.container("booth") is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert b.container("booth") is None
    assert b.plan_json()["summary"]["create"] == 1  # the next apply creates it again
