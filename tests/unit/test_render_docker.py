"""``--format docker``: every spec field comes back from its flag, secrets stay out.

Each rendered ``docker create`` line is read back with booth's own ``docker run`` grammar
(``runargs.route``, the flag table's parsers, which follow the docker CLI's), and the
fields it gives must be the ones booth sends the engine: so the script creates what
booth creates, field by field. The engine run of the script is in
tests/integration/test_engine_docker_format.py.
"""

from __future__ import annotations

import itertools
import shlex
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from booth_builders import FIXED_CODE, actual_matching, config_from_toml

from reconciler.cli.main import main
from reconciler.config.booth_config import CliInputs
from reconciler.config.desired import build_desired
from reconciler.config.runargs.flags import FLAGS, ParseContext, Route
from reconciler.config.runargs.mounts import parse_mount
from reconciler.config.runargs.routing import route, words_from
from reconciler.core.model import (
    CODE_MOUNT,
    ActualState,
    DesiredGraph,
    Resource,
    Role,
    make_resource,
)
from reconciler.core.plan import Op, Plan, Step, make_plan
from reconciler.core.ports import PortSet, SourcedSpec, build_port_set, parse_port
from reconciler.core.reconcile import ReasonCode, destroy_changes, reconcile
from reconciler.engine.remote import code_dir_as_mount
from reconciler.errors import ConfigError
from reconciler.render.docker import plan_docker
from reconciler.render.docker_args import FIELD_FLAGS, create_args, mount_option, publish_value
from reconciler.render.session import session_docker

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "dind-example")
SECRET = "hunter2-never-printed"
FROM_FILE = "from-the-env-file-never-printed"

# One use of every flag of the table (Route.REJECTED aside), with values the docker CLI
# and booth both accept. Adding a flag to flags.FLAGS means adding it here, and its
# rendering to docker_args.FIELD_FLAGS.
SAMPLES: dict[str, list[str]] = {
    "env": ["-e", "PLAIN=1", "-e", f"TOKEN={SECRET}", "-e", "FROM_HOST"],
    "env-file": ["--env-file", "vars.env"],
    "volume": ["-v", "/srv/data:/data:ro", "-v", "/anonymous"],
    "mount": [
        "--mount",
        "type=volume,source=cache,target=/cache,volume-label=a=b,volume-opt=o=1,volume-nocopy",
        "--mount",
        "type=bind,source=/srv/a b,target=/b,readonly,bind-propagation=rslave",
        "--mount",
        "type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1777",
        "--mount",
        'type=bind,"source=/srv/x,y",target=/xy',
    ],
    "workdir": ["-w", "/work"],
    "user": ["-u", "1000:1000"],
    "label": ["--label", "team=a b", "-l", "empty="],
    "cap-add": ["--cap-add", "NET_ADMIN"],
    "cap-drop": ["--cap-drop", "MKNOD"],
    "device": ["--device", "/dev/fuse", "--device", "/dev/null:/dev/nothing:r"],
    "privileged": ["--privileged"],
    "security-opt": ["--security-opt", "no-new-privileges"],
    "tmpfs": ["--tmpfs", "/scratch:size=1m,mode=1777", "--tmpfs", "/plain"],
    "shm-size": ["--shm-size", "64m"],
    "memory": ["-m", "1g"],
    "cpus": ["--cpus", "1.25"],
    "init": ["--init=false"],
    "entrypoint": ["--entrypoint", "/bin/sh"],
    "tty": ["-t"],
    "interactive": ["-i"],
    "publish": ["-p", "8080:80", "-p", "[::1]:5353:53/udp", "-p", "9000-9001:9000-9001"],
    "network": ["--network", "bridge"],
    "hostname": ["-h", "box"],
    "dns": ["--dns", "192.0.2.53"],
    "dns-search": ["--dns-search", "example.test"],
    "dns-option": ["--dns-option", "ndots:2"],
    "add-host": ["--add-host", "db:192.0.2.7"],
    "ulimit": ["--ulimit", "nofile=1024:2048"],
    "sysctl": ["--sysctl", "net.core.somaxconn=1024", "--sysctl", "kernel.shmmax=65536"],
    "ipc": ["--ipc", "shareable"],
    "pid": ["--pid", "host"],
    "group-add": ["--group-add", "44"],
    "gpus": ["--gpus", "all", "--gpus", '"device=0,1",capabilities=utility,driver=nvidia'],
    "restart": ["--restart", "no"],
    "rm": ["--rm"],
    "detach": ["-d"],
    "publish-all": ["-P"],
    "expose": ["--expose", "7000", "--expose", "7100/udp"],
}
HOST_ENV = {"FROM_HOST": "host value"}


def kitchen_sink(tmp_path: Path, *, dind: bool, endpoint: str = "tls") -> DesiredGraph:
    (tmp_path / "vars.env").write_text(f"FILE_VAR={FROM_FILE}\n", encoding="utf-8")
    words = [word for sample in SAMPLES.values() for word in sample]
    toml = f'dind = {str(dind).lower()}\ndaemon-endpoint = "{endpoint}"\ncmds = ["sleep", "1"]\n'
    config = config_from_toml(
        toml, code=str(tmp_path), cli=CliInputs(run_args=tuple(words)), env=HOST_ENV
    )
    return build_desired(config)


def fresh_plan(desired: DesiredGraph) -> Plan:
    return make_plan(desired.instance, reconcile(desired, ActualState()))


def create_line(script: str, name: str) -> list[str]:
    lines = [ln for ln in script.splitlines() if ln.startswith(f"docker create --name {name} ")]
    assert len(lines) == 1, script
    return shlex.split(lines[0])


def read_back(words: list[str], resource: Resource, env: Mapping[str, str]) -> dict[str, Any]:
    """The Engine API fields a ``docker create`` line sets, read with booth's grammar."""
    tail = [resource.spec["Image"], *resource.spec.get("Cmd", [])]
    assert words[-len(tail) :] == tail
    flags = words[4 : -len(tail)]
    fields: dict[str, Any] = {}
    rest: list[str] = []
    for flag, value in itertools.pairwise(flags):
        if flag == "--label":  # booth's own labels are reserved to run-args
            key, _, text = value.partition("=")
            fields.setdefault("Labels", {})[key] = text
        elif flag == "--volumes-from":  # no run-arg: booth's own, for the unix endpoint
            fields.setdefault("HostConfig.VolumesFrom", []).append(value)
    skip = False
    for flag in flags:
        if skip or flag in ("--label", "--volumes-from"):
            skip = not skip
            continue
        rest.append(flag)
    # booth's own code mount: a run-arg may not take its target, so it is read apart
    code = [i for i, w in enumerate(rest) if w.endswith(f"target={CODE_MOUNT}")]
    for index in reversed(code):
        fields.setdefault("HostConfig.Mounts", []).insert(0, parse_mount(rest[index], "code"))
        del rest[index - 1 : index + 1]
    routed = route(words_from(rest, "script"), dind=False, context=ParseContext(Path("/"), env))
    for field, value in [*routed.booth.items(), *routed.namespace.items()]:
        if isinstance(value, dict) and isinstance(fields.get(field), dict):
            fields[field] = {**fields[field], **value}  # --sysctl: booth's and net.*
        elif isinstance(value, list) and field == "HostConfig.Mounts":
            fields[field] = [*fields.get(field, []), *value]
        else:
            fields[field] = value
    ports = routed.with_published_exposed(routed.ports)
    if ports:
        mappings = tuple(parse_port(p.spec, default_host_ip="") for p in ports)
        fields["HostConfig.PortBindings"] = PortSet(mappings).docker_bindings()
    return fields


def sent_fields(resource: Resource, instance: str) -> dict[str, Any]:
    """What booth sends the engine for a container, flattened as the flag table names it."""
    sent = code_dir_as_mount(resource.spec)
    fields = {k: v for k, v in sent.items() if k not in ("HostConfig", "Image", "Cmd")}
    fields.update({f"HostConfig.{k}": v for k, v in sent["HostConfig"].items()})
    fields["Labels"] = {**sent.get("Labels", {}), **resource.labels(instance)}
    fields.pop("ExposedPorts", None)  # -p fills it: compared through PortBindings
    for key in ("HostConfig.Privileged", "Tty", "OpenStdin"):
        if fields.get(key) is False:  # the engine's default: the script leaves it out
            del fields[key]
    return fields


@pytest.mark.parametrize("dind", [False, True])
@pytest.mark.parametrize("endpoint", ["tls", "unix", "tcp"])
def test_every_field_comes_back_from_its_flag(tmp_path: Path, dind: bool, endpoint: str) -> None:
    desired = kitchen_sink(tmp_path, dind=dind, endpoint=endpoint)
    script = plan_docker(fresh_plan(desired))
    env = {**HOST_ENV, "PLAIN": "1", "TOKEN": SECRET, "FILE_VAR": FROM_FILE}
    for role in (Role.SIDECAR, Role.BOOTH):
        resource = desired.get(role)
        if resource is None:
            continue
        words = create_line(script, resource.name)
        assert read_back(words, resource, env) == sent_fields(resource, desired.instance)


def test_every_flag_of_the_table_has_a_sample_and_a_rendering() -> None:
    usable = [f for f in FLAGS if f.route is not Route.REJECTED]
    assert sorted(f.name for f in usable) == sorted(SAMPLES)
    apart = {"Env", "Labels", "HostConfig.PortBindings", "ExposedPorts"}
    for flag in usable:
        if flag.field:
            assert flag.field in FIELD_FLAGS or flag.field in apart, flag.name
    assert "Volumes" in FIELD_FLAGS  # -v /path: a Placed field of --volume


def test_values_booth_did_not_choose_are_never_printed(tmp_path: Path) -> None:
    desired = kitchen_sink(tmp_path, dind=True)
    script = plan_docker(fresh_plan(desired))
    for value in (SECRET, FROM_FILE, "host value"):
        assert value not in script
    booth = desired.get(Role.BOOTH)
    assert booth is not None
    words = create_line(script, booth.name)
    pairs = [value for flag, value in itertools.pairwise(words) if flag == "-e"]
    for name in ("TOKEN", "FILE_VAR", "FROM_HOST", "PLAIN"):
        assert name in pairs  # the name alone: docker takes the value from the environment
    # booth's own values are printed, so the script needs only the user's exported
    assert "DOCKER_HOST=tcp://localhost:2376" in pairs
    assert "HOST_UID=1000" in pairs
    assert f"CB_CODE_PATH={tmp_path}" in pairs
    assert "for booth_var in FILE_VAR FROM_HOST PLAIN TOKEN; do" in script


def test_the_script_stops_naming_a_variable_that_is_not_exported(tmp_path: Path) -> None:
    desired = kitchen_sink(tmp_path, dind=True)
    script = plan_docker(fresh_plan(desired))
    # Before any docker command: run it with a `docker` that fails loudly.
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "docker").write_text("#!/bin/sh\necho docker was called >&2\nexit 99\n")
    (fake / "docker").chmod(0o755)
    env = {"PATH": f"{fake}:/usr/bin:/bin", "PLAIN": "1", "TOKEN": "x", "FILE_VAR": "y"}
    result = subprocess.run(
        ["sh", "-c", script], env=env, capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 1
    assert result.stderr == "booth: export FROM_HOST first (its value is not printed)\n"


def test_build_args_booth_chose_are_printed_and_the_users_are_not(tmp_path: Path) -> None:
    (tmp_path / ".booth").mkdir()
    (tmp_path / ".booth" / "Dockerfile").write_text("FROM scratch\n")
    config = config_from_toml(
        'build-args = ["--build-arg", "NPM_TOKEN=s3cret-build-arg"]\n', code=str(tmp_path)
    )
    desired = build_desired(config)
    script = plan_docker(fresh_plan(desired))
    build = shlex.split(next(ln for ln in script.splitlines() if ln.startswith("docker build")))
    args = [value for flag, value in itertools.pairwise(build) if flag == "--build-arg"]
    assert "NPM_TOKEN" in args
    assert "s3cret-build-arg" not in script
    assert {"CB_SETUPS=/opt/codingbooth/setups", "CB_VARIANT_TAG=base"} <= set(args)
    assert build[-1] == str(tmp_path)
    image = desired.get(Role.IMAGE)
    assert image is not None
    labels = [value for flag, value in itertools.pairwise(build) if flag == "--label"]
    assert f"io.codingbooth.spec-hash={image.spec_hash}" in labels


CODINGBOOTH_DIND = """\
variant  = "base"
dind     = true
run-args = [
    "-p", "8080:8080",
    "-p", "3000:3000"
]
"""


def test_codingbooth_dryrun_facts_every_port_once_on_the_sidecar_none_on_the_booth() -> None:
    """CodingBooth's tests/dryrun/dind checks, on booth's output: the line with the DinD
    image has each port exactly once, the booth joins the sidecar and publishes none."""
    cli = CliInputs(run_args=("-p", "8080:8080", "-p", "5000:5000"))
    desired = build_desired(config_from_toml(CODINGBOOTH_DIND, cli=cli))
    script = plan_docker(fresh_plan(desired))
    sidecar_lines = [ln for ln in script.splitlines() if "docker:dind" in ln]
    assert len(sidecar_lines) == 1
    for port in (10000, 8080, 3000, 5000):
        assert sidecar_lines[0].count(f"-p 127.0.0.1:{port}:{port}") == 1, port
        assert sidecar_lines[0].count(f":{port} ") == 1, port
    # in the order declared (the booth's own first, duplicates where first given), as
    # CodingBooth writes them
    ports = "-p 127.0.0.1:10000:10000 -p 127.0.0.1:8080:8080 -p 127.0.0.1:3000:3000"
    assert f" {ports} -p 127.0.0.1:5000:5000 " in sidecar_lines[0]
    sidecar, booth = desired.get(Role.SIDECAR), desired.get(Role.BOOTH)
    assert sidecar is not None and booth is not None
    booth_line = " ".join(create_line(script, booth.name))
    assert f"--network container:{sidecar.name}" in booth_line
    assert " -p " not in booth_line


def test_ports_keep_the_order_they_were_declared_in() -> None:
    specs = ["9001:9001", "8080:80", "9000:9000", "8080:80", "7000-7001:7000-7001/udp"]
    ports = build_port_set(
        [SourcedSpec(spec, "test") for spec in specs],
        booth_port=20000,
        default_host_ip="",
        dind=True,
        allow_daemon_port=False,
    )
    # 9000 and 9001 fold into one range, first declared where 9001 was
    assert [m.canonical() for m in ports.in_declared_order()] == [
        ":20000:10000/tcp",
        ":9000-9001:9000-9001/tcp",
        ":8080:80/tcp",
        ":7000-7001:7000-7001/udp",
    ]
    assert ports == PortSet(ports.mappings)  # the order is no part of the set


def test_publish_values_read_back_as_the_same_mapping() -> None:
    for spec in ("8080:80", "127.0.0.1:8080:80", "[::1]:53:53/udp", "80", "127.0.0.1::80"):
        for default in ("", "127.0.0.1"):
            mapping = parse_port(spec, default_host_ip=default)
            assert parse_port(publish_value(mapping), default_host_ip="") == mapping, spec
    assert publish_value(parse_port("3000:3000")) == "127.0.0.1:3000:3000"
    assert publish_value(parse_port("3000:3000", default_host_ip="")) == "3000:3000"


@pytest.mark.parametrize(
    "value",
    [
        "type=bind,source=/a,target=/b,bind-recursive=readonly,readonly,bind-propagation=rprivate",
        "type=bind,source=/a,target=/b,bind-recursive=disabled,bind-create-src",
        "type=volume,target=/v,volume-subpath=sub,volume-driver=local,volume-opt=type=tmpfs",
        'type=volume,"source=a""b",target=/q,volume-driver=nfs',
        "type=tmpfs,target=/t,tmpfs-mode=700",
        "type=image,source=busybox,target=/img,image-subpath=bin",
        "type=volume,source=xy,target=/c,consistency=cached,readonly=false",
    ],
)
def test_mount_options_read_back_as_the_same_mount(value: str) -> None:
    mount = parse_mount(value, "test")
    assert parse_mount(mount_option(mount), "test") == mount


def test_a_field_without_a_flag_is_an_error_not_a_different_script() -> None:
    spec = {"Image": "x", "HostConfig": {"NetworkMode": "default", "Unheard": 1}}
    resource = make_resource(Role.BOOTH, "b", spec, {})
    with pytest.raises(ConfigError, match=r"HostConfig\.Unheard of b has no docker flag"):
        create_args(resource, "b-1")


def shell_check(script: str) -> None:
    result = subprocess.run(["sh", "-n"], input=script, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_every_plan_shape_is_a_valid_script(tmp_path: Path) -> None:
    desired = kitchen_sink(tmp_path, dind=True)
    running = actual_matching(desired)
    stopped = actual_matching(desired, states={"sidecar": "exited"})
    plans = [
        fresh_plan(desired),
        make_plan(desired.instance, reconcile(desired, running)),
        make_plan(desired.instance, reconcile(desired, stopped)),
        make_plan(desired.instance, destroy_changes(running, remove_volumes=True)),
    ]
    for plan in plans:
        script = plan_docker(plan)
        assert script.startswith("#!/bin/sh\n")
        assert "\nset -e\n" in script
        shell_check(script)
    assert "No changes." in plan_docker(plans[1])
    restart = plan_docker(plans[2])
    assert "docker start" in restart and "until docker exec" in restart
    destroy = plan_docker(plans[3])
    assert "docker rm --force --volumes" in destroy and "docker volume rm" in destroy


def test_format_option(capsys: pytest.CaptureFixture[str]) -> None:
    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["-C", EXAMPLE, *argv])
        out, err = capsys.readouterr()
        return code, out, err

    assert run("plan", "--offline", "--format", "json")[1] == run("plan", "--offline", "--json")[1]
    assert run("plan", "--offline", "--format", "text")[1] == run("plan", "--offline")[1]
    code, out, _ = run("plan", "--offline", "--format", "docker")
    assert code == 0 and out.startswith("#!/bin/sh\n")
    code, _, err = run("plan", "--offline", "--json", "--format", "docker")
    assert code == 1
    assert err == "booth: error: plan: --json and --format docker contradict each other\n"
    code, _, err = run("apply", "--format", "docker")
    assert code == 1
    assert err == (
        "booth: error: apply: --format docker prints the commands instead of running them: "
        "add --dry-run\n"
    )
    code, _, err = run("plan", "--offline", "--format", "yaml")
    assert code == 1 and "invalid choice: 'yaml'" in err


def test_booth_port_mapping_is_first_and_code_dir_is_a_mount() -> None:
    desired = build_desired(config_from_toml(CODINGBOOTH_DIND))
    booth = desired.get(Role.BOOTH)
    assert booth is not None
    words = create_line(plan_docker(fresh_plan(desired)), booth.name)
    assert f"type=bind,source={FIXED_CODE},target=/home/coder/code" in words
    assert "-v" not in words  # a --mount, so a missing code dir fails as with booth


# -- CodingBooth's --dryrun: the session -------------------------------------------------


def session_lines(script: str) -> list[str]:
    return script.split("# Running booth in foreground", 1)[1].splitlines()


def test_a_session_follows_the_booth_then_removes_what_the_session_removes() -> None:
    desired = build_desired(config_from_toml(CODINGBOOTH_DIND))
    script = session_docker(fresh_plan(desired), attach="follow", keep_alive=False)
    shell_check(script)
    booth, sidecar = desired.get(Role.BOOTH), desired.get(Role.SIDECAR)
    network, volume = desired.get(Role.NETWORK), desired.get(Role.VOLUME)
    assert booth and sidecar and network and volume
    assert session_lines(script)[1:] == [
        f"docker logs --follow {booth.name}",
        f"booth_status=$(docker wait {booth.name})",
        "# the session ends: booth removes the booth and the sidecar, and the network this "
        "run created (the data volume stays)",
        f"docker stop -t 10 {booth.name}",
        f"docker rm --force --volumes {booth.name}",
        f"docker stop -t 10 {sidecar.name}",
        f"docker rm --force --volumes {sidecar.name}",
        f"docker network rm {network.name}",
        'exit "$booth_status"',
    ]
    assert volume.name not in "\n".join(session_lines(script))


def test_a_terminal_session_starts_the_booth_attached_and_keeps_what_existed() -> None:
    desired = build_desired(config_from_toml(CODINGBOOTH_DIND))
    stopped = actual_matching(desired, states={"sidecar": "exited", "booth": "exited"})
    plan = make_plan(desired.instance, reconcile(desired, stopped))
    script = session_docker(plan, attach="tty", keep_alive=False)
    shell_check(script)
    booth, network = desired.get(Role.BOOTH), desired.get(Role.NETWORK)
    assert booth and network
    assert "\nset -e\nbooth_status=0\n" in script
    assert f"\ndocker start --attach --interactive {booth.name} || booth_status=$?\n" in script
    assert f"network rm {network.name}" not in script  # it existed before the session
    kept = session_docker(plan, attach="tty", keep_alive=True)
    assert "docker stop" not in kept and "docker rm" not in kept
    running = make_plan(desired.instance, reconcile(desired, actual_matching(desired)))
    attached = session_docker(running, attach="tty", keep_alive=True)
    assert f"\ndocker attach {booth.name} || booth_status=$?\n" in attached


def test_fields_booth_sets_without_a_run_arg_have_their_flags() -> None:
    """--rm (a daemon booth's AutoRemove), and an open stdin with and without StdinOnce:
    `docker create -i` sets StdinOnce, so a stdin booth keeps open gets a note."""
    spec: dict[str, Any] = {
        "Image": "img",
        "OpenStdin": True,
        "StdinOnce": True,
        "HostConfig": {"NetworkMode": "default", "AutoRemove": True, "Init": True},
    }
    words, _ = create_args(make_resource(Role.BOOTH, "b", spec, {}), "b-1")
    assert words[:4] == ["docker", "create", "--name", "b"]
    assert {"--interactive", "--rm", "--init"} <= set(words)
    once = plan_docker(Plan("b-1", (), (_create_step(spec),)))
    assert "# booth creates it with a stdin" not in once
    spec["StdinOnce"] = False
    kept_open = plan_docker(Plan("b-1", (), (_create_step(spec),)))
    assert "# booth creates it with a stdin that stays open" in kept_open


def _create_step(spec: dict[str, Any]) -> Step:
    resource = make_resource(Role.BOOTH, "b", spec, {})
    return Step(
        0, Op.CREATE_CONTAINER, Role.BOOTH, "b", "not found", ReasonCode.NOT_FOUND, (), resource
    )
