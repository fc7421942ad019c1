"""The commands behind the CLI: arguments → a :class:`Workspace` call → output."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from reconciler.app import listing
from reconciler.app.workspace import Outcome, Target, Workspace, connector
from reconciler.apply.progress import Progress, choose
from reconciler.cli.command_set import COMMANDS
from reconciler.cli.session_words import SessionArgs
from reconciler.config.booth_config import CliInputs, run_mode_from
from reconciler.config.desired import build_cluster_desired
from reconciler.config.table import ConfigSource
from reconciler.core.model import ActualState, Kind, Role
from reconciler.core.plan import Plan, make_plan
from reconciler.core.reconcile import reconcile
from reconciler.core.status import status_rows
from reconciler.engine.remote import as_dict, describe, reach_hints
from reconciler.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, ConfigError
from reconciler.render import plans as render
from reconciler.ui import colour, logs
from reconciler.ui.logs import get_logger

log = get_logger()

if TYPE_CHECKING:
    from reconciler.app.session import Attach
    from reconciler.apply.execute import BeforeStep  # loaded only by a run that changes something
    from reconciler.image.hashing import ContextHashing


def run(
    args: argparse.Namespace,
    command: tuple[str, ...] | None,
    before_step: BeforeStep | None,
    prefetched: ContextHashing | None = None,
    config: ConfigSource | None = None,
) -> int:
    """``booth COMMAND`` (``args.command``, one of ``command_set.COMMANDS`` that runs in a
    workspace) with its parsed ``args`` and the words after ``--``."""
    args.cmds = command  # what `exec` runs; the others read it through the workspace
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
        source=config,
    )
    try:
        return HANDLERS[args.command](args, workspace)
    finally:
        workspace.close()


def _printer(
    as_json: bool, workspace: Workspace | None = None, *, docker: bool = False
) -> render.PlanPrinter:
    """Plan text (after a line naming the engine, when one was asked), JSON, or the
    docker commands that do the same."""

    def print_plan(plan: Plan, _actual: ActualState) -> None:
        if docker:
            # Deferred: docker_args and shlex, only for --format docker.
            from reconciler.render.docker import plan_docker

            sys.stdout.write(plan_docker(plan))
        elif as_json:
            sys.stdout.write(render.plan_json(plan))
        else:
            if workspace is not None and workspace.connected is not None:
                sys.stdout.write(describe(workspace.connected.identity()) + "\n\n")
            sys.stdout.write(render.plan_text(plan, coloured=colour.enabled(sys.stdout)))
        sys.stdout.flush()

    return print_plan


def _plan_printer(args: argparse.Namespace, workspace: Workspace) -> render.PlanPrinter:
    """``--format`` (``--json`` is ``--format json``); docker only where nothing runs."""
    chosen = args.format or ("json" if args.json else "text")
    if args.json and chosen != "json":
        raise ConfigError(f"{args.command}: --json and --format {chosen} contradict each other")
    if chosen == "docker" and not getattr(args, "dry_run", True):
        raise ConfigError(
            f"{args.command}: --format docker prints the commands instead of running them: "
            "add --dry-run"
        )
    args.json = chosen != "text"  # stdout carries only the document: messages go to stderr
    return _printer(chosen == "json", workspace, docker=chosen == "docker")


def cmd_plan(args: argparse.Namespace, workspace: Workspace) -> int:
    show = _plan_printer(args, workspace)
    plan = workspace.plan(offline=args.offline, pull=args.pull)
    # --offline connects to nothing: its output stays byte for byte what it was.
    show(plan, ActualState())
    return EXIT_CHANGES if args.detailed_exitcode and plan.has_changes else EXIT_OK


def cmd_apply(args: argparse.Namespace, workspace: Workspace) -> int:
    show = _plan_printer(args, workspace)
    outcome = workspace.apply(dry_run=args.dry_run, on_plan=show)
    _report_done("Apply", outcome, args.json)
    return EXIT_OK


def cmd_destroy(args: argparse.Namespace, workspace: Workspace) -> int:
    show = _plan_printer(args, workspace)

    def on_plan(plan: Plan, actual: ActualState) -> None:
        if plan.has_changes or args.json:
            show(plan, actual)
        else:  # not "matches the configuration": destroy has no configuration to match
            print(f"Nothing to destroy: the engine has no objects of instance {plan.instance}.")
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
    config, desired, actual = workspace.observed()
    rows = status_rows(desired, actual)
    info = workspace.engine().identity()
    hints = reach_hints(info, [p for row in rows for p in row.ports])
    if args.json:
        sys.stdout.write(render.status_json(config.instance, rows, as_dict(info), hints))
    else:
        sys.stdout.write(
            render.status_text(config.instance, rows, coloured=colour.enabled(sys.stdout))
        )
        sys.stdout.write("\n" + "\n".join([describe(info), *hints]) + "\n")
    return EXIT_OK


def cmd_run(args: argparse.Namespace, workspace: Workspace) -> int:
    """With a terminal on stdin, a ``docker run -it`` session (see ``app/session.py``); with
    ``-i``, ``docker run -i``; otherwise ``docker run``."""
    # Deferred: the session loads terminal (termios, tty) and piping, which only a
    # session needs.
    from reconciler.app.session import Attach

    if os.isatty(0):
        return workspace.run(attach=Attach.TTY)
    return workspace.run(attach=Attach.STDIN if args.interactive else Attach.FOLLOW)


def cmd_render(args: argparse.Namespace, workspace: Workspace) -> int:
    from reconciler.render.kubernetes.manifests import render_kubernetes  # deferred: yaml

    # A rendering asks no engine, and builds nothing (the cluster runs the image's tag).
    with workspace.loading(offline=True, background=False) as loading:
        config = loading.config
        text = render_kubernetes(
            build_cluster_desired(config),
            ports=config.ports,
            namespace=args.namespace,
            ready_timeout=config.ready_timeout,
            code_volume=args.code_volume,
            pull=config.pull,
        )
        loading.result()  # the config's warnings, once the rendering is known to work
    sys.stdout.write(text)
    if config.build is not None:  # a cluster cannot pull what only this engine has
        log.warning("render.local_image", image=config.build.tag)
    return EXIT_OK


def cmd_exec(args: argparse.Namespace, workspace: Workspace) -> int:
    from reconciler.app.booth_exec import exec_in_booth  # deferred: termios, tty, the terminal

    return exec_in_booth(workspace, args.cmds, interactive=args.interactive)


def cmd_logs(args: argparse.Namespace, workspace: Workspace) -> int:
    from reconciler.app.booth_exec import show_logs  # deferred: as in cmd_exec

    return show_logs(workspace, Role(args.container), follow=args.follow, tail=args.tail)


def cmd_doctor(args: argparse.Namespace, workspace: Workspace) -> int:
    from reconciler.app import doctor  # deferred: its probes (preflight, readiness

    config, desired = workspace.load()
    checks = doctor.run_checks(workspace.engine, config, desired)
    if args.json:
        sys.stdout.write(doctor.render_json(checks))
    else:
        sys.stdout.write(doctor.render_text(checks, coloured=colour.enabled(sys.stdout)))
    return EXIT_OK if doctor.passed(checks) else EXIT_ERROR


def cmd_list(args: argparse.Namespace, workspace: Workspace) -> int:
    """Every booth on the engine; needs no config (any directory will do)."""
    rows = listing.list_booths(workspace.engine())
    if args.json:
        sys.stdout.write(listing.render_json(rows))
    else:
        sys.stdout.write(listing.render_text(rows, coloured=colour.enabled(sys.stdout)))
    return EXIT_OK


def run_codingbooth(session: SessionArgs, before_step: BeforeStep | None) -> int:
    """``booth`` with no command, as CodingBooth: a session (``run``), ``apply`` when the
    booth is a daemon, ``plan`` with ``--dryrun``.

    As CodingBooth runs them: the command after ``--`` (or ``cmds``) in a login shell,
    stdin always passed to the booth (``-i``; a TTY too when stdin and stdout are both
    terminals), and a booth another session runs never replaced."""
    from reconciler.app.session import Attach, refuse_taking_over  # deferred: as in cmd_run

    if session.verbose and session.quiet:
        raise ConfigError("command line: -v/--verbose and -q/--quiet exclude each other")
    cli = CliInputs(
        run_args=session.run_args,
        cmds=session.cmds,
        overrides=session.overrides,
        build_args=session.build_args,
        login_shell=True,
    )
    source = ConfigSource(session.code_dir, session.config_file)
    mode = run_mode_from(source.document(), cli)
    verbose = session.verbose or (mode.verbose and not session.quiet)
    logs.configure(session.log_format, -1 if session.quiet else int(verbose))
    workspace = Workspace(
        Target(session.code_dir, session.config_file, cli),
        progress=choose(session.log_format, session.quiet),
        before_step=before_step,
        connect=connector(session.context),
        source=source,
    )
    try:
        if session.dryrun or mode.dryrun:
            # As coding-booth --dryrun: the docker commands booth would run, pulling nothing.
            both = os.isatty(0) and os.isatty(1)
            attach = None if mode.daemon else (Attach.TTY if both else Attach.STDIN)
            return _print_dryrun(workspace, attach=attach)
        if mode.daemon:

            def guard(plan: Plan, _actual: ActualState) -> None:
                refuse_taking_over(plan, attending=False)

            outcome = workspace.apply(on_plan=_printer(False, workspace), check=guard)
            _report_done("Apply", outcome, False)
            return EXIT_OK
        both_terminals = os.isatty(0) and os.isatty(1)
        return workspace.run(attach=Attach.TTY if both_terminals else Attach.STDIN)
    finally:
        workspace.close()


def _print_dryrun(workspace: Workspace, *, attach: Attach | None) -> int:
    """CodingBooth's ``--dryrun``: the plan as docker commands (a daemon booth's, ``attach``
    None, is the plan alone); a session's with the booth in the foreground and its
    clean-up after (``render/session.py``). Nothing is pulled or changed, as with
    CodingBooth."""
    # Deferred: docker_args and shlex, only for --dryrun.
    from reconciler.render.docker import plan_docker
    from reconciler.render.session import session_docker

    with workspace.loading(attach=attach) as loading:  # the session's booth
        actual = workspace.observe_loading(loading, pull=False)
        config, desired = loading.result(actual)
    plan = make_plan(desired.instance, reconcile(desired, actual))
    if attach is None:
        sys.stdout.write(plan_docker(plan))
    else:
        keep = config.keep_alive
        sys.stdout.write(session_docker(plan, attach=attach.value, keep_alive=keep))
    return EXIT_OK


def _progress(args: argparse.Namespace) -> Progress:
    return choose(args.log_format, args.quiet)


Handler = Callable[[argparse.Namespace, Workspace], int]
# ``cmd_NAME`` above for each command of the one declaration (``command_set.COMMANDS``)
# that runs in a workspace: a command without its function fails at import.
HANDLERS: Mapping[str, Handler] = {
    command.name: globals()[f"cmd_{command.name}"] for command in COMMANDS if command.in_workspace
}
