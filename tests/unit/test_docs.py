"""The README's reference sections are checked against the code, so they cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.cli.main import build_parser, main
from reconciler.config.booth_config import IGNORED_KEYS, KNOWN_KEYS

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def test_every_config_key_is_in_the_readme_table() -> None:
    table_keys = re.findall(
        r"^\| `([a-z-]+)` \|", _section("Configuration (`.booth/config.toml`)"), re.M
    )
    assert sorted(table_keys) == sorted(KNOWN_KEYS)


def test_ignored_codingbooth_keys_are_listed() -> None:
    section = _section("Configuration (`.booth/config.toml`)")
    missing = [key for key in IGNORED_KEYS if f"`{key}`" not in section]
    assert missing == []


def test_every_command_line_option_is_in_the_readme_synopsis() -> None:
    synopsis = _section("Commands")
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name, sub in subparsers.choices.items():  # type: ignore[attr-defined]
        line = next((ln for ln in synopsis.splitlines() if ln.startswith(f"booth {name}")), None)
        assert line is not None, f"booth {name} missing from the README synopsis"
        for action in sub._actions:
            longs = [o for o in action.option_strings if o.startswith("--")]
            if not longs or longs[0] in (
                "--help",
                "--config",
                "--context",
                "--log-format",
                "--verbose",
                "--quiet",
            ):
                continue
            assert any(o in line for o in action.option_strings), (name, longs[0])


def test_quick_start_plan_is_what_booth_prints(capsys: pytest.CaptureFixture[str]) -> None:
    command = "$ booth -C examples/dind-example plan --offline\n"
    shown = README.split(command, 1)[1].split("```", 1)[0]
    example = str(Path(__file__).resolve().parents[2] / "examples" / "dind-example")
    assert main(["-C", example, "plan", "--offline"]) == 0
    assert capsys.readouterr().out == shown


ROOT = Path(__file__).resolve().parents[2]


def test_the_first_60_lines_take_a_newcomer_to_a_running_booth() -> None:
    """Install, the quick start's plan and `apply` come first; contributor material
    (CI, coverage, mutation testing, skip lists) not before the reference sections."""
    first = "\n".join(README.splitlines()[:60])
    for step in ("pip install -e .", "plan --offline", "examples/dind-example apply", "status"):
        assert step in first, step
    before_reference = README.split("\n## Commands\n", 1)[0]
    for contributor in ("coverage", "mutmut", "mutation", "skip-allowlist", "PYTHONHASHSEED"):
        assert contributor not in before_reference.lower(), contributor
    assert "[CONTRIBUTING.md](CONTRIBUTING.md)" in README


def test_contributor_material_and_benchmark_figures_have_a_home() -> None:
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for heading in ("## What CI checks", "## Coverage", "## Spec table, config fuzz, mutation"):
        assert heading in contributing
    benchmarks = (ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    assert "| `apply_vs_cli`" in benchmarks and "| `plan_build_vs_filed`" in benchmarks
    assert "(docs/benchmarks.md)" in _section("Benchmarks")


def test_the_example_readme_shows_what_booth_plan_prints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Online, a plan starts with the engine it reached; the rest is the offline plan."""
    example = ROOT / "examples" / "dind-example"
    text = (example / "README.md").read_text(encoding="utf-8")
    shown = text.split("$ booth plan\n", 1)[1].split("$ booth apply", 1)[0]
    engine_line, _, plan = shown.partition("\n\n")
    assert re.fullmatch(r"Engine: docker [^ ]+ \(API [0-9.]+\), local, unix://\S+", engine_line)
    assert main(["-C", str(example), "plan", "--offline"]) == 0
    assert capsys.readouterr().out == plan


def test_doctor_and_the_troubleshooting_section_point_at_each_other() -> None:
    from reconciler.app import doctor

    troubleshooting = _section("Troubleshooting")
    assert "unable to apply caps" in troubleshooting and "CAP_SYS_RESOURCE" in troubleshooting
    assert "### Without registry access" in README
    assert doctor.OFFLINE == "README, 'Without registry access'"
