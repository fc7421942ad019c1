"""Every input of issue 21's list that used to pass ``plan`` and fail at the engine (or
run differently from what the plan said) is now refused by ``plan --offline``, in one
line naming the file or flag, the value and what is expected; ``--mount readonly=``
takes every spelling of Go's ``strconv.ParseBool``.

The values only the engine can judge (a ``--mount`` source or ``--device`` missing on
its host, ``--cpus`` above its CPU count, ``type=image`` on an old API) are refused by
``preflight.check_values`` before anything is created: ``test_engine_preflight.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli.main import main

RUN_ARGS = "config.toml run-args"
# (run-args, the error line after "booth: error: " and the config file's path)
REFUSED = {
    "-v with an unknown mode": (
        ["-v", "/tmp:/x:bogus"],
        "run-arg '-v' '/tmp:/x:bogus' ({src}): invalid mode 'bogus' (options: rw or ro, z or "
        "Z, nocopy, a propagation such as rshared, a consistency such as cached; each at "
        "most once)",
    ),
    "-v with three colons": (
        ["-v", "a:b:c:d"],
        "run-arg '-v' 'a:b:c:d' ({src}): expected [SOURCE:]TARGET[:OPTIONS], e.g. "
        "./src:/src:ro or /data; 'a:b:c:d' has too many colons",
    ),
    "-v empty": (
        ["-v", ""],
        "run-arg '-v' '' ({src}): expected [SOURCE:]TARGET[:OPTIONS], e.g. ./src:/src:ro or "
        "/data, not an empty value",
    ),
    "-v onto /": (["-v", "src:/"], "run-arg '-v' 'src:/' ({src}): a mount target cannot be /"),
    "-v onto a relative target": (
        ["-v", "src:relative"],
        "run-arg '-v' 'src:relative' ({src}): mount target 'relative' must be an absolute path",
    ),
    "-v with a space in a volume name": (
        ["-v", "a vol:/x"],
        "run-arg '-v' 'a vol:/x' ({src}): 'a vol' is neither an absolute path nor a volume "
        "name (2 or more of a-z A-Z 0-9 _ . -, starting with a letter or digit); a host "
        "directory needs an absolute path or ./",
    ),
    "-v with a mode after ro": (
        ["-v", "/tmp:/x:ro:extra"],
        "run-arg '-v' '/tmp:/x:ro:extra' ({src}): expected [SOURCE:]TARGET[:OPTIONS], e.g. "
        "./src:/src:ro or /data; '/tmp:/x:ro:extra' has too many colons",
    ),
    "two mounts on one target": (
        ["-v", "/tmp:/x", "--tmpfs", "/x/"],
        "run-arg '--tmpfs' '/x/' ({src}): /x is already a mount target of run-arg '-v' "
        "'/tmp:/x' ({src}); two mounts cannot share one target",
    ),
    "a mount on the code directory": (
        ["--mount", "type=volume,target=/home/coder/code"],
        "run-arg '--mount' 'type=volume,target=/home/coder/code' ({src}): /home/coder/code "
        "is already a mount target of booth's code directory mount; two mounts cannot share "
        "one target",
    ),
    "--mount volume named by a path": (
        ["--mount", "type=volume,src=/abs,dst=/x"],
        "run-arg '--mount' 'type=volume,src=/abs,dst=/x' ({src}): volume name '/abs' may "
        "hold only a-z A-Z 0-9 _ . - (2 or more, starting with a letter or digit); for a host "
        "directory use type=bind",
    ),
    "--cap-add BOGUS": (
        ["--cap-add", "BOGUS"],
        "run-arg '--cap-add' 'BOGUS' ({src}): 'BOGUS' is not a Linux capability (expected one "
        "name such as NET_ADMIN or CAP_SYS_PTRACE, or ALL; repeat the flag for several)",
    ),
    "--cap-add empty": (
        ["--cap-add", ""],
        "run-arg '--cap-add' '' ({src}): '' is not a Linux capability (expected one name such "
        "as NET_ADMIN or CAP_SYS_PTRACE, or ALL; repeat the flag for several)",
    ),
    "--cap-add two in one": (
        ["--cap-drop=NET_RAW,MKNOD"],
        "run-arg '--cap-drop=NET_RAW,MKNOD' ({src}): 'NET_RAW,MKNOD' is not a Linux "
        "capability (expected one name such as NET_ADMIN or CAP_SYS_PTRACE, or ALL; repeat "
        "the flag for several)",
    ),
    "-m below 6 MiB": (
        ["-m", "4m"],
        "run-arg '-m' '4m' ({src}): memory limit '4m' is below Docker's minimum of 6 MiB (6m)",
    ),
    "NUL in -e": (
        ["-e", "A=x\0y"],
        "run-arg 'A=x\\x00y' ({src}) contains a NUL byte, which no docker run value can hold",
    ),
    "NUL in -w": (
        ["-w/x\0"],
        "run-arg '-w/x\\x00' ({src}) contains a NUL byte, which no docker run value can hold",
    ),
    "NUL in --device": (
        ["--device=/dev/x\0"],
        "run-arg '--device=/dev/x\\x00' ({src}) contains a NUL byte, which no docker run value "
        "can hold",
    ),
    "NUL in --tmpfs": (
        ["--tmpfs", "/t\0"],
        "run-arg '/t\\x00' ({src}) contains a NUL byte, which no docker run value can hold",
    ),
    "--add-host without an address": (
        ["--add-host", "bad"],
        "run-arg '--add-host' 'bad' ({src}): expected NAME:IP (or NAME=IP), not 'bad'",
    ),
    "--add-host with a name for an address": (
        ["--add-host", "db:server"],
        "run-arg '--add-host' 'db:server' ({src}): 'server' in 'db:server' is not an IP "
        "address (or host-gateway)",
    ),
    "--label with an empty name": (
        ["--label", "=v"],
        "run-arg '--label' '=v' ({src}): label '=v' has an empty name (expected KEY=VALUE)",
    ),
    "--dns not an address": (
        ["--dns", "notanip"],
        "run-arg '--dns' 'notanip' ({src}): expected an IP address such as 1.1.1.1 or "
        "2606:4700::1111, not 'notanip'",
    ),
    "-w relative": (
        ["-w", "work"],
        "run-arg '-w' 'work' ({src}): the working directory 'work' must be an absolute path",
    ),
    "--security-opt unknown": (
        ["--security-opt", "bogus"],
        "run-arg '--security-opt' 'bogus' ({src}): expected no-new-privileges or KEY=VALUE "
        "with KEY one of label, apparmor, seccomp, no-new-privileges, not 'bogus'",
    ),
    "--security-opt no-new-privileges=maybe": (
        ["--security-opt=no-new-privileges=maybe"],
        "run-arg '--security-opt=no-new-privileges=maybe' ({src}): no-new-privileges takes "
        "true or false, not 'maybe'",
    ),
    "-p with a sign": (
        ["-p", "+31450:80"],
        "invalid port spec '+31450:80' ({src}): host port '+31450' is not a number",
    ),
}
IMAGES = {
    "zz zz": "expected an image reference such as ubuntu:24.04 or team/tool@sha256:… "
    "(lowercase letters, digits, separators . _ __ -, no spaces)",
    "Ubuntu:24.04": "a repository name must be lowercase",
    "ubuntu\u0000": "expected an image reference such as ubuntu:24.04 or team/tool@sha256:… "
    "(lowercase letters, digits, separators . _ __ -, no spaces)",
}


def plan(code: Path, toml: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    (code / ".booth").mkdir(exist_ok=True)
    (code / ".booth" / "config.toml").write_text(toml, encoding="utf-8")
    code_exit = main(["-C", str(code), "--log-format", "json", "-q", "plan", "--offline"])
    out, err = capsys.readouterr()
    return code_exit, out, err


def toml_list(words: list[str]) -> str:
    return "[" + ", ".join(json.dumps(word) for word in words) + "]"


@pytest.mark.parametrize("dind", [True, False])
@pytest.mark.parametrize("case", sorted(REFUSED))
def test_each_input_the_engine_refuses_is_refused_by_plan_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, dind: bool
) -> None:
    words, expected = REFUSED[case]
    toml = f"dind = {str(dind).lower()}\nrun-args = {toml_list(words)}\n"
    code, out, err = plan(tmp_path, toml, capsys)
    source = f"{tmp_path / '.booth' / RUN_ARGS}"
    assert (code, out) == (1, "")
    assert err == f"booth: error: {expected.format(src=source)}\n"


@pytest.mark.parametrize("key", ["image", "dind-image"])
@pytest.mark.parametrize("image", sorted(IMAGES))
def test_an_image_that_is_no_reference_is_refused_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], image: str, key: str
) -> None:
    code, out, err = plan(tmp_path, f"dind = true\n{key} = {json.dumps(image)}\n", capsys)
    assert (code, out) == (1, "")
    shown = json.dumps(image).replace("\\u0000", "\\u0000")
    assert err.startswith(f"booth: error: {tmp_path / '.booth' / 'config.toml'}:")
    assert f"{key} must be an image reference ({IMAGES[image]}), got " in err
    assert len(err.splitlines()) == 1, shown


@pytest.mark.parametrize("spelling", ["1", "t", "T", "TRUE", "true", "True"])
def test_mount_readonly_takes_every_true_of_go_parse_bool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    words = ["--mount", f"type=volume,src=cache,dst=/c,readonly={spelling}"]
    code = main(
        ["-C", str(tmp_path), "plan", "--offline", "--json", *(f"--run-arg={w}" for w in words)]
    )
    booth = json.loads(capsys.readouterr().out)["changes"][-1]["desired"]
    assert code == 0
    assert {"type": "volume", "source": "cache", "target": "/c", "read_only": True} in booth[
        "mounts"
    ]


@pytest.mark.parametrize("spelling", ["0", "f", "F", "FALSE", "false", "False"])
def test_mount_readonly_takes_every_false_of_go_parse_bool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    code = main(
        [
            "-C",
            str(tmp_path),
            "plan",
            "--offline",
            "--json",
            "--run-arg=--mount",
            f"--run-arg=type=volume,src=cache,dst=/c,ro={spelling}",
        ]
    )
    booth = json.loads(capsys.readouterr().out)["changes"][-1]["desired"]
    assert code == 0
    assert {"type": "volume", "source": "cache", "target": "/c", "read_only": False} in booth[
        "mounts"
    ]


def test_a_plan_no_longer_calls_a_mount_with_extra_options_writable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``-v /tmp:/x:ro:extra`` was shown as writable; ``-v /tmp:/x:ro,z`` is read-only."""
    code = main(["-C", str(tmp_path), "plan", "--offline", "--json", "--run-arg=-v/tmp:/x:ro,z"])
    booth = json.loads(capsys.readouterr().out)["changes"][-1]["desired"]
    assert code == 0
    assert {"type": "bind", "source": "/tmp", "target": "/x", "read_only": True} in booth["mounts"]
