"""CI's skip allow-list: a pytest plugin that fails the run on any skip it was not told of.

Registered by tests/conftest.py when pytest gets ``--skip-allowlist FILE``. It reads
pytest's own reports (setup, call and collection), so every way of skipping counts:
``skipif`` marks, ``pytest.skip`` in a test or a fixture, ``importorskip``, module-level
skips, and xfail. An entry for a test that was collected, ran and did not skip is an
error too. The file's format is described in tests/expected-skips.txt.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

_SEPARATOR = re.compile(r"(?:^|\s+)\|(?:\s+|$)")  # " | ", also at either end
_CONDITION = re.compile(r"unless\s+([A-Za-z_][A-Za-z0-9_]*)=(\S*)")


@dataclass(frozen=True)
class AllowedSkip:
    nodeid: str
    reason: str
    line: int
    unless: tuple[str, str] | None = None  # (variable, value): not allowed when var == value

    @property
    def active(self) -> bool:
        return self.unless is None or os.environ.get(self.unless[0]) != self.unless[1]


def read_allowlist(path: Path) -> list[AllowedSkip]:
    """Entries of the allow-list file; a malformed line is a usage error naming it."""
    entries: list[AllowedSkip] = []
    seen: set[str] = set()
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = [field.strip() for field in _SEPARATOR.split(line)]
        where = f"{path}:{number}"
        unless = None
        if len(fields) == 3:
            condition = _CONDITION.fullmatch(fields[1])
            if condition is None:
                raise pytest.UsageError(f"{where}: expected 'unless VAR=VALUE', got {fields[1]!r}")
            unless = (condition[1], condition[2])
        elif len(fields) != 2:
            expected = "<node id> | [unless VAR=VALUE |] <reason>"
            raise pytest.UsageError(f"{where}: expected '{expected}'")
        nodeid, reason = fields[0], fields[-1]
        if not nodeid or not reason:
            raise pytest.UsageError(f"{where}: both the node id and a reason are required")
        if nodeid in seen:
            raise pytest.UsageError(f"{where}: {nodeid} is listed twice")
        seen.add(nodeid)
        entries.append(AllowedSkip(nodeid, reason, number, unless))
    return entries


class SkipAllowlist:
    """Collects skips from pytest's reports and fails the session on any not allowed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries = {e.nodeid: e for e in read_allowlist(path) if e.active}
        self.skipped: dict[str, str] = {}  # node id -> what pytest said
        self.collected: set[str] = set()
        self.problems: list[str] = []

    def record(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        if not report.skipped:
            return
        if hasattr(report, "wasxfail"):
            self.skipped[report.nodeid] = f"xfail: {report.wasxfail}"
            return
        message = str(report.longrepr)
        if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
            message = str(report.longrepr[2])
        self.skipped.setdefault(report.nodeid, message.removeprefix("Skipped: "))

    @pytest.hookimpl
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self.record(report)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.record(report)

    @pytest.hookimpl
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected = {item.nodeid for item in session.items}

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        for nodeid, why in sorted(self.skipped.items()):
            if nodeid not in self.entries:
                self.problems.append(f"skipped but not in the allow-list: {nodeid} ({why})")
        for nodeid, entry in sorted(self.entries.items()):
            if nodeid in self.collected and nodeid not in self.skipped:
                self.problems.append(
                    f"allowed to skip but ran: {nodeid} ({self.path.name}:{entry.line});"
                    " remove the entry if the skip is gone for good"
                )
        if self.problems and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        name = self.path.name
        if not self.problems:
            allowed = len(self.skipped)
            terminalreporter.write_line(f"skip allow-list ({name}): {allowed} skipped, all allowed")
            return
        terminalreporter.section(f"skip allow-list ({name})", sep="=", red=True, bold=True)
        for problem in self.problems:
            terminalreporter.write_line(problem, red=True)
