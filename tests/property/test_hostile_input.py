"""Hostile input: random config files and command lines never produce a traceback.

Every input gives either a valid plan (exit 0, or 2 with --detailed-exitcode) or exit 1
with exactly one line on stderr. Runs ``plan --offline`` in-process, so an unexpected
exception escapes ``main`` and fails the test.
"""

from __future__ import annotations

import json
import os
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import main
from reconciler.config import IGNORED_KEYS, KNOWN_KEYS

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
