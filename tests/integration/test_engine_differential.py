"""Differential: whatever ``plan`` accepts, the engine accepts (issue 21).

Hypothesis draws run-args from Docker's grammar, valid and invalid values mixed. For each
draw booth does what ``plan`` does before anything is created: it reads the config with
the run-args (the pure parse ``plan --offline`` runs) and makes the engine-aware checks
``apply`` makes before its first step (``preflight.check_values``). When both accept, the
containers of the desired graph are created on the real engine exactly as booth creates
them (``Engine.create_container``), never started, and removed at once; the engine
must accept every one. So an engine refusal always means ``plan`` refused first.

The sidecar is created with the engine's default network instead of booth's own bridge
network (an object of booth's, not a user's value); the booth then joins the sidecar's
namespace as it does in DinD mode. Capabilities newer than Linux 5.8 (PERFMON, BPF,
CHECKPOINT_RESTORE) are left out of the draw: Docker 20.10 does not know them, later
engines do, and no request tells which (docs/design.md §2).

Bounded for CI: at most 60 draws and a 40 s budget (examples after it pass at once).
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from engine_support import BUSYBOX_IMAGE, DIND_IMAGE, labelled_containers, labelled_networks
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.apply.preflight import check_values
from reconciler.config.booth_config import CliInputs, load_config
from reconciler.config.desired import build_desired
from reconciler.config.runargs.values import CAPABILITIES
from reconciler.core.model import Role
from reconciler.engine.docker import engine as docker_engine
from reconciler.engine.engine import Engine
from reconciler.errors import BoothError, EngineError

pytestmark = pytest.mark.docker

BUDGET_SECONDS = float(os.environ.get("BOOTH_DIFFERENTIAL_SECONDS", "40"))
OLD_ENGINE_CAPABILITIES = {"PERFMON", "BPF", "CHECKPOINT_RESTORE"}
CAPS = [c for c in CAPABILITIES if c not in OLD_ENGINE_CAPABILITIES]

# A named volume the creates make (the engine creates one a container names): unique to
# this run, and removed by the cleanup with the containers.
VOLUME = f"bt-diff-{uuid.uuid4().hex[:8]}"
SOURCES = ["/tmp", "./sub", VOLUME, "v", "a vol", "/", "", "~", "x:y", "/tmp/missing-src"]
TARGETS = ["/x", "/", "rel", "/x/../y", "//z", "/home/coder/code", "/x/"]
MODES = ["", "ro", "rw", "z", "ro,z", "bogus", "nocopy", "rshared", "cached", "ro,rw", "ro:extra"]


@st.composite
def volume(draw: st.DrawFn) -> str:
    target = draw(st.sampled_from(TARGETS))
    if draw(st.booleans()):
        return target
    mode = draw(st.sampled_from(MODES))
    text = f"{draw(st.sampled_from(SOURCES))}:{target}"
    return f"{text}:{mode}" if mode else text


@st.composite
def mount(draw: st.DrawFn) -> str:
    fields = [f"type={draw(st.sampled_from(['bind', 'volume', 'tmpfs', 'image', 'npipe']))}"]
    source = draw(st.sampled_from([None, "/tmp", "/tmp/missing-src", VOLUME, "/abs", "v"]))
    if source is not None:
        fields.append(f"src={source}")
    fields.append(f"dst={draw(st.sampled_from(TARGETS))}")
    extras = [
        "readonly",
        "readonly=True",
        "ro=F",
        "readonly=t",
        "readonly=yes",
        "volume-nocopy",
        "bind-propagation=rshared",
        "tmpfs-size=1m",
        "bind-create-src",
        "image-subpath=bin",
    ]
    fields += draw(st.lists(st.sampled_from(extras), max_size=2, unique=True))
    return ",".join(fields)


CAPABILITY = st.one_of(
    st.sampled_from(CAPS),
    st.sampled_from(CAPS).map(str.lower),
    st.sampled_from(CAPS).map(lambda c: f"CAP_{c}"),
    st.sampled_from(["ALL", "all", "BOGUS", "", "NET_RAW,MKNOD", " NET_ADMIN", "cap_"]),
)
VALUES: dict[str, st.SearchStrategy[str]] = {
    "-v": volume(),
    "--mount": mount(),
    "--cap-add": CAPABILITY,
    "--cap-drop": CAPABILITY,
    "-m": st.sampled_from(["4m", "6m", "5.9m", "6291456", "6291455", "1g", "0", "-1", "lots"]),
    "--shm-size": st.sampled_from(["64m", "1", "0", "-1", "1x"]),
    "--cpus": st.sampled_from(["0.5", "1", "2", "3", "1000", "0", "0.001", "-1", "3/2"]),
    "-e": st.sampled_from(["A=1", "=x", "", "A", "A=x\0y", "B= spaced "]),
    "-w": st.sampled_from(["/w", "w", "", "/w\0"]),
    "--device": st.sampled_from(
        ["/dev/null", "/dev/null:/dev/x", "/dev/null:rw", "/dev/nonexist", "/dev/null:rel", ""]
    ),
    "--tmpfs": st.sampled_from(["/t", "/t:size=1m", "rel", "/", "/x"]),
    "--add-host": st.sampled_from(
        [
            "db:10.0.0.2",
            "bad",
            "db=10.0.0.2",
            "db:[::1]",
            "db:host-gateway",
            "db:server",
            ":1.2.3.4",
        ]
    ),
    "--label": st.sampled_from(["k=v", "=v", "k", " k=v", "k k=v", "io.codingbooth.x=1"]),
    "--dns": st.sampled_from(["1.1.1.1", "notanip", "::1", " 1.1.1.1", "fe80::1%eth0"]),
    "-p": st.sampled_from(["8080:80", "+31450:80", "80", "127.0.0.1::80/udp", "x", "1-2:3"]),
    "--ulimit": st.sampled_from(
        ["nofile=1024:2048", "nofile=2:1", "bogus=1", "nproc=-1", "core=1:2:3"]
    ),
    "--sysctl": st.sampled_from(
        [
            "net.ipv4.ip_forward=1",
            "kernel.shmmax=65536",
            "kernel.hostname=x",
            "fs.mqueue.msg_max=10",
            "x",
        ]
    ),
    "--ipc": st.sampled_from(
        ["host", "private", "shareable", "none", "bogus", "container:", "container:nope"]
    ),
    "--pid": st.sampled_from(["host", "private", "container:nope", ""]),
    "--restart": st.sampled_from(
        ["always", "no", "on-failure:3", "always:3", "sometimes", "on-failure:-1"]
    ),
    "--group-add": st.sampled_from(["audio", "44", "", "a b"]),
    "--gpus": st.sampled_from(["all", "1", "count=x", '"device=0,1"', "driver=nvidia,count=2"]),
    "--expose": st.sampled_from(["80", "80-81/udp", "+80", "x", "0"]),
    "--security-opt": st.sampled_from(
        [
            "no-new-privileges",
            "no-new-privileges=maybe",
            "bogus",
            "label=disable",
            "apparmor=unconfined",
            "systempaths=unconfined",
        ]
    ),
    "-h": st.sampled_from(["box", "a b"]),
    "--entrypoint": st.sampled_from(["sh", ""]),
    "-u": st.sampled_from(["1000:1000", "coder"]),
}
SWITCHES = ["--rm", "-d", "-P", "--privileged", "--init=false", "-t", "-i", "--rm=false"]


@st.composite
def run_args(draw: st.DrawFn) -> list[str]:
    words: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.integers(0, 5)) == 0:
            words.append(draw(st.sampled_from(SWITCHES)))
            continue
        flag = draw(st.sampled_from(sorted(VALUES)))
        value = draw(VALUES[flag])
        joined = flag.startswith("--") and draw(st.booleans())
        words += [f"{flag}={value}"] if joined else [flag, value]
    return words


def plan_accepts(code: Path, words: list[str], dind: bool, engine: Engine) -> list[Any]:
    """The containers ``plan`` and the preflight let through, or [] when one refused."""
    name = f"bt-diff-{uuid.uuid4().hex[:8]}"
    (code / "config.toml").write_text(
        f'name = "{name}"\nport = 10000\ndind = {str(dind).lower()}\nkeep-dind-data = false\n'
        f'image = "{BUSYBOX_IMAGE}"\ndind-image = "{DIND_IMAGE}"\ncmds = ["true"]\n',
        encoding="utf-8",
    )
    try:
        config = load_config(
            str(code), str(code / "config.toml"), CliInputs(run_args=tuple(words)), host_env={}
        )
        graph = build_desired(config)
        containers = [r for r in graph.resources if r.kind == "container"]
        check_values(engine, engine.identity(), containers)
    except BoothError:
        return []
    return containers


def create_and_remove(engine: Engine, containers: list[Any], made: list[str]) -> None:
    """Create each container as booth does (the sidecar first), then remove them all."""
    ids: list[str] = []
    try:
        for resource in sorted(containers, key=lambda r: r.role != Role.SIDECAR):
            spec = dict(resource.spec)
            if resource.role == Role.SIDECAR:
                spec["HostConfig"] = {**spec["HostConfig"], "NetworkMode": "default"}
            made.append(resource.name)
            ids.append(engine.create_container(resource.name, spec))
    finally:
        for container in reversed(ids):
            engine.primitives.remove_container(container)


def test_whatever_plan_accepts_the_engine_accepts(
    docker_client: Any, cleanup: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    engine = docker_engine.connect()
    cleanup.volumes.append(VOLUME)
    started = time.monotonic()
    seen = {"accepted": 0, "refused": 0}

    @settings(
        max_examples=int(os.environ.get("BOOTH_DIFFERENTIAL_EXAMPLES", "60")),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(words=run_args(), dind=st.booleans())
    def check(words: list[str], dind: bool) -> None:
        if time.monotonic() - started > BUDGET_SECONDS:
            return
        code = tmp_path_factory.mktemp("diff")
        (code / "sub").mkdir()
        containers = plan_accepts(code, words, dind, engine)
        if not containers:
            seen["refused"] += 1
            return
        seen["accepted"] += 1
        try:
            create_and_remove(engine, containers, cleanup.containers)
        except EngineError as err:
            pytest.fail(f"plan accepted {words!r} (dind={dind}) but the engine refused: {err}")

    check()
    assert seen["accepted"] >= 5 and seen["refused"] >= 5, seen


ENGINE_REFUSALS = {
    "more CPUs than the engine has": (("--cpus", "1000"), "run-arg --cpus 1000: the engine at "),
    "a missing --mount source": (
        ("--mount", "type=bind,source=/tmp/booth-missing-src,target=/m"),
        "run-arg --mount source /tmp/booth-missing-src: no such file or directory",
    ),
    "a missing --device": (
        ("--device", "/dev/booth-missing"),
        "run-arg --device /dev/booth-missing",
    ),
    "an image mount on API 1.41": (
        ("--mount", f"type=image,source={BUSYBOX_IMAGE},target=/img"),
        "image mounts need API 1.48",
    ),
    "joining a container that is not there": (("--pid", "container:booth-nope"), "no container"),
}


@pytest.mark.parametrize("case", sorted(ENGINE_REFUSALS))
def test_what_only_the_engine_can_judge_is_refused_before_anything_is_created(
    make_booth: Any, docker_client: Any, case: str
) -> None:
    words, message = ENGINE_REFUSALS[case]
    if case == "an image mount on API 1.41" and docker_client.api.api_version >= "1.48":
        words, message = ("--cpus", "1000"), "run-arg --cpus 1000"  # the engine knows them
    b = make_booth(run_args=list(words))
    for command in ("plan", "apply"):  # an online plan asks what apply would ask
        result = b.cli(command)
        assert result.rc == 1, result.explain()
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("booth: error: ") and message in line, line
        assert line.endswith("(nothing was created)")
        assert command == "apply" or result.stdout == ""  # apply shows its plan first
    assert b.cli("plan", "--offline").rc == 0  # the engine's facts need the engine
    assert labelled_containers(b.client, b.instance) == {}
    assert labelled_networks(b.client, b.instance) == []


ISSUE_INPUTS = [
    ("-v", "/tmp:/x:bogus"),
    ("-v", "a:b:c:d"),
    ("-v", ""),
    ("-v", "src:/"),
    ("-v", "src:relative"),
    ("-v", "a vol:/x"),
    ("-v", "/tmp:/x", "--tmpfs", "/x"),
    ("--mount", "type=volume,src=/abs,dst=/x"),
    ("--cap-add", "BOGUS"),
    ("--cap-add", ""),
    ("--cap-add", "NET_RAW,MKNOD"),
    ("-m", "4m"),
    ("-e", "A=x\0y"),
    ("-w", "/w\0"),
    ("--device", "/dev/null\0"),
    ("--tmpfs", "/t\0"),
    ("--add-host", "bad"),
    ("--label", "=v"),
    ("--dns", "notanip"),
    ("-v", "/tmp:/x:ro:extra"),
    ("-p", "+31450:80"),
]


def test_issue_inputs_leave_nothing_on_the_engine(make_booth: Any) -> None:
    """The hostile inputs of issue 21 through ``apply``: one line, and no object of the
    instance on the engine (before, the privileged sidecar was left running)."""
    for words in ISSUE_INPUTS:
        b = make_booth(run_args=list(words))
        result = b.cli("apply")
        assert result.rc == 1, (words, result.explain())
        assert len(result.stderr.strip().splitlines()) == 1, (words, result.stderr)
        assert labelled_containers(b.client, b.instance) == {}, words
        assert labelled_networks(b.client, b.instance) == [], words
