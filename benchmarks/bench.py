#!/usr/bin/env python3
"""Benchmarks: booth against the bare docker CLI and docker-compose, side by side.

Every figure is a wall-clock median of whole processes, measured in this one run on this
one engine, and reported as a ratio against its baseline, so numbers from different
machines can be compared. Nothing here asserts a time; docs/benchmarks.md records the ratios.

    python benchmarks/bench.py [--runs 5] [--json]
    python benchmarks/bench.py --remote ssh://USER@HOST[:PORT] [--runs 5] [--json]

``--remote`` measures booth against the docker CLI over the same remote engine instead
(``bench_remote.py``).

Images are parameters (no registry is reachable on CI machines):
BENCH_DIND_IMAGE (default booth-test/dind:latest), BENCH_BOOTH_IMAGE
(booth-test/booth:latest), BENCH_BUSYBOX_IMAGE (booth-test/busybox:latest).
Everything created is labelled ``booth-bench=<id>`` or owned by the bench instance and is
removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import bench_remote
from bench_booth import (
    BENCH_ID,
    BENCH_LABEL,
    BUSYBOX_IMAGE,
    FINE_POLL_SECONDS,
    FIRST_OUTPUT,
    MODES,
    POLL_SECONDS,
    Booth,
    alternate,
    first_output,
    median,
    sh,
    timed,
)
from bench_support import compile_package


def bench_apply(booths: dict[str, Booth], runs: int) -> dict[str, float]:
    booth = booths[MODES[0]]

    def booth_apply(mode: str) -> Callable[[], float]:
        def apply() -> float:
            booths[mode].remove_everything()
            return timed(booths[mode].cmd("apply"))

        return apply

    def cli_apply() -> float:
        booth.remove_everything()
        return timed(booth.cli_up_script())

    def cli_apply_fine_poll() -> float:
        booth.remove_everything()
        return timed(booth.cli_up_script(FINE_POLL_SECONDS))

    *booth_s, cli_s, fine_s = alternate(
        runs, *(booth_apply(mode) for mode in booths), cli_apply, cli_apply_fine_poll
    )
    for each in booths.values():
        each.remove_everything()
    return {
        **{f"apply_booth_{mode}_s": median(s) for mode, s in zip(booths, booth_s, strict=True)},
        "apply_cli_s": median(cli_s),
        "apply_cli_fine_poll_s": median(fine_s),
    }


def bench_run(booths: dict[str, Booth], runs: int) -> dict[str, float]:
    """`booth run -- echo …` from start to the booth's first output, against the CLI."""
    booth = booths[MODES[0]]

    def booth_run(mode: str) -> Callable[[], float]:
        def run() -> float:
            booths[mode].remove_everything()
            return first_output(booths[mode].cmd("run", "--", "echo", FIRST_OUTPUT))

        return run

    def cli_run() -> float:
        booth.remove_everything()
        return first_output(booth.cli_run_script())

    *booth_s, cli_s = alternate(runs, *(booth_run(mode) for mode in booths), cli_run)
    for each in booths.values():
        each.remove_everything()
    return {
        **{f"run_booth_{mode}_s": median(s) for mode, s in zip(booths, booth_s, strict=True)},
        "run_cli_s": median(cli_s),
    }


def bench_ready_overhead(booth: Booth, runs: int) -> float:
    """Inner daemon listening (its own log timestamp) → `booth apply` returning."""
    overheads = []
    for _ in range(runs):
        booth.remove_everything()
        subprocess.run(booth.cmd("apply"), check=True, capture_output=True)
        returned = dt.datetime.now(dt.UTC)
        logs = sh(f"docker logs -t {booth.instance}-dind 2>&1").stdout
        # dockerd serves every listener at once and logs each: take the last.
        listen = [line for line in logs.splitlines() if "API listen on" in line]
        stamp = dt.datetime.fromisoformat(
            listen[-1].split()[0].replace("Z", "+00:00")[:26] + "+00:00"
        )
        overheads.append((returned - stamp).total_seconds() * 1000)
    booth.remove_everything()
    return median(overheads)


def bench_plan_vs_compose(booth: Booth, runs: int) -> dict[str, float | None]:
    compose = shutil.which("docker-compose")
    booth.remove_everything()
    subprocess.run(booth.cmd("apply"), check=True, capture_output=True)
    plan_s = [timed(booth.cmd("plan", "--detailed-exitcode")) for _ in range(runs + 1)][1:]
    result: dict[str, float | None] = {
        "plan_noop_s": median(plan_s),
        "compose_up_noop_s": None,
        "compose_down_s": None,
    }
    booth.remove_everything()
    if compose is None:
        return result
    project = f"bench{BENCH_ID}"
    path = booth.compose_file()
    base = f"{compose} -p {project} -f {path}"
    try:
        timed(f"{base} up -d")
        up_s = [timed(f"{base} up -d") for _ in range(runs + 1)][1:]
        result["compose_up_noop_s"] = median(up_s)
        result["compose_down_s"] = timed(f"{base} down -v")
    finally:
        sh(f"{base} down -v", check=False)
    return result


def bench_destroy(booths: dict[str, Booth], runs: int) -> dict[str, float]:
    booth = booths[MODES[0]]

    def booth_destroy(mode: str) -> Callable[[], float]:
        def destroy() -> float:
            booths[mode].remove_everything()
            subprocess.run(booths[mode].cmd("apply"), check=True, capture_output=True)
            return timed(booths[mode].cmd("destroy"))

        return destroy

    def cli_destroy() -> float:
        booth.remove_everything()
        subprocess.run(booth.cmd("apply"), check=True, capture_output=True)
        return timed(booth.cli_down_script())

    *booth_s, cli_s = alternate(runs, *(booth_destroy(mode) for mode in booths), cli_destroy)
    for each in booths.values():
        each.remove_everything()
    return {
        **{f"destroy_booth_{mode}_s": median(s) for mode, s in zip(booths, booth_s, strict=True)},
        "destroy_cli_s": median(cli_s),
    }


SETTLE_SECONDS = 5.0


def bench_scale(booth: Booth, runs: int) -> dict[str, float | int]:
    booth.remove_everything()
    subprocess.run(booth.cmd("apply"), check=True, capture_output=True)
    plan = booth.cmd("plan", "--detailed-exitcode")
    empty = [timed(plan) for _ in range(runs + 1)][1:]
    requests_made = count_plan_requests(booth)
    sh(
        f"for i in $(seq 1 100); do docker run -d --label {BENCH_LABEL} {BUSYBOX_IMAGE} "
        "sleep 3600 >/dev/null; done"
    )
    try:
        # Starting 100 containers leaves the machine busy for a few seconds (load ~7 on
        # two cores): measured at once, that, not the containers, would show.
        time.sleep(SETTLE_SECONDS)
        loaded = [timed(plan) for _ in range(runs + 1)][1:]
        requests_loaded = count_plan_requests(booth)
    finally:
        ids = sh(f"docker ps -aq --filter label={BENCH_LABEL}", check=False).stdout.split()
        if ids:
            sh(f"docker rm -f {' '.join(ids)}", check=False)
    try:
        # The baseline again, after: a machine whose speed drifts over the minute the
        # two take is measured on both sides.
        time.sleep(SETTLE_SECONDS)
        empty += [timed(plan) for _ in range(runs + 1)][1:]
    finally:
        booth.remove_everything()
    return {
        "plan_s_no_unrelated": median(empty),
        "plan_s_100_unrelated": median(loaded),
        "plan_api_requests": requests_made,
        "plan_api_requests_100_unrelated": requests_loaded,
    }


def count_plan_requests(booth: Booth) -> int:
    """API requests of one converged plan, counted in a child process with a hook on
    both clients (the SDK's, and ``unix_api``'s, which serves a local socket's reads)."""
    code = textwrap.dedent(f"""\
        import docker
        from reconciler.engine.docker import engine as docker_engine
        from reconciler.engine.unix.api import UnixApi
        count = 0
        def counted(original):
            def send(self, *a, **k):
                global count
                count += 1
                return original(self, *a, **k)
            return send
        docker.APIClient.send = counted(docker.APIClient.send)
        UnixApi.send = counted(UnixApi.send)
        from reconciler.cli.main import main
        main(["-q", "-C", {str(booth.dir)!r}, "plan"])
        print("REQUESTS", count)
        """)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return int(out.rsplit("REQUESTS", 1)[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs per figure (>= 5)")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    parser.add_argument(
        "--remote", metavar="URL", help="booth vs the docker CLI over this DOCKER_HOST (ssh://...)"
    )
    args = parser.parse_args()
    runs = max(5, args.runs)
    compile_package()
    if args.remote:
        return remote_main(args.remote, runs, args.json)
    root = Path(tempfile.mkdtemp(prefix="booth-bench-"))
    booths = {mode: Booth(root, f"bench-{BENCH_ID}-{mode}", mode) for mode in MODES}
    booth = booths[MODES[0]]
    try:
        raw: dict[str, float | int | None] = {}
        raw.update(bench_apply(booths, runs))
        raw.update(bench_run(booths, runs))
        for mode, each in booths.items():
            raw[f"ready_overhead_{mode}_ms"] = bench_ready_overhead(each, runs)
        raw.update(bench_plan_vs_compose(booth, runs))
        raw.update(bench_destroy(booths, runs))
        raw.update(bench_scale(booth, runs))
    finally:
        for each in booths.values():
            each.remove_everything()
        shutil.rmtree(root, ignore_errors=True)

    def ratio(a: str, b: str) -> float | None:
        x, y = raw.get(a), raw.get(b)
        return None if not x or not y else round(float(x) / float(y), 3)

    default = MODES[0]
    per_mode: dict[str, object] = {}
    for mode in MODES:
        per_mode[f"apply_vs_cli_{mode}"] = ratio(f"apply_booth_{mode}_s", "apply_cli_s")
        per_mode[f"run_vs_cli_{mode}"] = ratio(f"run_booth_{mode}_s", "run_cli_s")
        per_mode[f"destroy_vs_cli_{mode}"] = ratio(f"destroy_booth_{mode}_s", "destroy_cli_s")
        per_mode[f"ready_overhead_{mode}_ms"] = round(
            float(raw[f"ready_overhead_{mode}_ms"] or 0), 1
        )
    result = {
        # The headline figures are the default endpoint's.
        "apply_vs_cli": per_mode[f"apply_vs_cli_{default}"],
        "apply_vs_cli_fine_poll": ratio(f"apply_booth_{default}_s", "apply_cli_fine_poll_s"),
        "run_vs_cli": per_mode[f"run_vs_cli_{default}"],
        "plan_noop_vs_compose": ratio("plan_noop_s", "compose_up_noop_s"),
        "destroy_vs_cli": per_mode[f"destroy_vs_cli_{default}"],
        "destroy_vs_compose_down": ratio(f"destroy_booth_{default}_s", "compose_down_s"),
        "plan_time_growth_100_unrelated": ratio("plan_s_100_unrelated", "plan_s_no_unrelated"),
        "ready_overhead_ms": per_mode[f"ready_overhead_{default}_ms"],
        "per_mode": per_mode,
        "default_mode": default,
        "runs": runs,
        "cli_poll_seconds": POLL_SECONDS,
        "cli_fine_poll_seconds": FINE_POLL_SECONDS,
        "raw": {k: (round(v, 4) if isinstance(v, float) else v) for k, v in raw.items()},
    }
    if not shutil.which("docker-compose"):
        result["note"] = "docker-compose not installed: compose figures are null"
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        goals = {
            "apply_vs_cli": 0.6,
            "run_vs_cli": 0.6,
            "plan_noop_vs_compose": 0.3,
            "destroy_vs_cli": 1.05,
            "plan_time_growth_100_unrelated": 1.10,
            "ready_overhead_ms": 150,
        }
        print(f"{'figure':<34}{'value':>10}{'goal':>8}")
        for key, goal in goals.items():
            value = result[key]
            shown = "n/a" if value is None else f"{value:g}"
            print(f"{key:<34}{shown:>10}{'<= ' + str(goal):>8}")
        print()
        for key, value in per_mode.items():
            print(f"  {key:<34}{value}")
        print()
        for key, value in result["raw"].items():
            print(f"  {key:<34}{value}")
    return 0


def remote_main(url: str, runs: int, as_json: bool) -> int:
    root = Path(tempfile.mkdtemp(prefix="booth-bench-"))
    try:
        result = bench_remote.run(url, root, f"bench-{BENCH_ID}-remote", runs)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    if as_json:
        print(json.dumps(result, sort_keys=True))
    else:
        bench_remote.report(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
