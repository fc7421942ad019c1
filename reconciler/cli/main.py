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
from typing import TYPE_CHECKING, NoReturn

from reconciler import __version__
from reconciler.apply.interrupts import terminate_as_interrupt
from reconciler.cli import session_words as session_cli
from reconciler.cli.argparse_private import DashDashValueParser
from reconciler.cli.command_set import BY_NAME, COMMANDS, HELP_WORD, NAMES, VERSION_WORD
from reconciler.cli.completion import DIRECTORY, FILE, script
from reconciler.cli.help_text import EPILOG
from reconciler.cli.words import (
    attach_hint,
    check_misspelled_command,
    check_utf8,
    split_command,
)
from reconciler.config.codingbooth import CODINGBOOTH_VERSION
from reconciler.errors import EXIT_ERROR, EXIT_INTERRUPTED, BoothError, ConfigError, shown
from reconciler.ui import colour, logs

if TYPE_CHECKING:
    from reconciler.apply.execute import BeforeStep
    from reconciler.config.table import ConfigSource
    from reconciler.image.hashing import ContextHashing


class _Parser(DashDashValueParser):
    """argparse exits 2 on usage errors; 2 means "changes pending" here, so raise.
    (``-p=--`` keeps its value: ``argparse_private``.)"""

    def error(self, message: str) -> NoReturn:
        # `booth: error: ` is added once, by _print_error; a subcommand names itself.
        command = self.prog.removeprefix("booth").strip()
        raise ConfigError(f"{command}: {message}" if command else message)


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
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        sub = subparsers.add_parser(
            command.name,
            help=command.summary,
            description=command.description,
            formatter_class=argparse.HelpFormatter
            if command.wrap_description
            else argparse.RawDescriptionHelpFormatter,
        )
        command.options(sub)
        _common(sub, suppress=True)
        if command.takes_command:
            _takes_command(sub)
    return parser


def version_line() -> str:
    """booth's version, and the CodingBooth release whose command line and images it
    follows (the default image version)."""
    return f"booth {__version__} (CodingBooth {CODINGBOOTH_VERSION} compatible)"


def _parse(words: list[str]) -> argparse.Namespace:
    try:
        args = build_parser().parse_args(words)
    except ConfigError as err:
        raise ConfigError(f"{err}{attach_hint(words)}") from None
    if args.verbose and args.quiet:
        raise ConfigError("-v/--verbose and -q/--quiet contradict each other: give one of them")
    return args


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
        terminate_as_interrupt()
    try:
        check_utf8(given)
        # CodingBooth's two words that are not a session (`coding-booth version`, `help`).
        word = session_cli.first_word(words)
        if word == VERSION_WORD:
            print(version_line())
            return 0
        if word == HELP_WORD:
            build_parser().print_help()
            return 0
        if session_cli.is_session(given, NAMES):
            check_misspelled_command(given, session_cli.GLOBAL_OPTIONS, NAMES)
            # Deferred: the pipeline (config, TOML, hashing, the workspace) costs
            # `booth --help`, `completion` and a usage error ~90 ms they do not need.
            from reconciler.cli import commands

            return commands.run_codingbooth(session_cli.parse(given), before_step)
        return _run_command(_parse(words), command, before_step)
    except BoothError as err:
        _print_error(str(err))
        return err.exit_code
    except KeyboardInterrupt:
        _print_error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (`booth plan --json | head`): stop quietly.
        return EXIT_ERROR


def _run_command(
    args: argparse.Namespace, command: tuple[str, ...] | None, before_step: BeforeStep | None
) -> int:
    """``booth COMMAND``: ``completion`` is the parser's own; every other command runs in
    a workspace (``commands.HANDLERS``)."""
    logs.configure(args.log_format, -1 if args.quiet else min(args.verbose, 1))
    chosen = BY_NAME[args.command]
    if command is not None and not chosen.takes_command:
        raise ConfigError(f"booth {args.command}: takes no command after --")
    if not chosen.in_workspace:
        sys.stdout.write(script(build_parser(), args.shell))
        return 0
    config, prefetched = _prefetch(args)
    from reconciler.cli import commands  # deferred: see main

    return commands.run(args, command, before_step, prefetched, config)


def _prefetch(args: argparse.Namespace) -> tuple[ConfigSource, ContextHashing | None]:
    """The command's one read of the config; for an online ``plan`` or an ``apply``, read
    now to begin hashing the build context before the modules that validate the config
    are imported (``config.prefetch``). For every command that asks the engine,
    begin an SSH engine's login (``engine_connect.prestart``)."""
    # Deferred, as engine_connect: config_table loads attrs and the TOML reader, which
    # --help and completion do not need.
    from reconciler.config.table import ConfigSource

    config = ConfigSource(args.directory, args.config)
    if getattr(args, "offline", False):
        return config, None
    chosen = BY_NAME[args.command]
    if chosen.connects:
        # Deferred, as `commands`: engine_connect reads the docker CLI's config (json,
        # hashlib, the config's modules), which --help and completion do not need.
        from reconciler.engine.connect import prestart

        prestart(getattr(args, "context", None))
    if not chosen.hashes_context:
        return config, None
    from reconciler.config.prefetch import prefetch  # deferred: as engine_connect

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
    one_line = " ".join(message.split("\n"))
    label = colour.paint("error:", colour.RED, colour.BOLD, on=colour.enabled(sys.stderr))
    print(f"booth: {label} {shown(one_line)}", file=sys.stderr)
