"""The command line: ``plan --offline`` text and JSON, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from booth_builders import actual_matching

from reconciler.cli import main
from reconciler.desired import build_desired
from reconciler.engine import EngineInfo
from reconciler.model import ActualState

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = str(REPO / "examples" / "dind-example")
Capsys = pytest.CaptureFixture[str]
PACKAGE = REPO / "reconciler"
# Every module but the Docker engine: none of them may import the SDK.
PURE_MODULES = tuple(
    sorted(
        p.stem
        for p in PACKAGE.glob("*.py")
        if p.stem not in ("__init__", "__main__", "docker_engine")
    )
)
# The core below the builder: it must not know where a graph came from.
BELOW_THE_BUILDER = ("model", "ports", "reconcile", "plan", "render", "status", "observe", "errors")


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
    assert lines[0] == "booth will perform the following actions on instance dind-example-10000:"
    resource_lines = [line.split()[:3] for line in lines if line.startswith("  + ")]
    assert resource_lines == [
        ["+", "network", "dind-example-10000-net"],
        ["+", "volume", "dind-example-10000-dind-data"],
        ["+", "sidecar", "dind-example-10000-dind"],
        ["+", "booth", "dind-example-10000"],
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
    assert "nawaman/codingbooth:desktop-xfce-latest" in out
    assert lines[-1] == "Plan: 4 to create, 0 to replace, 0 to start, 0 to remove."
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
    assert document["instance"] == "dind-example-10000"
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
    assert [c["resource"] for c in document["changes"]] == ["network", "volume", "sidecar", "booth"]
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
    assert document["summary"] == {"create": 4, "replace": 0, "start": 0, "remove": 0}


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
    assert booth["image"] == "nawaman/codingbooth:desktop-xfce-latest"
    assert booth["privileged"] is False
    assert booth["network_mode"] == "container:dind-example-10000-dind"
    assert booth["ports"] == []
    assert booth["env"] == ["DOCKER_HOST"]
    assert [(s["op"], s["resource"]) for s in document["steps"]] == [
        ("create-network", "network"),
        ("create-volume", "volume"),
        ("create-container", "sidecar"),
        ("start-container", "sidecar"),
        ("create-container", "booth"),
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
    assert booth["env"] == ["DOCKER_HOST", "FOO"]


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
    from reconciler.config import load_config

    after_apply = actual_matching(build_desired(load_config(EXAMPLE, host_env={})))

    def observe(*args: object, **kwargs: object) -> ActualState:
        return after_apply

    class FakeEngine:
        endpoint = "fake://"
        is_local = False

        @classmethod
        def connect(cls) -> FakeEngine:
            return cls()

        def observe(self, *args: object) -> ActualState:
            return observe(*args)

        def identity(self) -> EngineInfo:
            return EngineInfo("docker", "27.0", "1.46", "fake://", local=False, transport="tcp")

    fake = types.ModuleType("reconciler.docker_engine")
    fake.DockerEngine = FakeEngine  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "reconciler.docker_engine", fake)
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
    "unknown-key": "prot = 1\n",
    "wrong-type": 'port = "x"\n',
    "bad-run-arg": 'run-args = ["--restart", "always"]\n',
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
        ((), "required"),
        (("frobnicate",), "frobnicate"),
        (("plan", "--bogus"), "--bogus"),
        (("--log-format", "xml", "plan"), "xml"),
        (("-C", "/no/such/dir", "plan", "--offline"), "/no/such/dir"),
        (("-C", EXAMPLE, "--config", "/no/such.toml", "plan", "--offline"), "/no/such.toml"),
        (("-C", EXAMPLE, "plan", "--offline", "-p", "80:80:80:80"), "80:80:80:80"),
        (("-C", EXAMPLE, "plan", "--offline", "-p", "2375:2375"), "2375"),
        (("-C", EXAMPLE, "plan", "--offline", "-p", "8080:9090"), "'8080:8080'"),
        (("-C", EXAMPLE, "plan", "--offline", "--run-arg=--restart=always"), "--restart=always"),
        (("-C", EXAMPLE, "plan", "--offline", "--run-arg=-e"), "'-e'"),
        (("-C", EXAMPLE, "status", "--", "bash"), "takes no command"),
        (("-C", EXAMPLE, "destroy", "--", "bash"), "takes no command"),
    ],
)
def test_bad_input_is_one_error_line(capsys: Capsys, argv: tuple[str, ...], culprit: str) -> None:
    err = assert_one_error_line(capsys, *argv)
    assert culprit in err


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
    (bad_config_dir / ".booth" / "config.toml").write_text("dryrun = true\n", encoding="utf-8")
    code, out, err = run(capsys, "-C", str(bad_config_dir), "plan", "--offline", "--json")
    assert code == 0
    json.loads(out)
    assert "dryrun" in err


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
            "from reconciler.cli import main",
            f"code = main(['-C', {EXAMPLE!r}, 'plan', '--offline', '--json'])",
            "assert code == 0, code",
            f"code = main(['-C', {EXAMPLE!r}, 'plan', '--offline'])",
            "assert code == 0, code",
            "assert not docker_loaded(), docker_loaded()",
            "assert 'reconciler.docker_engine' not in sys.modules",
            "print('pure-ok')",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("pure-ok")


@pytest.mark.parametrize("module", BELOW_THE_BUILDER)
def test_nothing_below_the_builder_imports_config(module: str) -> None:
    script = (
        f"import sys, reconciler.{module}; "
        "assert 'reconciler.config' not in sys.modules, 'config'; "
        "assert 'reconciler.desired' not in sys.modules, 'desired'; "
        "assert 'tomllib' not in sys.modules, 'tomllib'"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_config_check_can_see_config() -> None:
    """Guards the test above: importing the builder does load the config module."""
    script = "import sys, reconciler.desired; assert 'reconciler.config' in sys.modules"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_subprocess_check_can_see_docker() -> None:
    """Guards the test above: the same check does see ``docker`` when something imports it."""
    script = (
        "import sys, docker; "
        "assert any(m == 'docker' or m.startswith('docker.') for m in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr


def test_desired_of_the_example_builds(capsys: Capsys) -> None:
    from reconciler.config import load_config

    desired = build_desired(load_config(EXAMPLE, host_env={}))
    assert [r.role for r in desired] == ["network", "volume", "sidecar", "booth"]
