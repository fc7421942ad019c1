"""The everyday commands without an engine: completion, render, doctor's host checks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler import doctor
from reconciler.cli import build_parser, main
from reconciler.completion import script
from reconciler.config import load_config
from reconciler.desired import build_cluster_desired
from reconciler.kubernetes import render_kubernetes

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "dind-example")
COMMANDS = ("plan", "apply", "destroy", "status", "run", "exec", "logs", "render", "doctor")


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_names_every_command_and_is_valid_shell(shell: str) -> None:
    text = script(build_parser(), shell)
    for command in (*COMMANDS, "completion"):
        assert f"        {command}) COMPREPLY" in text
    assert "--detailed-exitcode" in text and "kubernetes" in text
    bash = shutil.which("bash")
    assert bash is not None
    check = subprocess.run([bash, "-n"], input=text, text=True, capture_output=True, check=False)
    assert check.returncode == 0, check.stderr


def test_completion_completes_a_subcommand_and_an_option_value() -> None:
    text = script(build_parser(), "bash")
    probe = (
        text
        + '\nCOMP_WORDS=(booth re); COMP_CWORD=1; _booth; echo "${COMPREPLY[*]}"'
        + "\nCOMP_WORDS=(booth --log-format ''); COMP_CWORD=2; _booth; echo \"${COMPREPLY[*]}\""
    )
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["render", "auto console json"]


def test_render_kubernetes_prints_the_renderer_s_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["-C", EXAMPLE, "render", "kubernetes", "--namespace", "dev"]) == 0
    config = load_config(EXAMPLE)
    expected = render_kubernetes(
        build_cluster_desired(config), ports=config.ports, namespace="dev", ready_timeout=120.0
    )
    assert capsys.readouterr().out == expected


def test_render_refuses_a_bad_namespace_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", EXAMPLE, "render", "kubernetes", "--namespace", "Bad NS"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "namespace 'Bad NS'" in err


def _facts(capbnd: str) -> doctor.HostFacts:
    return doctor.HostFacts(status_text=lambda: f"Name:\tx\nCapBnd:\t{capbnd}\n")


def test_doctor_warns_when_cap_sys_resource_is_missing_and_says_how_to_work_around() -> None:
    full = doctor._capabilities(_facts("000001ffffffffff"))
    assert full.status == doctor.OK
    missing = doctor._capabilities(_facts(f"{0x1FFFFFFFFF & ~(1 << 24):016x}"))
    assert missing.status == doctor.WARN
    assert "CAP_SYS_RESOURCE" in missing.detail and "runc wrapper" in missing.fix
    unreadable = doctor._capabilities(doctor.HostFacts(status_text=lambda: "garbage"))
    assert unreadable.status == doctor.WARN


def test_doctor_text_shows_fixes_for_problems_only_and_fails_on_fail() -> None:
    checks = [
        doctor.Check("engine", doctor.OK, "docker 20.10", "never shown"),
        doctor.Check("ports", doctor.FAIL, "in use: 127.0.0.1:8080/tcp", "free them"),
    ]
    text = doctor.render_text(checks)
    assert "never shown" not in text and "fix: free them" in text
    assert text.splitlines()[1].startswith("FAIL  ports ")
    assert not doctor.passed(checks)
    assert doctor.passed(checks[:1])
