"""CI's skip allow-list (``--skip-allowlist``, tests/conftest.py) catches every kind of skip.

Most tests run pytest in a scratch project that holds copies of tests/conftest.py and
tests/skip_allowlist.py, so what is checked is the plugin CI loads, seen from pytest's exit
status and summary.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from skip_allowlist import AllowedSkip, read_allowlist

TESTS = Path(__file__).resolve().parents[1]

SAMPLE = """\
import pytest

def test_passes():
    pass

@pytest.mark.skipif(True, reason="a mark")
def test_marked():
    pass

def test_skips_itself():
    pytest.skip("in the test")

@pytest.fixture
def unavailable():
    pytest.skip("in a fixture")

def test_fixture_skips(unavailable):
    pass

@pytest.mark.xfail(reason="known bug")
def test_xfails():
    assert False
"""
MODULE_SKIP = 'import pytest\npytest.skip("whole module", allow_module_level=True)\n'
SKIPPING = [
    "tests/test_sample.py::test_marked",
    "tests/test_sample.py::test_skips_itself",
    "tests/test_sample.py::test_fixture_skips",
    "tests/test_sample.py::test_xfails",
    "tests/test_module.py",
]


def run_pytest(
    project: Path,
    allowlist: str,
    env: dict[str, str] | None = None,
    extra: list[str] | None = None,
) -> tuple[int, str]:
    (project / "allow.txt").write_text(allowlist, encoding="utf-8")
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    argv += ["--rootdir", str(project), "--skip-allowlist", "allow.txt", *(extra or []), "tests"]
    proc = subprocess.run(
        argv,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    tests = tmp_path / "tests"
    tests.mkdir()
    for name in ("conftest.py", "skip_allowlist.py"):
        shutil.copy(TESTS / name, tests / name)
    (tests / "test_sample.py").write_text(SAMPLE, encoding="utf-8")
    (tests / "test_module.py").write_text(MODULE_SKIP, encoding="utf-8")
    return tmp_path


def test_every_kind_of_skip_not_listed_fails_the_run(project: Path) -> None:
    rc, out = run_pytest(project, "# nothing is allowed\n")
    assert rc == 1, out
    for nodeid in SKIPPING:
        assert f"skipped but not in the allow-list: {nodeid} " in out, out
    assert "(xfail: known bug)" in out and "(in a fixture)" in out


def test_listed_skips_pass(project: Path) -> None:
    rc, out = run_pytest(project, "".join(f"{nodeid} | expected\n" for nodeid in SKIPPING))
    assert rc == 0, out
    assert "skip allow-list (allow.txt): 5 skipped, all allowed" in out


def test_an_entry_for_a_test_that_ran_fails_unless_its_condition_holds(project: Path) -> None:
    listed = "".join(f"{nodeid} | expected\n" for nodeid in SKIPPING)
    stale = "tests/test_sample.py::test_passes | unless BOOTH_TEST_SWITCH=1 | skipped elsewhere\n"
    rc, out = run_pytest(project, listed + stale)
    assert rc == 1, out
    assert "allowed to skip but ran: tests/test_sample.py::test_passes (allow.txt:6)" in out
    # With the switch on, the entry does not apply: the test must run, and it did.
    rc, out = run_pytest(project, listed + stale, env={"BOOTH_TEST_SWITCH": "1"})
    assert rc == 0, out


def test_a_malformed_allowlist_is_a_usage_error_naming_the_line(project: Path) -> None:
    rc, out = run_pytest(project, "# comment\n\ntests/test_sample.py::test_marked\n")
    assert rc == pytest.ExitCode.USAGE_ERROR, out
    assert "allow.txt:3: expected '<node id> | [unless VAR=VALUE |] <reason>'" in out, out


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a|b\n", "expected '<node id> | [unless VAR=VALUE |] <reason>'"),
        ("a | when X=1 | r\n", "expected 'unless VAR=VALUE', got 'when X=1'"),
        ("a | r\na | r\n", ":2: a is listed twice"),
        ("| r\n", "both the node id and a reason are required"),
        ("a | unless X=1 |\n", "both the node id and a reason are required"),
    ],
)
def test_malformed_entries(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "allow.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(pytest.UsageError, match=re.escape(error)):
        read_allowlist(path)


def test_entries_and_conditions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "allow.txt"
    path.write_text("# c\nm.py::t[a | b] | unless SW=1 | why | really\nm.py::u | why\n")
    with pytest.raises(pytest.UsageError):  # " | " separates fields: 4 fields
        read_allowlist(path)
    path.write_text("# c\nm.py::t[a-b] | unless SW=1 | why\nm.py::u | why\n")
    first, second = read_allowlist(path)
    assert first == AllowedSkip("m.py::t[a-b]", "why", 2, ("SW", "1"))
    assert second == AllowedSkip("m.py::u", "why", 3)
    monkeypatch.setenv("SW", "1")
    assert not first.active and second.active
    monkeypatch.setenv("SW", "0")
    assert first.active


# -- deselection ------------------------------------------------------------------------

DESELECTING_CONFTEST = """\
import pytest

def pytest_collection_modifyitems(config, items):
    reported = [i for i in items if i.name == "test_reported"]
    config.hook.pytest_deselected(items=reported)
    items[:] = [i for i in items if i.name not in ("test_reported", "test_silently_dropped")]
"""
DESELECTED_SAMPLE = """\
def test_reported():
    pass

def test_silently_dropped():
    pass

def test_kept():
    pass
"""
DROPPED = ["tests/sub/test_drop.py::test_reported", "tests/sub/test_drop.py::test_silently_dropped"]


@pytest.fixture
def deselecting(project: Path) -> Path:
    (project / "tests" / "test_module.py").unlink()
    (project / "tests" / "test_sample.py").write_text("def test_passes():\n    pass\n")
    sub = project / "tests" / "sub"
    sub.mkdir()
    (sub / "conftest.py").write_text(DESELECTING_CONFTEST, encoding="utf-8")
    (sub / "test_drop.py").write_text(DESELECTED_SAMPLE, encoding="utf-8")
    return project


def test_a_test_a_conftest_deselects_counts_as_a_skip(deselecting: Path) -> None:
    rc, out = run_pytest(deselecting, "# nothing is allowed\n")
    assert rc == 1, out
    assert (
        "skipped but not in the allow-list: tests/sub/test_drop.py::test_reported"
        " (deselected by conftest)" in out
    ), out
    assert (
        "skipped but not in the allow-list: tests/sub/test_drop.py::test_silently_dropped"
        " (removed from the run without a report)" in out
    ), out
    assert "test_kept" not in out.split("skip allow-list")[-1]


def test_an_allowed_deselection_passes_and_a_stale_entry_for_it_does_not(
    deselecting: Path,
) -> None:
    rc, out = run_pytest(deselecting, "".join(f"{nodeid} | expected\n" for nodeid in DROPPED))
    assert rc == 0, out
    assert "skip allow-list (allow.txt): 2 skipped, all allowed" in out
    stale = "tests/sub/test_drop.py::test_kept | deselected elsewhere\n"
    rc, out = run_pytest(deselecting, "".join(f"{n} | expected\n" for n in DROPPED) + stale)
    assert rc == 1 and "allowed to skip but ran: tests/sub/test_drop.py::test_kept" in out, out


@pytest.mark.parametrize(
    "option",
    [["-k", "not passes"], ["-m", "not skipif"], ["--deselect", "tests/test_sample.py"]],
)
def test_what_the_command_line_deselects_is_its_choice(project: Path, option: list[str]) -> None:
    (project / "tests" / "test_module.py").unlink()
    (project / "tests" / "test_sample.py").write_text(
        "import pytest\n\ndef test_passes():\n    pass\n\n"
        '@pytest.mark.skipif(False, reason="never")\ndef test_other():\n    pass\n'
    )
    rc, out = run_pytest(project, "# nothing is allowed\n", extra=option)
    assert rc in (0, pytest.ExitCode.NO_TESTS_COLLECTED), out
    assert "deselected" in out and "skipped but not in the allow-list" not in out, out
