"""booth's commands, declared once: name, help line, options and what each needs.

The parser (``cli.build_parser``), the dispatch (``commands.HANDLERS``), the words that
start a CodingBooth session instead (``session_cli.is_session``), the did-you-mean list
(``cli_words.check_misspelled_command``), shell completion (shtab reads the parser) and
the SSH login and build-context prefetches (``cli._prefetch``) all read :data:`COMMANDS`.
Light on purpose: ``booth --help`` imports it, and nothing of the pipeline.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import attrs

from reconciler.cli.completion import SHELLS
from reconciler.cli.help_text import RENDER_DESCRIPTION, RUN_DESCRIPTION

Options = Callable[[argparse.ArgumentParser], None]


def _no_options(_parser: argparse.ArgumentParser) -> None:
    """A command that takes only the global options."""


@attrs.frozen
class Command:
    """One ``booth COMMAND``."""

    name: str
    summary: str  # its line in ``booth --help``
    options: Options = _no_options
    description: str | None = None  # its ``booth COMMAND --help`` text, when longer
    wrap_description: bool = False  # argparse wraps it (else it is printed as written)
    takes_command: bool = False  # ``[-- CMD...]``: the words after ``--`` are its command
    connects: bool = False  # asks the engine: an SSH engine's login starts at once
    hashes_context: bool = False  # online: a build context's walk starts at once
    in_workspace: bool = True  # run by ``commands.HANDLERS``; False: by ``cli`` itself


PULL_HELP = (
    "pull the booth's and the sidecar's images again first (as `pull = true`); a "
    "container running an older image is replaced, a build pulls its base images"
)


def _inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p",
        "--publish",
        action="append",
        default=[],
        metavar="SPEC",
        help="publish a port, like docker run -p (repeatable)",
    )
    parser.add_argument(
        "--run-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="add a docker run argument, e.g. --run-arg=-e --run-arg=FOO=1",
    )


def _pull(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--pull", action="store_true", help=help_text)


def _plan_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    formats = ("text", "json", "docker")
    docker = "docker: the same changes as docker commands (apply/destroy: with --dry-run)"
    parser.add_argument("--format", choices=formats, help=f"text (default), json, {docker}")


def _json(what: str) -> Options:
    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help=f"print {what} as JSON")

    return options


def _plan(parser: argparse.ArgumentParser) -> None:
    _inputs(parser)
    _plan_format(parser)
    parser.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when changes are pending, 0 when none",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="plan against an empty actual state, without contacting Docker",
    )
    _pull(
        parser,
        "pull the images first and show what apply with pull = true would do (a plan "
        "pulls only with this flag)",
    )


def _apply(parser: argparse.ArgumentParser) -> None:
    _inputs(parser)
    parser.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    _plan_format(parser)
    _pull(parser, PULL_HELP)


def _destroy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    parser.add_argument("--volumes", action="store_true", help="also remove the data volume")
    _plan_format(parser)


def _run(parser: argparse.ArgumentParser) -> None:
    _inputs(parser)
    _pull(parser, PULL_HELP)
    parser.add_argument(
        "-i",
        "--interactive",
        action="store_true",
        help="keep stdin open without a terminal and pass it to the booth (docker run -i)",
    )


def _render(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("platform", choices=("kubernetes",), help="what to render for")
    parser.add_argument("--namespace", metavar="NS", help="namespace of every object")
    parser.add_argument(
        "--code-volume",
        choices=("empty-dir", "claim"),
        default="empty-dir",
        help="what holds the code directory in the Pod (default: empty-dir)",
    )
    _inputs(parser)


def _exec(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-i",
        "--interactive",
        action="store_true",
        help="pass stdin on when it is not a terminal, like docker exec -i",
    )


def _count(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of lines, not {text!r}")
    return int(text)


def _logs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "container",
        nargs="?",
        # model.Role's values, spelled out: importing the model costs --help ~30 ms.
        choices=("booth", "sidecar"),
        default="booth",
        help="whose log",
    )
    parser.add_argument("-f", "--follow", action="store_true", help="keep following the log")
    parser.add_argument("--tail", type=_count, metavar="N", help="only the last N lines")


def _completion(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shell", choices=SHELLS)


# In the order of ``booth --help``.
COMMANDS = (
    Command(
        "plan",
        "show what apply would change",
        _plan,
        takes_command=True,
        connects=True,
        hashes_context=True,
    ),
    Command(
        "apply",
        "converge the booth to the configuration",
        _apply,
        takes_command=True,
        connects=True,
        hashes_context=True,
    ),
    Command("destroy", "remove everything booth created", _destroy, connects=True),
    Command(
        "status",
        "show the booth's resources and their state",
        _json("status"),
        connects=True,
    ),
    Command(
        "run",
        "apply, attach to the booth, stop it on exit",
        _run,
        description=RUN_DESCRIPTION,
        takes_command=True,
        connects=True,
    ),
    Command(
        "render",
        "print the booth for another platform (kubernetes)",
        _render,
        description=RENDER_DESCRIPTION,
        takes_command=True,
    ),
    Command(
        "exec",
        "run a command in the running booth (default: a login shell)",
        _exec,
        description="Run CMD (default: a login shell) in the running booth, like `docker "
        "exec -it` when stdin is a terminal (raw mode, resizes follow) and like `docker exec` "
        "otherwise. The exit code is the command's.",
        wrap_description=True,
        takes_command=True,
        connects=True,
    ),
    Command("logs", "show the booth's or the sidecar's log", _logs, connects=True),
    Command(
        "doctor",
        "check this machine and engine for what a booth needs",
        _json("the checks"),
        connects=True,
    ),
    Command(
        "list",
        "list every booth on the engine (any code directory)",
        _json("the list"),
        connects=True,
    ),
    Command("completion", "print a shell completion script", _completion, in_workspace=False),
)
NAMES = tuple(command.name for command in COMMANDS)
BY_NAME = {command.name: command for command in COMMANDS}

# CodingBooth's two words that are no session and no booth command (`coding-booth
# version`, `coding-booth help`): booth's version line and its --help.
VERSION_WORD, HELP_WORD = "version", "help"


__all__ = ["BY_NAME", "COMMANDS", "HELP_WORD", "NAMES", "PULL_HELP", "VERSION_WORD", "Command"]
