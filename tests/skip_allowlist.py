"""CI's skip allow-list: a pytest plugin that fails the run on any skip it was not told of.

Registered by tests/conftest.py when pytest gets ``--skip-allowlist FILE``. It reads
pytest's own reports (setup, call and collection), so every way of skipping counts:
``skipif`` marks, ``pytest.skip`` in a test or a fixture, ``importorskip``, module-level
skips, and xfail. A test deselected by anything but pytest's own options (``-k``, ``-m``,
``--deselect``, ``--lf``: the command line says what it leaves out) counts as a skip too:
a conftest or plugin that drops a test from the run, reported through
``pytest_deselected`` or silently, would otherwise bypass the list. An entry for a test
that was collected, ran and did not skip is an error too. The file's format is described
in tests/expected-skips.txt.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Generator
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
        self.chosen_out: set[str] = set()  # deselected by pytest's own options
        self.deselected_by: dict[str, str] = {}  # node id -> the module that deselected it

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
    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        caller = _caller_module()
        for item in items:
            if caller.startswith("_pytest."):
                self.chosen_out.add(item.nodeid)
            else:
                self.deselected_by.setdefault(item.nodeid, caller)

    @pytest.hookimpl(wrapper=True)
    def pytest_collection_modifyitems(
        self, items: list[pytest.Item]
    ) -> Generator[None, None, None]:
        """Every test that leaves the run here, unless pytest's options chose it, is
        recorded as skipped (also one removed without ``pytest_deselected``)."""
        before = [item.nodeid for item in items]
        yield
        after = {item.nodeid for item in items}
        for nodeid in before:
            if nodeid in after or nodeid in self.chosen_out:
                continue
            by = self.deselected_by.get(nodeid)
            why = f"deselected by {by}" if by else "removed from the run without a report"
            self.skipped.setdefault(nodeid, why)

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


def _caller_module() -> str:
    """The module that called ``config.hook.pytest_deselected``: the first frame above
    this hook implementation that is not pluggy's hook machinery."""
    frame = inspect.currentframe()
    here = __name__
    while frame is not None:
        module = str(frame.f_globals.get("__name__", "?"))
        if module != here and not module.startswith("pluggy"):
            return module
        frame = frame.f_back
    return "?"
