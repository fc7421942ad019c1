"""The commands behind the CLI: wire config → desired → observe → reconcile → plan → execute."""

from __future__ import annotations

import argparse
import os
import sys

from reconciler import render
from reconciler.config import BoothConfig, CliInputs, load_config
from reconciler.desired import DesiredGraph, build_desired
from reconciler.logs import get_logger
from reconciler.plan import Plan, make_plan
from reconciler.progress import Progress
from reconciler.reconcile import reconcile
from reconciler.state import ActualState

EXIT_OK, EXIT_CHANGES = 0, 2

log = get_logger()


def run(args: argparse.Namespace, command: tuple[str, ...] | None) -> int:
    handlers = {
        "plan": cmd_plan,
        "apply": cmd_apply,
        "destroy": cmd_destroy,
        "status": cmd_status,
        "run": cmd_run,
    }
    return handlers[args.command](args, command)


def load(
    args: argparse.Namespace, command: tuple[str, ...] | None
) -> tuple[BoothConfig, DesiredGraph]:
    """Config and desired graph; warnings are logged only once both are known to be valid,
    so a bad input prints its one error line and nothing else."""
    cli = CliInputs(
        publish=tuple(getattr(args, "publish", ())),
        run_args=tuple(getattr(args, "run_arg", ())),
        cmds=command,
    )
    config = load_config(args.directory, args.config, cli)
    desired = build_desired(config)
    for warning in config.warnings:
        log.warning("config.warning", detail=warning)
    return config, desired


def print_plan(plan: Plan, as_json: bool) -> None:
    sys.stdout.write(render.plan_json(plan) if as_json else render.plan_text(plan))
    sys.stdout.flush()


def plan_for(desired: DesiredGraph, actual: ActualState) -> Plan:
    return make_plan(desired.instance, reconcile(desired, actual))


def cmd_plan(args: argparse.Namespace, command: tuple[str, ...] | None) -> int:
    config, desired = load(args, command)
    if args.offline:
        actual = ActualState()
    else:
        from reconciler.observe import connect, observe

        actual = observe(connect(), config.name, config.port)
    plan = plan_for(desired, actual)
    print_plan(plan, args.json)
    return EXIT_CHANGES if args.detailed_exitcode and plan.has_changes else EXIT_OK


def cmd_apply(args: argparse.Namespace, command: tuple[str, ...] | None) -> int:
    from reconciler.execute import Executor
    from reconciler.lock import instance_lock
    from reconciler.observe import connect, endpoint, engine_is_local, observe

    config, desired = load(args, command)
    client = connect()
    with instance_lock(endpoint(), config.instance):
        actual = observe(client, config.name, config.port)
        plan = plan_for(desired, actual)
        print_plan(plan, args.json)
        if args.dry_run or not plan.has_changes:
            return EXIT_OK
        executor = Executor(
            client, desired, config.ready_timeout, engine_is_local(), progress=_progress(args)
        )
        results = executor.run(plan, actual)
    _report_done("Apply", plan, sum(r.seconds for r in results), args.json)
    return EXIT_OK


def cmd_destroy(args: argparse.Namespace, command: tuple[str, ...] | None) -> int:
    from reconciler.execute import Executor
    from reconciler.lock import instance_lock
    from reconciler.observe import connect, endpoint, observe
    from reconciler.reconcile import destroy_changes

    config, desired = load(args, command)
    client = connect()
    with instance_lock(endpoint(), config.instance):
        actual = observe(client, config.name, config.port)
        plan = make_plan(config.instance, destroy_changes(actual, remove_volumes=args.volumes))
        print_plan(plan, args.json)
        if not args.volumes:
            _mention_kept_volumes(actual, args.json)
        if args.dry_run or not plan.has_changes:
            return EXIT_OK
        executor = Executor(client, desired, config.ready_timeout, progress=_progress(args))
        results = executor.run(plan)
    _report_done("Destroy", plan, sum(r.seconds for r in results), args.json)
    return EXIT_OK


def _mention_kept_volumes(actual: ActualState, as_json: bool) -> None:
    """Say that the inner daemon's data stays, so nobody is surprised by it later."""
    for observed in actual:
        if observed.owned and observed.kind == "volume":
            print(
                f"Keeping data volume {observed.name}; `booth destroy --volumes` removes it.",
                file=sys.stderr if as_json else sys.stdout,
            )


def _report_done(what: str, plan: Plan, seconds: float, as_json: bool) -> None:
    counts = plan.summary()
    message = (
        f"{what} complete in {seconds:.1f}s: {counts['create']} created, "
        f"{counts['replace']} replaced, {counts['start']} started, {counts['remove']} removed."
    )
    # With --json, stdout carries only the JSON document.
    print(message, file=sys.stderr if as_json else sys.stdout)


def cmd_status(args: argparse.Namespace, command: tuple[str, ...] | None) -> int:
    from reconciler.observe import connect, observe
    from reconciler.status import status_rows

    config, desired = load(args, command)
    rows = status_rows(desired, observe(connect(), config.name, config.port))
    sys.stdout.write(
        render.status_json(config.instance, rows)
        if args.json
        else render.status_text(config.instance, rows)
    )
    return EXIT_OK


def cmd_run(args: argparse.Namespace, command: tuple[str, ...] | None) -> int:
    """With a terminal on stdin, a ``docker run -it`` session: the booth is built with a
    TTY and an open stdin (so plan and spec hash say so) and the terminal is attached."""
    from reconciler.session import attached_config, run_session

    config, desired = load(args, command)
    interactive = os.isatty(0)
    if interactive:
        config = attached_config(config)
        desired = build_desired(config)
    return run_session(config, desired, _progress(args), interactive=interactive)


def _progress(args: argparse.Namespace) -> Progress:
    from reconciler.progress import choose

    return choose(args.log_format, args.quiet)
