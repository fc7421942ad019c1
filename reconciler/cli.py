"""Argument parsing and exit codes only; the work happens in the pipeline modules.

Exit codes: 0 success (``plan --detailed-exitcode``: no changes), 1 error, 2 changes
pending with ``--detailed-exitcode``, 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from reconciler import __version__, logs
from reconciler.cli_words import (
    attach_hint,
    check_misspelled_command,
    check_utf8,
    split_command,
)
from reconciler.completion import DIRECTORY, FILE, SHELLS
from reconciler.errors import EXIT_ERROR, EXIT_INTERRUPTED, BoothError, ConfigError, shown
from reconciler.help_text import EPILOG, RENDER_DESCRIPTION, RUN_DESCRIPTION

if TYPE_CHECKING:
    from reconciler.config_table import ConfigSource
    from reconciler.context_hashing import ContextHashing
    from reconciler.execute import BeforeStep


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors; 2 means "changes pending" here, so raise."""

    def error(self, message: str) -> NoReturn:
        # `booth: error: ` is added once, by _print_error; a subcommand names itself.
        command = self.prog.removeprefix("booth").strip()
        raise ConfigError(f"{command}: {message}" if command else message)

    def _get_values(self, action: argparse.Action, arg_strings: list[str]) -> Any:
        # `-p=--`, `--config=--`: argparse (3.11, 3.12) drops the `--` as if it were the
        # end of options and stores an empty list. Written after `=`, it is the value.
        if action.option_strings and action.nargs is None and arg_strings == ["--"]:
            value = self._get_value(action, "--")
            self._check_value(action, value)
            return value
        return super()._get_values(action, arg_strings)


def _common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "-C",
        dest="directory",
        metavar="DIR",
        default=default if suppress else ".",
        help="code directory (default: current directory)",
    ).complete = DIRECTORY  # type: ignore[attr-defined]  # shtab's completion hint
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        help="config file (default: DIR/.booth/config.toml)",
    ).complete = FILE  # type: ignore[attr-defined]
    parser.add_argument(
        "--context",
        metavar="NAME",
        default=default,
        help="Docker context to use (default: DOCKER_HOST, DOCKER_CONTEXT, current context)",
    )
    parser.add_argument(
        "--log-format",
        choices=("auto", "console", "json"),
        default=default if suppress else "auto",
        help="log output format",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default if suppress else 0,
        help="more log output",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default if suppress else False,
        help="only warnings and errors",
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


PULL_HELP = (
    "pull the booth's and the sidecar's images again first (as `pull = true`); a "
    "container running an older image is replaced, a build pulls its base images"
)


def _takes_command(parser: argparse.ArgumentParser) -> None:
    """Show ``[-- CMD...]`` in the usage: the words after ``--`` are split off before
    argparse sees them (``cli.split_command``), so it cannot know about them."""
    usage = parser.format_usage().removeprefix("usage: ").rstrip("\n")
    parser.usage = f"{usage} [-- CMD...]"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="booth",
        description="Run a Docker-in-Docker developer booth as a declarative, reconciled graph.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=version_line())
    _common(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    plan = commands.add_parser("plan", help="show what apply would change")
    _inputs(plan)
    _plan_format(plan)
    plan.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 2 when changes are pending, 0 when none",
    )
    plan.add_argument(
        "--offline",
        action="store_true",
        help="plan against an empty actual state, without contacting Docker",
    )
    _pull(
        plan,
        "pull the images first and show what apply with pull = true would do (a plan "
        "pulls only with this flag)",
    )

    apply = commands.add_parser("apply", help="converge the booth to the configuration")
    _inputs(apply)
    apply.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    _plan_format(apply)
    _pull(apply, PULL_HELP)

    destroy = commands.add_parser("destroy", help="remove everything booth created")
    destroy.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    destroy.add_argument("--volumes", action="store_true", help="also remove the data volume")
    _plan_format(destroy)

    status = commands.add_parser("status", help="show the booth's resources and their state")
    status.add_argument("--json", action="store_true", help="print status as JSON")

    run = commands.add_parser(
        "run",
        help="apply, attach to the booth, stop it on exit",
        description=RUN_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _inputs(run)
    _pull(run, PULL_HELP)
    run.add_argument(
        "-i",
        "--interactive",
        action="store_true",
        help="keep stdin open without a terminal and pass it to the booth (docker run -i)",
    )

    render = commands.add_parser(
        "render",
        help="print the booth for another platform (kubernetes)",
        description=RENDER_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    render.add_argument("platform", choices=("kubernetes",), help="what to render for")
    render.add_argument("--namespace", metavar="NS", help="namespace of every object")
    render.add_argument(
        "--code-volume",
        choices=("empty-dir", "claim"),
        default="empty-dir",
        help="what holds the code directory in the Pod (default: empty-dir)",
    )
    _inputs(render)

    exec_ = commands.add_parser(
        "exec",
        help="run a command in the running booth (default: a login shell)",
        description="Run CMD (default: a login shell) in the running booth, like `docker "
        "exec -it` when stdin is a terminal (raw mode, resizes follow) and like `docker exec` "
        "otherwise. The exit code is the command's.",
    )
    exec_.add_argument(
        "-i",
        "--interactive",
        action="store_true",
        help="pass stdin on when it is not a terminal, like docker exec -i",
    )
    logs = commands.add_parser("logs", help="show the booth's or the sidecar's log")
    logs.add_argument(
        "container", nargs="?", choices=("booth", "sidecar"), default="booth", help="whose log"
    )
    logs.add_argument("-f", "--follow", action="store_true", help="keep following the log")
    logs.add_argument("--tail", type=_count, metavar="N", help="only the last N lines")
    doctor = commands.add_parser(
        "doctor", help="check this machine and engine for what a booth needs"
    )
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON")
    list_ = commands.add_parser("list", help="list every booth on the engine (any code directory)")
    list_.add_argument("--json", action="store_true", help="print the list as JSON")
    completion = commands.add_parser("completion", help="print a shell completion script")
    completion.add_argument("shell", choices=SHELLS)

    for sub in (plan, apply, destroy, status, run, render, exec_, logs, doctor, list_, completion):
        _common(sub, suppress=True)
    for sub in (plan, apply, run, render, exec_):
        _takes_command(sub)
    return parser


def version_line() -> str:
    """booth's version, and the CodingBooth release whose command line and images it
    follows (the default image version)."""
    from reconciler.codingbooth import CODINGBOOTH_VERSION

    return f"booth {__version__} (CodingBooth {CODINGBOOTH_VERSION} compatible)"


def _count(text: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of lines, not {text!r}")
    return int(text)


def _parse(words: list[str]) -> argparse.Namespace:
    try:
        args = build_parser().parse_args(words)
    except ConfigError as err:
        raise ConfigError(f"{err}{attach_hint(words)}") from None
    if args.verbose and args.quiet:
        raise ConfigError("-v/--verbose and -q/--quiet contradict each other: give one of them")
    return args


COMMANDS = (
    "plan",
    "apply",
    "destroy",
    "status",
    "run",
    "render",
    "exec",
    "logs",
    "doctor",
    "list",
    "completion",
)


# The commands that ask the engine (``render`` and ``completion`` do not).
CONNECTING = ("plan", "apply", "destroy", "status", "run", "exec", "logs", "doctor")


def main(
    argv: Sequence[str] | None = None,
    *,
    as_program: bool | None = None,
    before_step: BeforeStep | None = None,
) -> int:
    """``booth`` with ``argv`` (default: the process's); the exit code.

    ``as_program`` (default: when ``argv`` is None) makes SIGTERM behave like Ctrl-C;
    tests that call ``main()`` in-process keep their own handlers. ``before_step`` is
    called before each plan step (the crash-safety tests hold a run with it).
    """
    given = sys.argv[1:] if argv is None else argv
    words, command = split_command(given)
    logs.configure("auto", 0)
    if argv is None if as_program is None else as_program:
        from reconciler.interrupts import terminate_as_interrupt

        terminate_as_interrupt()
    try:
        check_utf8(given)
        from reconciler import session_cli

        # CodingBooth's two words that are not a session (`coding-booth version`, `help`).
        word = session_cli.first_word(words)
        if word == "version":
            print(version_line())
            return 0
        if word == "help":
            build_parser().print_help()
            return 0

        if session_cli.is_session(given, COMMANDS):
            check_misspelled_command(given, session_cli.GLOBAL_OPTIONS, COMMANDS)
            from reconciler import commands

            return commands.run_codingbooth(session_cli.parse(given), before_step)
        args = _parse(words)
        logs.configure(args.log_format, -1 if args.quiet else min(args.verbose, 1))
        if command is not None and args.command not in ("plan", "apply", "run", "render", "exec"):
            raise ConfigError(f"booth {args.command}: takes no command after --")
        config, prefetched = _prefetch(args)
        from reconciler import commands

        return commands.run(args, command, before_step, prefetched, config)
    except BoothError as err:
        _print_error(str(err))
        return err.exit_code
    except KeyboardInterrupt:
        _print_error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (`booth plan --json | head`): stop quietly.
        return EXIT_ERROR


def _prefetch(args: argparse.Namespace) -> tuple[ConfigSource, ContextHashing | None]:
    """The command's one read of the config; for an online ``plan`` or an ``apply``, read
    now to begin hashing the build context before the modules that validate the config
    are imported (``context_hashing.prefetch``). For every command that asks the engine,
    begin an SSH engine's login (``engine_connect.prestart``)."""
    if args.command in CONNECTING and not getattr(args, "offline", False):
        from reconciler.engine_connect import prestart

        prestart(getattr(args, "context", None))
    # Deferred, as the others here: config_table loads attrs and the TOML reader, which
    # --help, --version and completion do not need.
    from reconciler.config_table import ConfigSource

    config = ConfigSource(args.directory, args.config)
    if args.command not in ("plan", "apply") or getattr(args, "offline", False):
        return config, None
    from reconciler.context_hashing import prefetch

    try:
        document = config.document()
    except ConfigError:  # raised again where the command reads its config
        return config, None
    return config, prefetch(document)


def run() -> NoReturn:
    """Console entry point: ``main`` as a process, skipping interpreter teardown.

    Tearing down ~500 imported modules takes about 30 ms, a tenth of a converged
    ``booth plan``; nothing is left to clean up by then (locks are released and streams
    are flushed here), so the process leaves at once.
    """
    # Imports allocate many objects that all stay alive; collecting young generations
    # over and over while they load costs ~10 ms and frees nothing.
    gc.set_threshold(100_000, 50, 100)
    code = main()
    for stream in (sys.stdout, sys.stderr):
        # e.g. `booth plan | head -1` closed the pipe: there is nothing left to save.
        with contextlib.suppress(OSError):
            stream.flush()
    os._exit(code)


def _print_error(message: str) -> None:
    from reconciler import colour

    one_line = " ".join(message.split("\n"))
    label = colour.paint("error:", colour.RED, colour.BOLD, on=colour.enabled(sys.stderr))
    print(f"booth: {label} {shown(one_line)}", file=sys.stderr)
