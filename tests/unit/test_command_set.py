"""The command set is declared once (``command_set.COMMANDS``): the parser, the dispatch,
the session's word list and the did-you-mean list are read from it, and ``cli`` and
``commands`` import each other in one direction only."""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

import pytest

from reconciler.cli import commands
from reconciler.cli.command_set import COMMANDS, NAMES
from reconciler.cli.main import build_parser, main
from reconciler.cli.session_words import GLOBAL_OPTIONS, is_session

PACKAGE = Path(__file__).resolve().parents[2] / "reconciler"


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


def _imports(module: str) -> set[str]:
    """``module`` as a path under the package, dotted: ``cli.main``."""
    tree = ast.parse((PACKAGE / f"{module.replace('.', '/')}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_only_the_entry_points_import_cli() -> None:
    """``cli.main`` imports ``commands`` (deferred); nothing imports ``cli.main`` back."""
    modules = [
        ".".join(p.relative_to(PACKAGE).with_suffix("").parts) for p in PACKAGE.rglob("*.py")
    ]
    importers = sorted(m for m in modules if "reconciler.cli.main" in _imports(m))
    assert importers == ["__main__"]
    assert "reconciler.cli.commands" in _imports("cli.main")


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
