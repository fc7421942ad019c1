"""The command line: ``plan --offline`` text and JSON, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from booth_builders import actual_matching, without_contract
from cli_support import run_python

from reconciler.app import workspace
from reconciler.cli.main import main
from reconciler.config.desired import build_desired
from reconciler.core.model import ActualState
from reconciler.engine.seam import EngineInfo

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = str(REPO / "examples" / "dind-example")
Capsys = pytest.CaptureFixture[str]
PACKAGE = REPO / "reconciler"
# Every module but the Docker engine's (reconciler/engine/docker/): none may import the SDK.
PURE_MODULES = tuple(
    sorted(
        ".".join(p.relative_to(PACKAGE).with_suffix("").parts)
        for p in PACKAGE.rglob("*.py")
        if p.name not in ("__init__.py", "__main__.py")
        and p.parent != PACKAGE / "engine" / "docker"
    )
)
# The core, the renderers and the observer: they must not know where a graph came from.
BELOW_THE_BUILDER = (
    *sorted(
        ".".join(p.relative_to(PACKAGE).with_suffix("").parts)
        for package in ("core", "render")
        for p in (PACKAGE / package).glob("*.py")
        if p.name != "__init__.py"
    ),
    "engine.observe",
    "errors",
)


def run(capsys: Capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def plan_json(capsys: Capsys, *extra: str) -> dict[str, Any]:
    code, out, err = run(capsys, "-C", EXAMPLE, "plan", "--offline", "--json", *extra)
    assert code == 0, err
    document: dict[str, Any] = json.loads(out)
    return document


def change(document: dict[str, Any], resource: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in document["changes"] if c["resource"] == resource]
    assert len(found) == 1
    return found[0]


# --- plan --offline, text --------------------------------------------------------------


def test_offline_plan_of_the_dind_example(capsys: Capsys) -> None:
    code, out, err = run(capsys, "-C", EXAMPLE, "plan", "--offline")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "booth will perform the following actions on instance dind-example:"
    resource_lines = [line.split()[:3] for line in lines if line.startswith("  + ")]
    assert resource_lines == [
        ["+", "image", "codingbooth-local:dind-example-desktop-xfce-0.13.0"],
        ["+", "network", "dind-example-10000-net"],
        ["+", "volume", "dind-example-dind-data"],
        ["+", "sidecar", "dind-example-10000-dind"],
        ["+", "booth", "dind-example"],
    ]
    (ports_line,) = [line for line in lines if line.strip().startswith("ports:")]
    ports = ports_line.split("ports:")[1].strip().split(", ")
    assert sorted(ports) == sorted(
        ["127.0.0.1:10000:10000/tcp", "127.0.0.1:8080:8080/tcp", "127.0.0.1:3000:3000/tcp"]
    )
    # the ports belong to the sidecar: they follow its line, before the booth's
    sidecar_at = next(i for i, line in enumerate(lines) if "+ sidecar" in line)
    booth_at = next(i for i, line in enumerate(lines) if "+ booth" in line)
    assert sidecar_at < lines.index(ports_line) < booth_at
    # The example's .booth/Dockerfile: booth builds the booth's image (CodingBooth's tag).
    assert "build: .booth/Dockerfile" in out
    assert lines[-1] == "Plan: 5 to create, 0 to replace, 0 to start, 0 to remove."
    assert "Traceback" not in err


def test_relative_code_dir(capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    absolute = run(capsys, "-C", EXAMPLE, "plan", "--offline")
    monkeypatch.chdir(REPO)
    assert run(capsys, "-C", "examples/dind-example", "plan", "--offline") == absolute
    monkeypatch.chdir(EXAMPLE)
    assert run(capsys, "plan", "--offline") == absolute


def test_subcommand_accepts_common_options_after_it(capsys: Capsys) -> None:
    before = run(capsys, "-C", EXAMPLE, "plan", "--offline")
    after = run(capsys, "plan", "--offline", "-C", EXAMPLE)
    assert before == after


# --- plan --offline --json ---------------------------------------------------------------


def test_json_plan_has_the_documented_schema(capsys: Capsys) -> None:
    document = plan_json(capsys)
    assert set(document) == {"format_version", "instance", "changes", "steps", "summary"}
    assert document["format_version"] == 1
    assert document["instance"] == "dind-example"
    for item in document["changes"]:
        assert {"resource", "name", "action", "reason", "reason_code", "desired"} <= set(item)
        assert item["action"] in (
            "create",
            "replace",
            "start",
            "restart",
            "remove",
            "none",
            "external",
        )
    assert [c["resource"] for c in document["changes"]] == [
        "image",
        "network",
        "volume",
        "sidecar",
        "booth",
    ]
    for role in ("sidecar", "booth"):
        desired = change(document, role)["desired"]
        assert {"image", "privileged", "network_mode", "ports", "env"} <= set(desired)
        assert desired["ports"] == sorted(desired["ports"])
    assert [s["index"] for s in document["steps"]] == list(range(1, len(document["steps"]) + 1))
    for step in document["steps"]:
        assert set(step) == {
            "index",
            "op",
            "resource",
            "name",
            "reason",
            "reason_code",
            "depends_on",
        }
        assert all(0 < d < step["index"] for d in step["depends_on"])
    assert document["summary"] == {"create": 5, "replace": 0, "start": 0, "remove": 0}


def test_json_plan_content_of_the_dind_example(capsys: Capsys) -> None:
    document = plan_json(capsys)
    sidecar = change(document, "sidecar")
    assert sidecar == {
        "resource": "sidecar",
        "name": "dind-example-10000-dind",
        "action": "create",
        "reason": "not found",
        "reason_code": "not_found",
        "desired": sidecar["desired"],
    }
    assert sidecar["desired"]["image"] == "docker:dind"
    assert sidecar["desired"]["privileged"] is True
    assert sidecar["desired"]["network_mode"] == "dind-example-10000-net"
    assert sidecar["desired"]["ports"] == [
        "127.0.0.1:10000:10000/tcp",
        "127.0.0.1:3000:3000/tcp",
        "127.0.0.1:8080:8080/tcp",
    ]
    assert sidecar["desired"]["env"] == ["DOCKER_TLS_CERTDIR"]
    booth = change(document, "booth")["desired"]
    assert booth["image"] == "codingbooth-local:dind-example-desktop-xfce-0.13.0"
    assert booth["privileged"] is False
    assert booth["network_mode"] == "container:dind-example-10000-dind"
    assert booth["ports"] == []
    assert without_contract(booth["env"]) == [
        "DOCKER_CERT_PATH",
        "DOCKER_HOST",
        "DOCKER_TLS_VERIFY",
    ]
    assert [(s["op"], s["resource"]) for s in document["steps"]] == [
        ("build-image", "image"),  # first: a failed build leaves everything as it was
        ("create-network", "network"),
        ("create-volume", "volume"),
        ("create-container", "sidecar"),
        ("create-container", "booth"),  # before anything privileged runs
        ("start-container", "sidecar"),
        ("wait-ready", "sidecar"),
        ("start-container", "booth"),
    ]


def test_publish_adds_only_new_ports(capsys: Capsys) -> None:
    base = change(plan_json(capsys), "sidecar")["desired"]["ports"]
    more = change(plan_json(capsys, "-p", "8080:8080", "-p", "5000:5000"), "sidecar")
    assert set(more["desired"]["ports"]) - set(base) == {"127.0.0.1:5000:5000/tcp"}
    assert set(base) <= set(more["desired"]["ports"])
    assert len(more["desired"]["ports"]) == len(base) + 1


def test_publish_long_form_and_run_arg_ports_are_the_same(capsys: Capsys) -> None:
    by_publish = change(plan_json(capsys, "--publish", "5000:5000"), "sidecar")["desired"]
    by_run_arg = change(plan_json(capsys, "--run-arg=-p", "--run-arg=5000:5000"), "sidecar")[
        "desired"
    ]
    assert by_publish == by_run_arg


def test_run_arg_words_reach_the_booth(capsys: Capsys) -> None:
    booth = change(plan_json(capsys, "--run-arg=-e", "--run-arg=FOO=1"), "booth")["desired"]
    assert without_contract(booth["env"]) == [
        "DOCKER_CERT_PATH",
        "DOCKER_HOST",
        "DOCKER_TLS_VERIFY",
        "FOO",
    ]


def test_words_after_double_dash_replace_the_command(capsys: Capsys) -> None:
    assert change(plan_json(capsys), "booth")["desired"]["command"] is None
    booth = change(plan_json(capsys, "--", "bash", "-l"), "booth")["desired"]
    assert booth["command"] == ["bash", "-l"]


# --- exit codes ------------------------------------------------------------------------


def test_detailed_exitcode_is_2_with_changes(capsys: Capsys) -> None:
    code, out, _ = run(capsys, "-C", EXAMPLE, "plan", "--offline", "--detailed-exitcode")
    assert code == 2
    assert out.startswith("booth will perform")
    code, _, _ = run(capsys, "-C", EXAMPLE, "plan", "--offline", "--json", "--detailed-exitcode")
    assert code == 2


def test_plan_without_detailed_exitcode_is_0_with_changes(capsys: Capsys) -> None:
    assert run(capsys, "-C", EXAMPLE, "plan", "--offline")[0] == 0


def test_detailed_exitcode_is_0_without_changes(
    capsys: Capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stand in for the observer (whatever its arguments): report exactly the desired
    # state, as after a successful apply.
    from reconciler.config.booth_config import load_config

    after_apply = actual_matching(build_desired(load_config(EXAMPLE)))

    def observe(*args: object, **kwargs: object) -> ActualState:
        return after_apply

    class FakeEngine:
        address = "fake://"
        is_local = False

        def observe(self, *args: object) -> ActualState:
            return observe(*args)

        def instances_of(self, code_dir: str, name: str) -> list[int]:
            return [10000]  # the instance apply made

        def identity(self) -> EngineInfo:
            return EngineInfo("docker", "27.0", "1.46", "fake://", local=False, transport="tcp")

        def close(self) -> None:
            pass

    monkeypatch.setattr(workspace, "_connect", lambda context=None: FakeEngine())
    code, out, _ = run(capsys, "-C", EXAMPLE, "plan", "--detailed-exitcode")
    # Online, the plan names the engine it asked first (--offline output has no such line).
    assert (code, out) == (
        0,
        "Engine: docker 27.0 (API 1.46), remote over tcp, fake://\n\n"
        "No changes. The booth matches the configuration.\n",
    )
    code, out, _ = run(capsys, "-C", EXAMPLE, "plan", "--detailed-exitcode", "--json")
    assert code == 0
    assert json.loads(out)["steps"] == []
    assert {c["action"] for c in json.loads(out)["changes"]} == {"none"}


@pytest.fixture
def bad_config_dir(tmp_path: Path) -> Path:
    (tmp_path / ".booth").mkdir()
    return tmp_path


BAD_CONFIGS = {
    "malformed": "port = 10000\ndind = yes\n",
    "wrong-type": 'port = "x"\n',
    "bad-run-arg": 'run-args = ["--restart", "sometimes"]\n',
    "daemon-port": 'dind = true\nrun-args = ["-p", "2375:2375"]\n',
    "bad-mount": 'run-args = ["--mount", "type=volume"]\n',
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_config_is_one_error_line(capsys: Capsys, bad_config_dir: Path, name: str) -> None:
    (bad_config_dir / ".booth" / "config.toml").write_text(BAD_CONFIGS[name], encoding="utf-8")
    assert_one_error_line(capsys, "-C", str(bad_config_dir), "plan", "--offline")


@pytest.mark.parametrize(
    ("argv", "culprit"),
    [
        (("--port",), "--port requires a value"),
        (("frobnicate",), "frobnicate"),
        (("plan", "--bogus"), "--bogus"),
        (("--log-format", "xml", "plan"), "xml"),
        (("-C", "/no/such/dir", "plan", "--offline"), "/no/such/dir"),
        (("-C", EXAMPLE, "--config", "/no/such.toml", "plan", "--offline"), "/no/such.toml"),
        (("-C", EXAMPLE, "plan", "--offline", "-p", "80:80:80:80"), "80:80:80:80"),
        (("-C", EXAMPLE, "plan", "--offline", "-p", "2375:2375"), "2375"),
        (("-C", EXAMPLE, "plan", "--offline", "-p", "8080:9090"), "'8080:8080'"),
        (("-C", EXAMPLE, "plan", "--offline", "--run-arg=--cidfile=id"), "--cidfile=id"),
        (("-C", EXAMPLE, "plan", "--offline", "--run-arg=-e"), "'-e'"),
        (("-C", EXAMPLE, "status", "--", "bash"), "takes no command"),
        (("-C", EXAMPLE, "destroy", "--", "bash"), "takes no command"),
    ],
)
def test_bad_input_is_one_error_line(capsys: Capsys, argv: tuple[str, ...], culprit: str) -> None:
    err = assert_one_error_line(capsys, *argv)
    assert culprit in err


def test_what_the_user_wrote_is_checked_before_the_engine_is_asked(
    capsys: Capsys, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``port = "NEXT"`` (the default) asks the engine for a free port: a bad run-arg
    must still be the one error, also where no engine answers."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    (tmp_path / ".booth").mkdir()
    (tmp_path / ".booth" / "config.toml").write_text('run-args = ["--cidfile", "id"]\n')
    err = assert_one_error_line(capsys, "-C", str(tmp_path), "plan")
    assert "--cidfile" in err and "no-engine.sock" not in err
    (tmp_path / "plain").mkdir()  # no config: every default, NEXT included
    err = assert_one_error_line(capsys, "-C", str(tmp_path / "plain"), "frobnicate")
    assert "frobnicate" in err and "no-engine.sock" not in err


def test_port_conflict_on_the_command_line_names_both_sources(capsys: Capsys) -> None:
    err = assert_one_error_line(capsys, "-C", EXAMPLE, "plan", "--offline", "-p", "8080:9090")
    assert "config.toml run-args)" in err
    assert "'8080:9090' (command line -p)" in err


def assert_one_error_line(capsys: Capsys, *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 1, (out, err)
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith("booth: error: ")
    assert err.endswith("\n")
    assert "Traceback" not in err
    return err


def test_warnings_go_to_stderr_and_keep_stdout_clean(capsys: Capsys, bad_config_dir: Path) -> None:
    (bad_config_dir / ".booth" / "config.toml").write_text("prot = 1\n", encoding="utf-8")
    code, out, err = run(capsys, "-C", str(bad_config_dir), "plan", "--offline", "--json")
    assert code == 0
    json.loads(out)
    assert "unknown key 'prot' ignored; did you mean 'port'?" in err


# --- the pure core does not need Docker ----------------------------------------------------


def test_pure_modules_import_nothing_from_docker() -> None:
    imports = "; ".join(f"import reconciler.{module}" for module in PURE_MODULES)
    script = "\n".join(
        [
            "import sys",
            imports,
            "def docker_loaded():",
            "    return sorted(m for m in sys.modules if m == 'docker' or m.startswith('docker.'))",
            "assert not docker_loaded(), docker_loaded()",
            "from reconciler.cli.main import main",
            f"code = main(['-C', {EXAMPLE!r}, 'plan', '--offline', '--json'])",
            "assert code == 0, code",
            f"code = main(['-C', {EXAMPLE!r}, 'plan', '--offline'])",
            "assert code == 0, code",
            "assert not docker_loaded(), docker_loaded()",
            "assert 'reconciler.engine.docker.engine' not in sys.modules",
            "print('pure-ok')",
        ]
    )
    result = run_python(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("pure-ok")


@pytest.mark.parametrize("module", BELOW_THE_BUILDER)
def test_nothing_below_the_builder_imports_config(module: str) -> None:
    script = (
        f"import sys, reconciler.{module}; "
        "assert 'reconciler.config.booth_config' not in sys.modules, 'config'; "
        "assert 'reconciler.config.desired' not in sys.modules, 'desired'; "
        # the filesystem side of a build (walking a context) is the shell's, not the core's
        "assert 'reconciler.image.context' not in sys.modules, 'build_context'"
    )
    result = run_python(script)
    assert result.returncode == 0, result.stderr


def test_the_config_check_can_see_config() -> None:
    """Guards the test above: importing the builder does load the config module."""
    script = (
        "import sys, reconciler.config.desired; "
        "assert 'reconciler.config.booth_config' in sys.modules"
    )
    result = run_python(script)
    assert result.returncode == 0, result.stderr


def test_the_subprocess_check_can_see_docker() -> None:
    """Guards the test above: the same check does see ``docker`` when something imports it."""
    script = (
        "import sys, docker; "
        "assert any(m == 'docker' or m.startswith('docker.') for m in sys.modules)"
    )
    result = run_python(script)
    assert result.returncode == 0, result.stderr


def test_desired_of_the_example_builds(capsys: Capsys) -> None:
    from reconciler.config.booth_config import load_config

    desired = build_desired(load_config(EXAMPLE, host_env={}))
    assert [r.role for r in desired] == ["image", "network", "volume", "sidecar", "booth"]


# --- hostile option values -------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["plan", "--offline", "-p=--"], "invalid port spec '--'"),
        (["plan", "--offline", "--publish=--"], "invalid port spec '--'"),
        (["-C=--", "plan", "--offline"], "-C --: no such directory"),
        (["--config=--", "plan", "--offline"], "--config --: no such file"),
        (["plan", "--offline", "--run-arg=--"], "run-arg '--'"),
        (["--log-format=--", "plan"], "invalid choice: '--'"),
        (["logs", "--tail=--"], "not '--'"),
    ],
)
def test_a_double_dash_after_equals_is_the_value(
    capsys: Capsys, argv: list[str], expected: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 1
    assert err.count("\n") == 1 and expected in err, err
    assert out == ""


def test_usage_errors_are_prefixed_once(capsys: Capsys) -> None:
    code, _, err = run(capsys, "plan", "--offline", "-p")
    assert code == 1
    assert err == "booth: error: plan: argument -p/--publish: expected one argument\n"
    _, _, err = run(capsys, "plan", "--offline", "--bogus")
    assert err == "booth: error: unrecognized arguments: --bogus\n"


def test_a_run_arg_that_looks_like_an_option_suggests_equals(capsys: Capsys) -> None:
    code, _, err = run(capsys, "-C", EXAMPLE, "plan", "--offline", "--run-arg", "-e")
    assert code == 1
    assert "write --run-arg=-e" in err and err.count("\n") == 1


def test_verbose_and_quiet_together_are_an_error(capsys: Capsys) -> None:
    code, out, err = run(capsys, "-C", EXAMPLE, "-v", "-q", "plan", "--offline")
    assert code == 1
    assert err.startswith("booth: error: -v/--verbose and -q/--quiet") and out == ""


# --- the reviewer view -----------------------------------------------------------------

REVIEWED_RUN_ARGS = (
    "--run-arg=--cap-add=NET_ADMIN",
    "--run-arg=--cap-drop=ALL",
    "--run-arg=--device=/dev/fuse",
    "--run-arg=--security-opt=seccomp=unconfined",
    "--run-arg=-v=/etc:/host-etc:ro",
    "--run-arg=-v=/srv:/srv",
    "--run-arg=--mount=type=volume,dst=/cache",
    "--run-arg=--tmpfs=/scratch:size=1m",
    "--run-arg=-u=1000",
    "--run-arg=-m=1g",
    "--run-arg=--cpus=1.5",
    "--run-arg=--shm-size=64m",
    "--run-arg=-e=TOKEN=secret-value",
    "--run-arg=-l=team=infra",
)


def test_plan_json_shows_everything_a_reviewer_needs(capsys: Capsys) -> None:
    desired = change(plan_json(capsys, *REVIEWED_RUN_ARGS), "booth")["desired"]
    assert desired["cap_add"] == ["NET_ADMIN"] and desired["cap_drop"] == ["ALL"]
    assert desired["devices"] == ["/dev/fuse:/dev/fuse:rwm"]
    assert desired["security_opt"] == ["seccomp=unconfined"]
    assert {"type": "bind", "source": "/etc", "target": "/host-etc", "read_only": True} in (
        desired["mounts"]
    )
    assert {"type": "bind", "source": "/srv", "target": "/srv", "read_only": False} in (
        desired["mounts"]
    )
    assert {"type": "volume", "source": None, "target": "/cache", "read_only": False} in (
        desired["mounts"]
    )
    assert desired["tmpfs"] == {"/scratch": "size=1m"}
    assert desired["user"] == "1000"
    assert (desired["memory"], desired["cpus"], desired["shm_size"]) == (2**30, 1.5, 64 * 2**20)
    assert desired["labels"] == {"team": "infra"}
    assert "TOKEN" in desired["env"]
    assert "secret-value" not in json.dumps(desired)
    assert list(desired) == sorted(desired)


def test_text_plan_shows_the_booths_non_default_settings(capsys: Capsys) -> None:
    code, out, _ = run(capsys, "-C", EXAMPLE, "plan", "--offline", *REVIEWED_RUN_ARGS)
    assert code == 0
    booth = out[out.index("+ booth") :]
    for expected in (
        "user: 1000",
        "capabilities: +NET_ADMIN, -ALL",
        "devices: /dev/fuse:/dev/fuse:rwm",
        "security-opt: seccomp=unconfined",
        "volume (anonymous) -> /cache (writable)",
        "bind /etc -> /host-etc (read-only)",
        "bind /srv -> /srv (writable)",
        "tmpfs: /scratch:size=1m",
        "limits: memory 1073741824 B, cpus 1.5, shm 67108864 B",
        "env: TOKEN",
        "labels: team=infra",
    ):
        assert expected in booth, expected
    assert "secret-value" not in out
    assert "/home/coder/code" not in out  # booth's own code mount is not news


def test_arguments_that_are_not_utf8_are_refused(capsys: Capsys) -> None:
    # Python keeps undecodable argv bytes as lone surrogates (surrogateescape).
    undecodable = b"/srv/\xff".decode("utf-8", "surrogateescape")
    for argv in (
        ["-C", undecodable, "plan", "--offline"],
        ["-C", EXAMPLE, "plan", "--offline", "--run-arg=-v", f"--run-arg={undecodable}:/x"],
        ["-C", EXAMPLE, "plan", "--offline", "--", undecodable],
    ):
        code, out, err = run(capsys, *argv)
        assert code == 1 and out == ""
        assert "/srv/\\xff" in err and err.endswith(") is not valid UTF-8\n"), err


def test_plan_offline_cannot_pull(capsys: Capsys) -> None:
    assert_one_error_line(capsys, "-C", EXAMPLE, "plan", "--offline", "--pull")


def test_pull_pulls_every_container_image_and_the_bases_of_a_build(tmp_path: Path) -> None:
    from reconciler.app.flow import images_to_pull
    from reconciler.config.booth_config import load_config

    (tmp_path / ".booth").mkdir()
    config = tmp_path / ".booth" / "config.toml"
    config.write_text('dind = true\nimage = "team/booth:1"\ndind-image = "team/dind:2"\n')
    assert images_to_pull(build_desired(load_config(str(tmp_path)))) == [
        "team/booth:1",
        "team/dind:2",
    ]
    (tmp_path / ".booth" / "Dockerfile").write_text("FROM team/base:3\n")
    config.write_text('dind = true\ndind-image = "team/dind:2"\n')
    assert images_to_pull(build_desired(load_config(str(tmp_path)))) == [
        "team/base:3",
        "team/dind:2",
    ]
