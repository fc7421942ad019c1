"""The command set is declared once (``command_set.COMMANDS``): the parser, the dispatch,
the session's word list and the did-you-mean list are read from it, and ``cli`` and
``commands`` import each other in one direction only."""

from __future__ import annotations

import argparse

import pytest
from package_imports import MODULES, imports

from reconciler.cli import commands
from reconciler.cli.command_set import COMMANDS, NAMES
from reconciler.cli.main import build_parser, main
from reconciler.cli.session_words import GLOBAL_OPTIONS, is_session

CLI = "reconciler.cli.main"


def _subcommands(parser: argparse.ArgumentParser) -> list[str]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(actions[0].choices)


def test_the_parser_has_exactly_the_declared_commands_in_order() -> None:
    assert _subcommands(build_parser()) == list(NAMES)


def test_every_command_that_runs_in_a_workspace_has_its_handler() -> None:
    assert set(commands.HANDLERS) == {c.name for c in COMMANDS if c.in_workspace}
    assert all(commands.HANDLERS[name].__name__ == f"cmd_{name}" for name in commands.HANDLERS)


@pytest.mark.parametrize("name", NAMES)
def test_a_declared_command_is_no_session(name: str) -> None:
    assert not is_session(["-q", name], NAMES)


def test_what_the_table_says_a_command_takes(capsys: pytest.CaptureFixture[str]) -> None:
    takes = {c.name for c in COMMANDS if c.takes_command}
    assert takes == {"plan", "apply", "run", "render", "exec"}
    assert main(["status", "--", "ls"]) == 1
    assert "booth status: takes no command after --" in capsys.readouterr().err


def test_completion_runs_without_a_workspace(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", "/nonexistent-directory", "completion", "bash"]) == 0
    assert "booth" in capsys.readouterr().out


def test_only_the_entry_points_import_cli() -> None:
    """``cli.main`` imports ``commands`` (deferred); nothing imports ``cli.main`` back."""
    importers = sorted(m for m in MODULES if any(t == CLI for t, _ in imports(m)))
    assert importers == ["reconciler.__main__"]
    assert "reconciler.cli.commands" in {t for t, _ in imports(CLI)}


def test_the_session_knows_the_parsers_global_options() -> None:
    """``session_cli`` skips booth's global options before a command without building
    the parser: its table must be the parser's."""
    parser = build_parser()
    own = {"-h", "--help", "--version"}
    options = {
        spelling: 0 if action.nargs == 0 else 1
        for action in parser._actions
        for spelling in action.option_strings
        if spelling not in own
    }
    assert options == GLOBAL_OPTIONS
