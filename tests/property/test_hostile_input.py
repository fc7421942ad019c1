"""Hostile input: random config files and command lines never produce a traceback.

Every input gives either a valid plan (exit 0, or 2 with --detailed-exitcode) or exit 1
with exactly one line on stderr. Runs ``plan --offline`` in-process, so an unexpected
exception escapes ``main`` and fails the test. The last test takes each class of hostile
environment and file of issue 21 through ``apply`` against the real engine and checks
that nothing was created there.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import string
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import free_port
from engine_support import BOOTH_IMAGE, DIND_IMAGE, ready_engine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli.main import main
from reconciler.config.booth_config import IGNORED_KEYS, KNOWN_KEYS

KEYS = st.one_of(st.sampled_from(KNOWN_KEYS + IGNORED_KEYS), st.text(min_size=1, max_size=12))
SCALARS = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.sampled_from(
        [
            "8080:8080",
            "-p",
            "--publish=1:1",
            "127.0.0.1::80/udp",
            "[::1]:53:53",
            "2375:2375",
            "-P",
            "--network=host",
            "0",
            "65536",
            "desktop",
            "kde",
        ]
    ),
)
VALUES = st.one_of(SCALARS, st.lists(SCALARS, max_size=6))
FLAG_WORDS = st.sampled_from(
    [
        "-p",
        "--publish",
        "-e",
        "--env",
        "-v",
        "--mount",
        "--cpus",
        "-m",
        "--shm-size",
        "--init",
        "--privileged=maybe",
        "-it",
        "-h",
        "--dns",
        "--add-host",
        "--net",
        "-P",
        "--expose",
        "--tmpfs",
        "--device",
        "--label",
        "--entrypoint",
        "--rm",
        "--name",
        "x",
        "",
        # issue 21's inputs and the flags CodingBooth passes through
        "/tmp:/x:bogus",
        "a:b:c:d",
        "src:/",
        "src:relative",
        "a vol:/x",
        "/tmp:/x:ro:extra",
        "type=volume,src=/abs,dst=/x",
        "type=volume,dst=/x,readonly=True",
        "--cap-add",
        "BOGUS",
        "NET_RAW,MKNOD",
        "4m",
        "1000",
        "A=x\0y",
        "bad",
        "=v",
        "notanip",
        "+31450:80",
        "--ulimit",
        "nofile=2:1",
        "--sysctl",
        "kernel.hostname=x",
        "--ipc",
        "--pid",
        "container:",
        "--group-add",
        "--gpus",
        "count=x",
        "--restart",
        "on-failure:-1",
        "-d",
        "--platform",
        "--security-opt",
        "-w",
    ]
)
WORDS = st.one_of(FLAG_WORDS, st.text(alphabet=string.printable + "é☃", max_size=20))


def toml_value(value: object) -> str:
    """TOML text for a value (JSON strings are valid TOML basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value) if "e" not in repr(value) and "." in repr(value) else f"{value:.1f}"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value)


@st.composite
def config_texts(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 9)) == 0:  # now and then, raw garbage
        return draw(st.text(max_size=200))
    items = draw(st.dictionaries(KEYS, VALUES, max_size=6))
    return "\n".join(f"{json.dumps(key)} = {toml_value(value)}" for key, value in items.items())


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=config_texts(),
    publish=st.lists(
        st.one_of(st.sampled_from(["8080:8080", "1-3:1-3", "x"]), st.text(max_size=15)), max_size=3
    ),
    run_args=st.lists(WORDS, max_size=5),
    command=st.one_of(st.none(), st.lists(st.text(max_size=8), max_size=3)),
)
def test_any_input_gives_a_plan_or_one_line_error(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    text: str,
    publish: list[str],
    run_args: list[str],
    command: list[str] | None,
) -> None:
    code_dir = tmp_path_factory.mktemp("hostile")
    (code_dir / ".booth").mkdir()
    (code_dir / ".booth" / "config.toml").write_text(text, encoding="utf-8")
    argv = [
        "-C",
        str(code_dir),
        "--log-format",
        "json",
        "-q",
        "plan",
        "--offline",
        "--detailed-exitcode",
    ]
    for spec in publish:
        argv.append(f"--publish={spec}")
    for word in run_args:
        argv.append(f"--run-arg={word}")
    if command is not None:
        argv += ["--", *command]

    code = main(argv)
    out, err = capsys.readouterr()
    if code == 1:
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("booth: error: ")
        assert "Traceback" not in err
        assert out == ""
    else:
        assert code == 2, (code, err)
        assert out.startswith("booth will perform the following actions")
        assert "Plan: " in out


def test_huge_config_values_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".booth").mkdir()
    (tmp_path / ".booth" / "config.toml").write_text(
        f'port = {2**70}\nname = "{"a" * 5000}"\n', encoding="utf-8"
    )
    code = main(["-C", str(tmp_path), "plan", "--offline"])
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.splitlines()) == 1


# --- hostile shapes: `=` forms, nesting, unusable paths, non-UTF-8, huge inputs ----------------

PATH_VALUES = st.sampled_from(
    ["--", "", "-", "~nosuchuser-booth/x", "~", "a\0b", "/dev/null", "/etc/passwd", ".", "/"]
)
# Options taking a value, written with `=`; each value may be `--` (argparse stores a list).
EQUALS_OPTIONS = st.one_of(
    st.builds(lambda v: [f"-C={v}"], PATH_VALUES),
    st.builds(lambda v: [f"--config={v}"], PATH_VALUES),
    st.builds(lambda v: [f"--log-format={v}"], st.sampled_from(["--", "", "json", "xml"])),
)
PLAN_OPTIONS = st.one_of(
    st.builds(lambda v: [f"-p={v}"], st.sampled_from(["--", "", "-", "8080:8080"])),
    st.builds(lambda v: [f"--publish={v}"], st.sampled_from(["--", "1:1"])),
    st.builds(lambda v: [f"--run-arg={v}"], st.sampled_from(["--", "-", "-e", "--env-file"])),
    st.builds(
        lambda flag, path: [f"--run-arg={flag}", f"--run-arg={path}"],
        st.sampled_from(["--env-file", "-v", "--volume"]),
        PATH_VALUES.map(lambda p: p if p in ("--", "", "-") else f"{p}:/data"),
    ),
    st.builds(lambda path: [f"--run-arg=--env-file={path}"], PATH_VALUES),
    st.just(["--run-arg", "-e"]),
    st.just(["--run-arg=-v", "--run-arg=./loop:/x"]),
    st.just(["-v", "-q"]),
    st.just(["--run-arg=-e", "--run-arg=A=\udcff"]),  # undecodable argv bytes
)


@st.composite
def config_bytes(draw: st.DrawFn) -> bytes:
    shape = draw(st.sampled_from(["toml", "binary", "bom", "nested", "huge", "latin1"]))
    if shape == "binary":
        return draw(st.binary(max_size=200))
    if shape == "bom":
        return b"\xef\xbb\xbf" + draw(config_texts()).encode()
    if shape == "nested":
        depth = draw(st.integers(1, 3000))
        opener = draw(st.sampled_from(["[", "{a = ", "[{a = ", "{a = ["]))
        return f"{draw(st.sampled_from(KNOWN_KEYS))} = {opener * depth}".encode()
    if shape == "huge":
        line = draw(st.sampled_from(["# comment\n", '"-l", "k=v",\n']))
        return ("run-args = [\n" + line * (1_100_000 // len(line)) + "]\n").encode()
    if shape == "latin1":
        return draw(config_texts()).encode("latin-1", errors="replace") + b"\xe9\xff\n"
    return draw(config_texts()).encode()


LAYOUTS = ("file", "dangling", "loop", "directory", "fifo", "booth-is-file", "none")


def lay_out(code_dir: Path, layout: str, content: bytes) -> None:
    booth = code_dir / ".booth"
    if layout == "booth-is-file":
        booth.write_bytes(content)
        return
    booth.mkdir()
    config = booth / "config.toml"
    if layout == "file":
        config.write_bytes(content)
    elif layout == "dangling":
        config.symlink_to(booth / "missing.toml")
    elif layout == "loop":
        config.symlink_to(config)
    elif layout == "directory":
        config.mkdir()
    elif layout == "fifo":
        os.mkfifo(config)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=config_bytes(),
    layout=st.sampled_from(LAYOUTS),
    global_options=st.lists(EQUALS_OPTIONS, max_size=2),
    plan_options=st.lists(PLAN_OPTIONS, max_size=3),
)
def test_hostile_shapes_give_a_plan_or_one_line_error(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    layout: str,
    global_options: list[list[str]],
    plan_options: list[list[str]],
) -> None:
    code_dir = tmp_path_factory.mktemp("shapes")
    lay_out(code_dir, layout, content)
    (code_dir / "loop").symlink_to(code_dir / "loop")
    argv = ["-C", str(code_dir), "--log-format", "json"]
    argv += [word for option in global_options for word in option]
    argv += ["plan", "--offline", "--detailed-exitcode"]
    argv += [word for option in plan_options for word in option]

    code = main(argv)
    out, err = capsys.readouterr()
    if code == 1:
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith("booth: error: "), err
        assert "Traceback" not in err
        assert out == ""
    else:
        assert code == 2, (code, err)
        assert "Plan: " in out


def test_a_config_that_exists_but_cannot_be_read_is_never_a_default_plan(
    tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    for layout in ("dangling", "loop", "directory", "fifo", "booth-is-file"):
        code_dir = tmp_path_factory.mktemp("unreadable")
        lay_out(code_dir, layout, b"port = 1\n")
        assert main(["-C", str(code_dir), "plan", "--offline"]) == 1, layout
        assert capsys.readouterr().out == ""


# --- issue 21: inputs the engine refuses are refused by plan, never applied ----------------

REFUSED_IMAGES = ["zz zz", "Ubuntu", "ubuntu\0", "UBUNTU:latest", "x:", "-x", "a//b", ""]
IMAGE_NAMES = st.one_of(
    st.sampled_from(
        [*REFUSED_IMAGES, "ubuntu", "team/tool:1.0", "localhost:5000/a/b@sha256:" + "a" * 64]
    ),
    st.text(alphabet=string.ascii_letters + string.digits + ":/@._- \0", max_size=30),
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(image=IMAGE_NAMES, key=st.sampled_from(["image", "dind-image"]))
def test_an_image_name_plans_or_is_one_line_naming_the_key(
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    image: str,
    key: str,
) -> None:
    code_dir = tmp_path_factory.mktemp("image")
    (code_dir / ".booth").mkdir()
    toml = f"dind = true\n{key} = {json.dumps(image)}\n"
    (code_dir / ".booth" / "config.toml").write_text(toml, encoding="utf-8")
    code = main(["-C", str(code_dir), "-q", "plan", "--offline"])
    out, err = capsys.readouterr()
    if code == 0:
        assert image not in REFUSED_IMAGES
        assert " " not in image and "\0" not in image and image == image.strip()
        assert f"image: {image}\n" in out or key == "dind-image"
    else:
        assert (code, out) == (1, "")
        (line,) = err.splitlines()
        assert line.startswith("booth: error: ") and f"{key} must be " in line


# --- the apply path, against the real engine: exit 1, one line, nothing created ------------
#
# Each case is one class of input from issue 21 that once ended in a traceback, a hang or
# a silently ignored file. ``apply`` runs in-process against the real engine; the check
# afterwards asks the engine for anything whose name carries the case's unique name.


def _setup_bad_docker_host(host: str) -> Callable[[Path, dict[str, str]], list[str]]:
    def setup(_code: Path, env: dict[str, str]) -> list[str]:
        env["DOCKER_HOST"] = host
        return []

    return setup


def _setup_context(meta: str) -> Callable[[Path, dict[str, str]], list[str]]:
    """A docker context ``hostile`` whose meta.json holds ``meta``, made current."""

    def setup(code: Path, env: dict[str, str]) -> list[str]:
        config = code.parent / "docker-config"
        digest = hashlib.sha256(b"hostile").hexdigest()
        (config / "contexts" / "meta" / digest).mkdir(parents=True)
        (config / "contexts" / "meta" / digest / "meta.json").write_text(meta)
        env.pop("DOCKER_HOST", None)
        env.update(DOCKER_CONFIG=str(config), DOCKER_CONTEXT="hostile")
        return []

    return setup


def _setup_env(**values: str) -> Callable[[Path, dict[str, str]], list[str]]:
    def setup(code: Path, env: dict[str, str]) -> list[str]:
        env.update({k: v.replace("{tmp}", str(code.parent)) for k, v in values.items()})
        if "XDG_RUNTIME_DIR" in values and "{tmp}/file" in values["XDG_RUNTIME_DIR"]:
            (code.parent / "file").write_text("")
        return []

    return setup


def _setup_lock_path_is_a_directory(code: Path, env: dict[str, str]) -> list[str]:
    env["XDG_RUNTIME_DIR"] = str(code.parent / "run")
    with _environment(env):
        from reconciler.apply.lock import lock_path
        from reconciler.config.booth_config import instance_ref_from
        from reconciler.config.table import read_document
        from reconciler.engine.address import resolve

        ref = instance_ref_from(read_document(str(code), None), lambda *_: 0)
        lock_path(resolve().url, ref.instance).mkdir(parents=True)
    return []


def _setup_foreign_lock_directory(code: Path, env: dict[str, str]) -> list[str]:
    """``booth-locks`` made by another user (on a shared /tmp, say)."""
    locks = code.parent / "run" / "booth-locks"
    locks.mkdir(parents=True)
    os.chown(locks, 65534, 65534)  # the tests run as root on these machines
    env["XDG_RUNTIME_DIR"] = str(locks.parent)
    return []


def _setup_config_line(line: str) -> Callable[[Path, dict[str, str]], list[str]]:
    def setup(code: Path, _env: dict[str, str]) -> list[str]:
        config = code / ".booth" / "config.toml"
        text = config.read_text()
        config.write_text("\n".join(x for x in text.splitlines() if "image =" not in x))
        with config.open("a") as stream:
            stream.write(f"\n{line}\n")
        return []

    return setup


def _setup_env_file(target: str) -> Callable[[Path, dict[str, str]], list[str]]:
    def setup(code: Path, _env: dict[str, str]) -> list[str]:
        if target == "fifo":
            os.mkfifo(code / "vars.env")
            return ["--run-arg=--env-file=vars.env"]
        return [f"--run-arg=--env-file={target}"]

    return setup


def _setup_odd_file(name: str, shape: str) -> Callable[[Path, dict[str, str]], list[str]]:
    """``.env`` or ``.booth/Dockerfile`` that exists but is no regular file."""

    def setup(code: Path, env: dict[str, str]) -> list[str]:
        if name.endswith("Dockerfile"):  # read only when no image is named
            _setup_config_line("")(code, env)
        path = code / name
        if shape == "dangling":
            path.symlink_to(code / "nowhere")
        elif shape == "loop":
            path.symlink_to(path)
        elif shape == "directory":
            path.mkdir()
        else:
            os.mkfifo(path)
        return []

    return setup


APPLY_CASES: dict[str, Callable[[Path, dict[str, str]], list[str]]] = {
    "DOCKER_HOST=tcp://[::1": _setup_bad_docker_host("tcp://[::1"),
    "DOCKER_HOST=tcp://127.0.0.1:99999": _setup_bad_docker_host("tcp://127.0.0.1:99999"),
    "context host port 99999": _setup_context(
        '{"Name": "hostile", "Endpoints": {"docker": {"Host": "tcp://127.0.0.1:99999"}}}'
    ),
    "context host [::1": _setup_context(
        '{"Name": "hostile", "Endpoints": {"docker": {"Host": "tcp://[::1"}}}'
    ),
    "context meta.json broken": _setup_context('{"Name": "hostile", "Endpoints": '),
    "BOOTH_LOCK_TIMEOUT=abc": _setup_env(BOOTH_LOCK_TIMEOUT="abc"),
    "XDG_RUNTIME_DIR a file": _setup_env(XDG_RUNTIME_DIR="{tmp}/file"),
    "XDG_RUNTIME_DIR unusable": _setup_env(XDG_RUNTIME_DIR="/proc/booth-missing/run"),
    "lock path a directory": _setup_lock_path_is_a_directory,
    "booth-locks of another user": _setup_foreign_lock_directory,
    "dockerfile ~nosuchuser": _setup_config_line('dockerfile = "~nosuchuser-booth/D"'),
    "--env-file FIFO": _setup_env_file("fifo"),
    "--env-file /dev/zero": _setup_env_file("/dev/zero"),
    **{
        f"{name} {shape}": _setup_odd_file(name, shape)
        for name in (".env", ".booth/Dockerfile")
        for shape in ("dangling", "loop", "directory", "fifo")
    },
}


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _objects_named(client: Any, fragment: str) -> list[str]:
    volumes = (client.api.volumes() or {}).get("Volumes") or []
    names = [n.lstrip("/") for c in client.api.containers(all=True) for n in c["Names"]]
    names += [n["Name"] for n in client.api.networks()] + [v["Name"] for v in volumes]
    return sorted(n for n in names if fragment in n)


@pytest.mark.docker
@pytest.mark.parametrize("case", list(APPLY_CASES))
def test_hostile_input_to_apply_is_one_line_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    client = ready_engine()
    name = f"hostile-{uuid.uuid4().hex[:8]}"
    code = tmp_path / "code"
    (code / ".booth").mkdir(parents=True)
    (code / ".booth" / "config.toml").write_text(
        f'name = "{name}"\nport = {free_port()}\ndind = true\n'
        f'image = "{BOOTH_IMAGE}"\ndind-image = "{DIND_IMAGE}"\n'
    )
    env = {**os.environ, "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    extra = APPLY_CASES[case](code, env)

    with _environment(env):
        started = time.monotonic()
        code_returned = main(["-C", str(code), "apply", *extra])
        elapsed = time.monotonic() - started
    out, err = capsys.readouterr()

    assert code_returned == 1, (out, err)
    assert elapsed < 30, f"took {elapsed:.1f}s"
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("booth: error: "), err
    assert "Traceback" not in err and "\x1b" not in err
    left = _objects_named(client, name)
    _remove(client, left)  # only this test's unique name: nothing else is touched
    assert left == []


def _remove(client: Any, names: list[str]) -> None:
    for remove in (
        lambda n: client.api.remove_container(n, force=True, v=True),
        client.api.remove_network,
        client.api.remove_volume,
    ):
        for name in names:
            with contextlib.suppress(Exception):
                remove(name)


@pytest.mark.docker
def test_a_session_with_dockerfile_of_an_unknown_user_is_one_line_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``booth --dockerfile '~nosuchuser/D'`` (CodingBooth's session flag) once raised
    RuntimeError from ``Path.expanduser``."""
    client = ready_engine()
    name = f"hostile-{uuid.uuid4().hex[:8]}"
    (tmp_path / ".booth").mkdir()
    (tmp_path / ".booth" / "config.toml").write_text(f'name = "{name}"\nport = {free_port()}\n')

    returned = main(["-C", str(tmp_path), "--dockerfile", "~nosuchuser-booth/D"])

    err = capsys.readouterr().err
    assert returned == 1
    assert err.splitlines() == [
        "booth: error: command line --dockerfile: dockerfile: cannot expand "
        "'~nosuchuser-booth': no home for user 'nosuchuser-booth'"
    ]
    left = _objects_named(client, name)
    _remove(client, left)
    assert left == []
