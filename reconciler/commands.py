"""The commands behind the CLI: arguments → a :class:`Workspace` call → output."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from reconciler import render
from reconciler.config import CliInputs, load_daemon_mode
from reconciler.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, ConfigError
from reconciler.model import ActualState, Kind, Role
from reconciler.plan import Plan
from reconciler.progress import Progress
from reconciler.remote import as_dict, describe, reach_hints
from reconciler.session_cli import SessionArgs
from reconciler.workspace import Outcome, Target, Workspace, connector

if TYPE_CHECKING:
    from reconciler.context_hashing import ContextHashing
    from reconciler.execute import BeforeStep  # loaded only by a run that changes something


def run(
    args: argparse.Namespace,
    command: tuple[str, ...] | None,
    before_step: BeforeStep | None,
    prefetched: ContextHashing | None = None,
) -> int:
    handlers = {
        "plan": cmd_plan,
        "apply": cmd_apply,
        "destroy": cmd_destroy,
        "status": cmd_status,
        "run": cmd_run,
        "render": cmd_render,
        "exec": lambda args, workspace: _exec(workspace, command),
        "logs": cmd_logs,
        "doctor": cmd_doctor,
        "completion": cmd_completion,
    }
    cli = CliInputs(
        publish=tuple(getattr(args, "publish", ())),
        run_args=tuple(getattr(args, "run_arg", ())),
        cmds=command,
        # `--pull` is `pull = true` for this run (a plan pulls only with its own flag).
        overrides=(("pull", True),) if getattr(args, "pull", False) else (),
    )
    workspace = Workspace(
        Target(args.directory, args.config, cli),
        progress=_progress(args),
        before_step=before_step,
        connect=connector(getattr(args, "context", None)),
        prefetched=prefetched,
    )
    try:
        return handlers[args.command](args, workspace)
    finally:
        workspace.close()


def _printer(as_json: bool, workspace: Workspace | None = None) -> render.PlanPrinter:
    """Plan text (after a line naming the engine, when one was asked) or JSON."""

    def print_plan(plan: Plan, _actual: ActualState) -> None:
        if as_json:
            sys.stdout.write(render.plan_json(plan))
        else:
            if workspace is not None and workspace.connected is not None:
                sys.stdout.write(describe(workspace.connected.identity()) + "\n\n")
            sys.stdout.write(render.plan_text(plan))
        sys.stdout.flush()

    return print_plan


def cmd_plan(args: argparse.Namespace, workspace: Workspace) -> int:
    plan = workspace.plan(offline=args.offline, pull=args.pull)
    # --offline connects to nothing: its output stays byte for byte what it was.
    _printer(args.json, workspace)(plan, ActualState())
    return EXIT_CHANGES if args.detailed_exitcode and plan.has_changes else EXIT_OK


def cmd_apply(args: argparse.Namespace, workspace: Workspace) -> int:
    outcome = workspace.apply(dry_run=args.dry_run, on_plan=_printer(args.json, workspace))
    _report_done("Apply", outcome, args.json)
    return EXIT_OK


def cmd_destroy(args: argparse.Namespace, workspace: Workspace) -> int:
    show = _printer(args.json, workspace)

    def on_plan(plan: Plan, actual: ActualState) -> None:
        show(plan, actual)
        if not args.volumes:
            _mention_kept_volumes(actual, args.json)

    outcome = workspace.destroy(volumes=args.volumes, dry_run=args.dry_run, on_plan=on_plan)
    _report_done("Destroy", outcome, args.json)
    return EXIT_OK


def _mention_kept_volumes(actual: ActualState, as_json: bool) -> None:
    """Say that the inner daemon's data stays, so nobody is surprised by it later."""
    for observed in actual:
        if observed.owned and observed.kind == Kind.VOLUME:
            print(
                f"Keeping data volume {observed.name}; `booth destroy --volumes` removes it.",
                file=sys.stderr if as_json else sys.stdout,
            )


def _report_done(what: str, outcome: Outcome, as_json: bool) -> None:
    if not outcome.results:
        return
    counts = outcome.plan.summary()
    message = (
        f"{what} complete in {outcome.seconds:.1f}s: {counts['create']} created, "
        f"{counts['replace']} replaced, {counts['start']} started, {counts['remove']} removed."
    )
    # With --json, stdout carries only the JSON document.
    print(message, file=sys.stderr if as_json else sys.stdout)


def cmd_status(args: argparse.Namespace, workspace: Workspace) -> int:
    from reconciler.status import status_rows

    config, desired, actual = workspace.observed()
    rows = status_rows(desired, actual)
    info = workspace.engine().identity()
    hints = reach_hints(info, [p for row in rows for p in row.ports])
    if args.json:
        sys.stdout.write(render.status_json(config.instance, rows, as_dict(info), hints))
    else:
        sys.stdout.write(render.status_text(config.instance, rows))
        sys.stdout.write("\n" + "\n".join([describe(info), *hints]) + "\n")
    return EXIT_OK


def cmd_run(args: argparse.Namespace, workspace: Workspace) -> int:
    """With a terminal on stdin, a ``docker run -it`` session (see ``session.py``)."""
    return workspace.run(interactive=os.isatty(0))


def cmd_render(args: argparse.Namespace, workspace: Workspace) -> int:
    from reconciler.desired import build_cluster_desired
    from reconciler.kubernetes import render_kubernetes

    config, _ = workspace.load(offline=True)  # a rendering asks no engine
    desired = build_cluster_desired(config)
    sys.stdout.write(
        render_kubernetes(
            desired,
            ports=config.ports,
            namespace=args.namespace,
            ready_timeout=config.ready_timeout,
            code_volume=args.code_volume,
            pull=config.pull,
        )
    )
    return EXIT_OK


def _exec(workspace: Workspace, command: tuple[str, ...] | None) -> int:
    from reconciler.booth_exec import exec_in_booth

    return exec_in_booth(workspace, command)


def cmd_logs(args: argparse.Namespace, workspace: Workspace) -> int:
    from reconciler.booth_exec import show_logs

    return show_logs(workspace, Role(args.container), follow=args.follow, tail=args.tail)


def cmd_doctor(args: argparse.Namespace, workspace: Workspace) -> int:
    from reconciler import doctor

    config, desired = workspace.load()
    checks = doctor.run_checks(workspace.engine, config, desired)
    sys.stdout.write(doctor.render_json(checks) if args.json else doctor.render_text(checks))
    return EXIT_OK if doctor.passed(checks) else EXIT_ERROR


def cmd_completion(args: argparse.Namespace, _workspace: Workspace) -> int:
    from reconciler.cli import build_parser
    from reconciler.completion import script

    sys.stdout.write(script(build_parser(), args.shell))
    return EXIT_OK


def run_codingbooth(session: SessionArgs, before_step: BeforeStep | None) -> int:
    """``booth`` with no command, as CodingBooth: a session (``run``), ``apply`` when the
    booth is a daemon, ``plan`` with ``--dryrun``."""
    from reconciler import logs
    from reconciler.progress import choose

    if session.verbose and session.quiet:
        raise ConfigError("command line: -v/--verbose and -q/--quiet exclude each other")
    logs.configure(session.log_format, -1 if session.quiet else int(session.verbose))
    cli = CliInputs(
        run_args=session.run_args,
        cmds=session.cmds,
        overrides=session.overrides,
        build_args=session.build_args,
    )
    workspace = Workspace(
        Target(session.code_dir, session.config_file, cli),
        progress=choose(session.log_format, session.quiet),
        before_step=before_step,
        connect=connector(session.context),
    )
    try:
        if session.dryrun:
            _printer(False, workspace)(workspace.plan(pull=session.pull), ActualState())
            return EXIT_OK
        if load_daemon_mode(session.code_dir, session.config_file, cli):
            outcome = workspace.apply(on_plan=_printer(False, workspace))
            _report_done("Apply", outcome, False)
            return EXIT_OK
        return workspace.run(interactive=os.isatty(0))
    finally:
        workspace.close()


def _progress(args: argparse.Namespace) -> Progress:
    from reconciler.progress import choose

    return choose(args.log_format, args.quiet)
