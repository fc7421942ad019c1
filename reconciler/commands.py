"""The commands behind the CLI: wire config → desired → observe → reconcile → plan → execute."""

from __future__ import annotations

import argparse
import sys

import structlog

from reconciler import render
from reconciler.config import BoothConfig, CliInputs, load_config
from reconciler.desired import DesiredGraph, build_desired
from reconciler.plan import Plan, make_plan
from reconciler.reconcile import reconcile
from reconciler.state import ActualState

EXIT_OK, EXIT_CHANGES = 0, 2

log = structlog.get_logger()


def run(args: argparse.Namespace, command: tuple[str, ...] | None) -> int:
    handler = {"plan": cmd_plan}.get(args.command)
    if handler is None:
        from reconciler import session

        return session.dispatch(args, command)
    return handler(args, command)


def load(args: argparse.Namespace, command: tuple[str, ...] | None) -> BoothConfig:
    cli = CliInputs(
        publish=tuple(getattr(args, "publish", ())),
        run_args=tuple(getattr(args, "run_arg", ())),
        cmds=command,
    )
    config = load_config(args.directory, args.config, cli)
    for warning in config.warnings:
        log.warning("config.warning", detail=warning)
    return config


def print_plan(plan: Plan, as_json: bool) -> None:
    sys.stdout.write(render.plan_json(plan) if as_json else render.plan_text(plan))
    sys.stdout.flush()


def plan_for(desired: DesiredGraph, actual: ActualState) -> Plan:
    return make_plan(desired.instance, reconcile(desired, actual))


def cmd_plan(args: argparse.Namespace, command: tuple[str, ...] | None) -> int:
    config = load(args, command)
    desired = build_desired(config)
    if args.offline:
        actual = ActualState()
    else:
        from reconciler.observe import connect, observe

        actual = observe(connect(), desired)
    plan = plan_for(desired, actual)
    print_plan(plan, args.json)
    return EXIT_CHANGES if args.detailed_exitcode and plan.has_changes else EXIT_OK
