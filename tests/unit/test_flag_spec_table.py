"""Every supported run-arg, from its words to the Engine API fields of the built spec.

One row per use of a flag: the run-arg words, and what ``build_desired(config)`` changes
in the booth's and the sidecar's container specs compared with the same config without
them. Each row states the *whole* change (``"HostConfig.Memory": 512 MiB`` and nothing
else), so a flag that fills the wrong field, the right field with another flag's value,
or drops part of its value (a device's permissions, a mount's readonly) fails its row.
Every entry of :data:`reconciler.config.runargs.flags.FLAGS` must have at least one row: a
flag added to the table without one fails ``test_every_flag_has_a_row``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import pytest
from booth_builders import config_from_toml, without_contract

from reconciler.config.desired import DOCKER_HOST_IN_BOOTH, build_desired
from reconciler.config.runargs.flags import ALIASES, FLAGS, Route
from reconciler.config.runargs.routing import Word, tokenize
from reconciler.core.model import CODE_MOUNT, Role
from reconciler.errors import ConfigError, RunArgError

CODE = "{code}"  # replaced by the row's code directory
MiB, GiB = 1 << 20, 1 << 30
IN_DIND = f"DOCKER_HOST={DOCKER_HOST_IN_BOOTH}"
HOST_ENV = {"FROM_HOST": "host-value", "SHELL_ONLY": "s"}


@attrs.frozen
class Row:
    """``words`` used as run-args; ``booth``/``sidecar``: the fields they change there.

    Keys are ``Field`` or ``HostConfig.Field``; values are the field's whole new value.
    ``dind=None`` runs the row in both modes; namespace rows then expect their fields on
    the sidecar in DinD mode and on the booth (the namespace's owner) without it.
    """

    flag: str
    words: tuple[str, ...]
    booth: Mapping[str, Any] = attrs.field(factory=dict)
    sidecar: Mapping[str, Any] = attrs.field(factory=dict)
    dind: bool | None = True
    error: str | None = None
    warning: str | None = None
    files: Mapping[str, str | bytes] = attrs.field(factory=dict)

    @property
    def id(self) -> str:
        mode = {True: "dind", False: "alone", None: "both"}[self.dind]
        return f"{self.flag}[{mode}]:{' '.join(self.words)}"


def device(host: str, container: str, permissions: str) -> dict[str, str]:
    return {"PathOnHost": host, "PathInContainer": container, "CgroupPermissions": permissions}


def bindings(*ports: tuple[str, str, str]) -> dict[str, Any]:
    """``HostConfig.PortBindings`` and ``ExposedPorts`` for (key, host ip, host port)."""
    by_key: dict[str, list[dict[str, str]]] = {}
    for key, ip, host in ports:
        by_key.setdefault(key, []).append({"HostIp": ip, "HostPort": host})
    return {"HostConfig.PortBindings": by_key, "ExposedPorts": {key: {} for key in by_key}}


BOOTH_PORT = ("10000/tcp", "127.0.0.1", "10000")

ROWS = (
    # -- environment: always the whole, sorted Env, DOCKER_HOST included in DinD mode
    Row("env", ("-e", "A=1"), booth={"Env": ["A=1", IN_DIND]}),
    Row(
        "env",
        ("--env", "B=2", "--env=A=x=y", "-e", "FROM_HOST", "-e", "NOT_ON_HOST", "-e", "B=3"),
        booth={"Env": ["A=x=y", "B=3", "FROM_HOST=host-value"]},
        dind=False,
    ),
    Row("env", ("-e", "EMPTY="), booth={"Env": [IN_DIND, "EMPTY="]}),
    Row(
        "env-file",
        ("--env-file", "vars.env"),
        booth={"Env": ["A=from-file", "B= kept ", IN_DIND, "SHELL_ONLY=s"]},
        files={"vars.env": "\ufeff# comment\n\n  A=from-file\nB= kept \nSHELL_ONLY\nNOPE\n"},
    ),
    Row(
        "env-file",
        ("-e", "A=flag", "--env-file", f"{CODE}/vars.env"),
        booth={"Env": ["A=flag", "B=file"]},
        files={"vars.env": "A=file\nB=file\n"},
        dind=False,
    ),
    Row("env-file", ("--env-file", "~nosuchuser/vars.env"), error="cannot expand"),
    Row(
        "env-file",
        ("--env-file", "nul.env"),
        error="line 2 contains a NUL byte",
        files={"nul.env": b"A=1\nB=x\x00y\n"},
    ),
    # -- file systems
    Row(
        "volume",
        ("-v", "/h:/c", "--volume=/ro:/r:ro", "-v", "./rel:/rel", "-v", "data:/data:rw"),
        booth={
            "HostConfig.Binds": [
                f"{CODE}:{CODE_MOUNT}",
                "/h:/c",
                "/ro:/r:ro",
                f"{CODE}/rel:/rel",
                "data:/data:rw",
            ]
        },
    ),
    Row("volume", ("-v", "/anonymous"), booth={"Volumes": {"/anonymous": {}}}),
    Row("volume", ("-v", "~nosuchuser/x:/c"), error="cannot expand '~nosuchuser'"),
    Row(
        "mount",
        ("--mount", "type=bind,source=./data,target=/dst"),
        booth={"HostConfig.Mounts": [{"Type": "bind", "Source": f"{CODE}/data", "Target": "/dst"}]},
    ),
    Row(
        "mount",
        ("--mount", "type=bind,source=/src,target=/dst,readonly"),
        booth={
            "HostConfig.Mounts": [
                {"Type": "bind", "Source": "/src", "Target": "/dst", "ReadOnly": True}
            ]
        },
    ),
    Row(
        "mount",
        (
            "--mount=type=volume,src=vol,dst=/v,ro=false,volume-nocopy",
            "--mount",
            "type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1770",
        ),
        booth={
            "HostConfig.Mounts": [
                {
                    "Type": "volume",
                    "Source": "vol",
                    "Target": "/v",
                    "ReadOnly": False,
                    "VolumeOptions": {"NoCopy": True},
                },
                {
                    "Type": "tmpfs",
                    "Target": "/t",
                    "TmpfsOptions": {"SizeBytes": 64 * MiB, "Mode": 0o1770},
                },
            ]
        },
    ),
    Row(
        "tmpfs",
        ("--tmpfs", "/run", "--tmpfs=/cache:size=64m,mode=1777"),
        booth={"HostConfig.Tmpfs": {"/run": "", "/cache": "size=64m,mode=1777"}},
    ),
    # -- process
    Row("workdir", ("-w", "/work"), booth={"WorkingDir": "/work"}),
    Row("workdir", ("--workdir", "/a", "--workdir=/b"), booth={"WorkingDir": "/b"}),
    Row("user", ("-u", "1000:1000"), booth={"User": "1000:1000"}),
    Row("user", ("--user=coder",), booth={"User": "coder"}),
    Row("entrypoint", ("--entrypoint", "/bin/sh -c"), booth={"Entrypoint": ["/bin/sh -c"]}),
    Row("entrypoint", ("--entrypoint=",), booth={"Entrypoint": [""]}),
    Row("init", ("--init=false",), booth={"HostConfig.Init": False}),
    Row("init", ("--init",)),  # already the booth's default
    Row("tty", ("-t",), booth={"Tty": True}),
    Row("tty", ("--tty=false",)),  # false is the engine's default: left out of the spec
    Row("interactive", ("-i",), booth={"OpenStdin": True}),
    Row("interactive", ("--interactive=1",), booth={"OpenStdin": True}),
    Row(
        "label", ("-l", "team=core", "--label=flag"), booth={"Labels": {"team": "core", "flag": ""}}
    ),
    Row("label", ("--label", "io.codingbooth.role=x"), error="reserved"),
    # -- privileges and devices
    Row(
        "cap-add",
        ("--cap-add", "NET_ADMIN", "--cap-add=SYS_PTRACE"),
        booth={"HostConfig.CapAdd": ["NET_ADMIN", "SYS_PTRACE"]},
    ),
    Row("cap-drop", ("--cap-drop", "MKNOD"), booth={"HostConfig.CapDrop": ["MKNOD"]}),
    Row(
        "device",
        ("--device", "/dev/fuse", "--device=/dev/sda:/dev/xvda:r", "--device", "/dev/kvm:mw"),
        booth={
            "HostConfig.Devices": [
                device("/dev/fuse", "/dev/fuse", "rwm"),
                device("/dev/sda", "/dev/xvda", "r"),
                device("/dev/kvm", "/dev/kvm", "mw"),
            ]
        },
    ),
    Row(
        "device",
        ("--device", "/dev/sda:/dev/xvda"),
        booth={"HostConfig.Devices": [device("/dev/sda", "/dev/xvda", "rwm")]},
    ),
    Row("privileged", ("--privileged",), booth={"HostConfig.Privileged": True}),
    Row("privileged", ("--privileged=false",)),
    Row(
        "security-opt",
        ("--security-opt", "seccomp=unconfined", "--security-opt=no-new-privileges"),
        booth={"HostConfig.SecurityOpt": ["seccomp=unconfined", "no-new-privileges"]},
    ),
    # -- resources: distinct values, so one field taking another's value shows
    Row("shm-size", ("--shm-size", "256m"), booth={"HostConfig.ShmSize": 256 * MiB}),
    Row("memory", ("-m", "1g"), booth={"HostConfig.Memory": GiB}),
    Row(
        "memory",
        ("--memory=512m", "--shm-size", "64m"),
        booth={"HostConfig.Memory": 512 * MiB, "HostConfig.ShmSize": 64 * MiB},
    ),
    Row("cpus", ("--cpus", "1.5"), booth={"HostConfig.NanoCpus": 1_500_000_000}),
    Row("cpus", ("--cpus=3/4",), booth={"HostConfig.NanoCpus": 750_000_000}),
    # -- ports: the sidecar owns every host port in DinD mode, the booth otherwise
    Row(
        "publish", ("-p", "8080:80"), sidecar=bindings(BOOTH_PORT, ("80/tcp", "127.0.0.1", "8080"))
    ),
    Row(
        "publish",
        ("--publish=0.0.0.0:5353:53/udp",),
        booth=bindings(BOOTH_PORT, ("53/udp", "0.0.0.0", "5353")),
        dind=False,
    ),
    # -P publishes the --expose ports on ephemeral host ports of the port set
    Row(
        "publish-all",
        ("-P", "--expose", "80"),
        sidecar={
            "HostConfig.PortBindings": {
                "10000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "10000"}],
                "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
            },
            "ExposedPorts": {"10000/tcp": {}, "80/tcp": {}},
        },
        warning="image's own EXPOSE ports",
    ),
    Row(
        "publish-all",
        ("--expose=53/udp", "--publish-all"),
        booth={
            "HostConfig.PortBindings": {
                "10000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "10000"}],
                "53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
            },
            "ExposedPorts": {"10000/tcp": {}, "53/udp": {}},
        },
        dind=False,
        warning="image's own EXPOSE ports",
    ),
    Row(
        "publish-all",
        ("-P", "--expose", "80", "-p", "8080:80"),
        sidecar={
            "HostConfig.PortBindings": {
                "10000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "10000"}],
                "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
            },
            "ExposedPorts": {"10000/tcp": {}, "80/tcp": {}},
        },
        warning="image's own EXPOSE ports",
    ),
    Row("publish-all", ("--publish-all=false",), dind=None),
    Row(
        "expose",
        ("--expose", "80-81"),
        sidecar={"ExposedPorts": {"10000/tcp": {}, "80/tcp": {}, "81/tcp": {}}},
        dind=None,
    ),
    Row("expose", ("--expose", "+80"), error="expected PORT", dind=None),
    # -- limits, namespaces, lifecycle, devices (CodingBooth passes these through)
    Row(
        "ulimit",
        ("--ulimit", "nofile=1024:2048", "--ulimit", "nproc=64", "--ulimit", "nofile=10"),
        booth={
            "HostConfig.Ulimits": [
                {"Name": "nofile", "Soft": 10, "Hard": 10},
                {"Name": "nproc", "Soft": 64, "Hard": 64},
            ]
        },
    ),
    Row("ulimit", ("--ulimit", "nofile=2:1"), error="above its hard limit"),
    Row(
        "sysctl",
        ("--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmax=1"),
        booth={"HostConfig.Sysctls": {"kernel.shmmax": "1"}},
        sidecar={"HostConfig.Sysctls": {"net.ipv4.ip_forward": "1"}},
    ),
    Row(
        "sysctl",
        ("--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmax=1"),
        booth={"HostConfig.Sysctls": {"kernel.shmmax": "1", "net.ipv4.ip_forward": "1"}},
        dind=False,
    ),
    Row("sysctl", ("--sysctl", "kernel.hostname=x"), error="not namespaced"),
    Row("ipc", ("--ipc", "host"), booth={"HostConfig.IpcMode": "host"}),
    Row("ipc", ("--ipc=bogus",), error="expected one of none"),
    Row("pid", ("--pid", "host"), booth={"HostConfig.PidMode": "host"}),
    Row("pid", ("--pid=private",), error="expected host or container:NAME"),
    Row(
        "group-add",
        ("--group-add", "audio", "--group-add=44"),
        booth={"HostConfig.GroupAdd": ["audio", "44"]},
    ),
    Row(
        "gpus",
        ("--gpus", "all"),
        booth={
            "HostConfig.DeviceRequests": [
                {
                    "Driver": "",
                    "Count": -1,
                    "DeviceIDs": None,
                    "Options": {},
                    "Capabilities": [["gpu"]],
                }
            ]
        },
    ),
    Row(
        "gpus",
        ("--gpus", '"device=0,1",capabilities=utility'),
        booth={
            "HostConfig.DeviceRequests": [
                {
                    "Driver": "",
                    "Count": 0,
                    "DeviceIDs": ["0", "1"],
                    "Options": {},
                    "Capabilities": [["utility", "gpu"]],
                }
            ]
        },
    ),
    Row("gpus", ("--gpus", "count=lots"), error='must be "all" or a number'),
    Row(
        "restart",
        ("--restart", "on-failure:3"),
        booth={"HostConfig.RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}},
    ),
    Row("restart", ("--restart", "always:3"), error="only be used with on-failure"),
    Row("rm", ("--rm",), booth={"HostConfig.AutoRemove": True}),
    Row("rm", ("--rm=false",), dind=None),
    Row("rm", ("--rm", "--restart", "always"), error="conflict"),
    Row("detach", ("-d",), dind=None, warning="changes nothing: booth always creates"),
    Row("platform", ("--platform", "linux/arm64"), error="parameter of the pull", dind=None),
    # -- networking
    Row("network", ("--network", "host"), booth={"HostConfig.NetworkMode": "host"}, dind=False),
    Row("network", ("--net=none",), warning="ignoring run-arg '--net=none'"),
    Row("hostname", ("-h", "box"), sidecar={"Hostname": "box"}, dind=None),
    Row("hostname", ("--hostname=a", "--hostname", "b"), sidecar={"Hostname": "b"}, dind=None),
    Row(
        "dns",
        ("--dns", "1.1.1.1", "--dns=9.9.9.9"),
        sidecar={"HostConfig.Dns": ["1.1.1.1", "9.9.9.9"]},
        dind=None,
    ),
    Row(
        "dns-search",
        ("--dns-search", "corp"),
        sidecar={"HostConfig.DnsSearch": ["corp"]},
        dind=None,
    ),
    Row(
        "dns-option",
        ("--dns-option", "ndots:2", "--dns-opt=timeout:1"),
        sidecar={"HostConfig.DnsOptions": ["ndots:2", "timeout:1"]},
        dind=None,
    ),
    Row(
        "add-host",
        ("--add-host", "db:10.0.0.2", "--add-host=cache:10.0.0.3"),
        sidecar={"HostConfig.ExtraHosts": ["db:10.0.0.2", "cache:10.0.0.3"]},
        dind=None,
    ),
)

NAMESPACE_FLAGS = {f.name for f in FLAGS if f.route is Route.NAMESPACE}


def _cases() -> list[Any]:
    cases = []
    for row in ROWS:
        modes = (True, False) if row.dind is None else (row.dind,)
        cases += [
            pytest.param(row, dind, id=f"{row.id}-{'dind' if dind else 'alone'}") for dind in modes
        ]
    return cases


def test_every_flag_has_a_row() -> None:
    assert {f.name for f in FLAGS} - {row.flag for row in ROWS} == set()
    assert {row.flag for row in ROWS} <= {f.name for f in FLAGS}


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_each_row_uses_its_own_flag(row: Row) -> None:
    """A row's words are its flag (a mislabelled row would vouch for another flag)."""
    names = {flag.name for flag in tokenize([Word(text, "row") for text in row.words])}
    assert row.flag in names


def _with_code(value: Any, code: str) -> Any:
    if isinstance(value, str):
        return value.replace(CODE, code)
    if isinstance(value, list):
        return [_with_code(item, code) for item in value]
    if isinstance(value, dict):
        return {key: _with_code(item, code) for key, item in value.items()}
    return value


def _toml(words: tuple[str, ...], dind: bool) -> str:
    quoted = ", ".join('"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"' for w in words)
    # The seed's endpoint keeps the booth's DOCKER_* variables to one (test_endpoints.py
    # covers the others): the rows are about what run-args fill.
    endpoint = 'daemon-endpoint = "tcp"\n'
    return f"dind = {'true' if dind else 'false'}\n{endpoint}run-args = [{quoted}]\n"


def _specs(words: tuple[str, ...], dind: bool, code: Path) -> tuple[dict[str, Any], Any]:
    words = tuple(_with_code(word, str(code)) for word in words)
    config = config_from_toml(_toml(words, dind), code=str(code), env=HOST_ENV)
    graph = build_desired(config)
    specs = {role: _own(resource.spec) for role in Role if (resource := graph.get(role))}
    return {
        "booth": specs.get(Role.BOOTH),
        "sidecar": specs.get(Role.SIDECAR),
    }, config


def _own(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The spec without CodingBooth's contract variables (test_codingbooth.py covers them)."""
    return {**spec, "Env": without_contract(list(spec.get("Env", [])))}


def _changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """The fields of ``after`` that differ from ``before``, ``HostConfig.X`` for host fields."""
    if before is None or after is None:
        assert before is after
        return {}
    flat: list[dict[str, Any]] = []
    for spec in (before, after):
        top = {k: v for k, v in spec.items() if k != "HostConfig"}
        flat.append(top | {f"HostConfig.{k}": v for k, v in spec["HostConfig"].items()})
    old, new = flat
    missing = object()
    return {
        key: new.get(key, missing)
        for key in sorted(old.keys() | new.keys())
        if old.get(key, missing) != new.get(key, missing)
    }


@pytest.mark.parametrize(("row", "dind"), _cases())
def test_run_args_fill_exactly_their_engine_api_fields(
    row: Row, dind: bool, tmp_path: Path
) -> None:
    for name, content in row.files.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code = str(tmp_path)
    if row.error is not None:
        with pytest.raises(ConfigError, match=row.error):
            _specs(row.words, dind, tmp_path)
        return
    baseline, _ = _specs((), dind, tmp_path)
    specs, config = _specs(row.words, dind, tmp_path)
    booth, sidecar = _with_code(dict(row.booth), code), _with_code(dict(row.sidecar), code)
    if row.dind is None and row.flag in NAMESPACE_FLAGS and not dind:
        booth, sidecar = sidecar, booth  # without a sidecar the booth owns the namespace
    if row.dind is None and row.flag not in NAMESPACE_FLAGS:
        assert not booth and not sidecar, "a row run in both modes must change nothing"
    assert _changes(baseline["booth"], specs["booth"]) == booth
    assert _changes(baseline["sidecar"], specs["sidecar"]) == sidecar
    if row.warning is None:
        assert config.warnings == ()
    else:
        assert any(row.warning in warning for warning in config.warnings), config.warnings


@pytest.mark.parametrize("spec", [f for f in FLAGS if f.short], ids=lambda f: f.name)
def test_short_spellings_fill_the_same_fields_as_long_ones(spec: Any, tmp_path: Path) -> None:
    value = () if spec.boolean else (_SAMPLE_VALUES[spec.name],)
    if spec.route is Route.REJECTED:
        for spelling in (f"--{spec.name}", f"-{spec.short}"):
            with pytest.raises(RunArgError, match=spec.why):
                _specs((spelling, *value), True, tmp_path)
        return
    for dind in (True, False):
        long_form, _ = _specs((f"--{spec.name}", *value), dind, tmp_path)
        short_form, _ = _specs((f"-{spec.short}", *value), dind, tmp_path)
        assert short_form == long_form


@pytest.mark.parametrize(("alias", "name"), sorted(ALIASES.items()))
def test_aliases_fill_the_same_fields_as_their_flag(alias: str, name: str, tmp_path: Path) -> None:
    long_form, _ = _specs((f"--{name}", "x"), False, tmp_path)
    aliased, _ = _specs((f"--{alias}", "x"), False, tmp_path)
    assert aliased == long_form
    assert long_form != _specs((), False, tmp_path)[0]


_SAMPLE_VALUES = {
    "env": "A=1",
    "volume": "/h:/c",
    "workdir": "/w",
    "user": "1000",
    "label": "k=v",
    "memory": "1g",
    "publish": "8080:80",
    "hostname": "box",
}
