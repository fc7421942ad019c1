"""The everyday commands without an engine: completion, render, doctor's host checks."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from reconciler.app import doctor
from reconciler.cli.completion import script
from reconciler.cli.main import build_parser, main
from reconciler.config.booth_config import load_config
from reconciler.config.desired import build_cluster_desired, build_desired
from reconciler.render.kubernetes.manifests import render_kubernetes

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "dind-example")
COMMANDS = ("plan", "apply", "destroy", "status", "run", "exec", "logs", "render", "doctor")


@pytest.mark.parametrize("shell", ["bash", "zsh", "tcsh"])
def test_completion_names_every_command_and_every_option(shell: str) -> None:
    text = script(build_parser(), shell)
    for command in (*COMMANDS, "list", "completion"):
        assert command in text
    assert "kubernetes" in text and "sidecar" in text  # positional choices
    # shtab's tcsh completes commands and positional choices only.
    options = ("--detailed-exitcode", "--interactive", "--code-volume")
    assert all(option in text for option in options) or shell == "tcsh"
    if shell == "bash":
        bash = shutil.which("bash")
        assert bash is not None
        check = subprocess.run(
            [bash, "-n"], input=text, text=True, capture_output=True, check=False
        )
        assert check.returncode == 0, check.stderr


def _complete(line: str, cwd: Path | None = None) -> list[str]:
    """What bash completes at the end of ``line`` with booth's completion loaded."""
    words = line.split(" ")
    probe = (
        script(build_parser(), "bash")
        + f"\nCOMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}"
        + f"; COMP_LINE={line!r}; COMP_POINT={len(line)}; _shtab_booth"
        + '; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    out = subprocess.run(
        ["bash", "-c", probe], capture_output=True, text=True, cwd=cwd, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_completion_completes_commands_options_choices_and_directories(tmp_path: Path) -> None:
    assert _complete("booth re") == ["render"]
    assert _complete("booth --log-format ") == ["auto", "console", "json"]
    assert _complete("booth logs ") == ["booth", "sidecar"]
    assert "--interactive" in _complete("booth exec -")
    (tmp_path / "code").mkdir()
    (tmp_path / "cfile").write_text("")
    assert _complete("booth -C c", cwd=tmp_path) == ["code"]  # directories only
    assert _complete("booth --config c", cwd=tmp_path) == ["cfile", "code"]


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


class _Images:
    """What doctor's image checks ask an engine: whether it has an image."""

    def __init__(self, present: set[str]) -> None:
        self.present = present

    def image_present(self, image: str) -> bool:
        return image in self.present


def test_doctor_names_every_missing_image_and_how_to_provide_it() -> None:
    config = load_config(EXAMPLE)  # builds its booth FROM a CodingBooth image
    assert config.build is not None
    tag = config.build.tag
    version = tag.split("-desktop-xfce-", 1)[1]  # the CodingBooth version the config names
    base_image = f"nawaman/codingbooth:desktop-xfce-{version}"
    desired = build_desired(config)
    checks = list(doctor._images(_Images({"docker:dind"}), desired))  # type: ignore[arg-type]
    by_name = {c.name: c for c in checks}
    built = by_name[f"image {tag}"]
    assert built.status == doctor.OK and "builds it" in built.detail
    assert by_name["image docker:dind"].status == doctor.OK
    base = by_name[f"image {base_image}"]
    assert base.status == doctor.WARN and "FROM" in base.detail
    assert f"docker save {base_image}" in base.fix
    assert "docker load" in base.fix

    none = list(doctor._images(_Images(set()), desired))  # type: ignore[arg-type]
    missing = [c.name for c in none if c.status == doctor.WARN]
    assert missing == [f"image {base_image}", "image docker:dind"]
    sidecar = next(c for c in none if c.name == "image docker:dind")
    assert "(dind-image)" in sidecar.detail


def test_doctor_colours_its_verdicts_only_when_asked() -> None:
    checks = [doctor.Check("a", doctor.OK, "x"), doctor.Check("b", doctor.FAIL, "y", "z")]
    assert "\033[" not in doctor.render_text(checks)
    coloured = doctor.render_text(checks, coloured=True)
    assert "\033[32mOK  \033[0m" in coloured and "\033[31mFAIL\033[0m" in coloured


def test_render_of_a_locally_built_image_says_how_to_push_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["-C", EXAMPLE, "render", "kubernetes"]) == 0
    err = capsys.readouterr().err
    build = load_config(EXAMPLE).build
    assert build is not None
    tag = build.tag
    assert err.startswith(f"booth: warning: the booth's image {tag} is built by booth")
    assert f"docker tag {tag} REGISTRY/NAME:TAG && docker push" in err and "`image`" in err
    (tmp_path / ".booth").mkdir()
    (tmp_path / ".booth" / "config.toml").write_text('image = "team/booth:1"\n')
    assert main(["-C", str(tmp_path), "render", "kubernetes"]) == 0
    assert capsys.readouterr().err == ""
