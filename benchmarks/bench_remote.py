"""The remote-engine mode of ``bench.py``: booth against the docker CLI over the same SSH.

    PATH=<dir of an ssh that knows the host>:$PATH \\
        python benchmarks/bench.py --remote ssh://root@127.0.0.1:2222 [--runs 5] [--json]

Both sides get the same ``DOCKER_HOST``: booth, and the docker CLI script that does the
same steps by hand (``Booth.cli_up_script``/``cli_down_script``), alternated in this one
process so drift hits both alike; ratios are booth ÷ CLI. The CLI opens a fresh SSH
connection per command (``docker system dial-stdio``), which is what people run. When the
SSH host is this machine (sshd on 127.0.0.1 in front of the local engine, as
``.ci/engines-up.sh`` sets it up) the same figures on the local socket are taken too, so
the network's share is zero and only the transport differs. Everything is cleaned up
through the remote engine.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from bench_booth import Booth, alternate, median, timed

LOOPBACK = ("127.0.0.1", "localhost", "::1")
ENGINE_VARS = ("DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH")


def remote_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENGINE_VARS}
    env["DOCKER_HOST"] = url
    return env


def local_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ENGINE_VARS}


def quiet(command: list[str] | str, env: Mapping[str, str]) -> None:
    subprocess.run(
        command, shell=isinstance(command, str), env=dict(env), check=True, capture_output=True
    )


def measure(booth: Booth, runs: int, env: Mapping[str, str], cli: bool) -> dict[str, float]:
    """apply, converged plan, destroy of ``booth`` under ``env``; with ``cli``, the CLI
    script's apply and destroy alternated with them, and ``docker ps`` as the plan's
    reference (the least any client pays for one request over this transport)."""
    environment = dict(env)

    def clean() -> None:
        booth.remove_everything()

    def booth_apply() -> float:
        clean()
        return timed(booth.cmd("apply"), environment)

    def cli_apply() -> float:
        clean()
        return timed(booth.cli_up_script(), environment)

    def booth_destroy() -> float:
        clean()
        quiet(booth.cmd("apply"), environment)
        return timed(booth.cmd("destroy"), environment)

    def cli_destroy() -> float:
        clean()
        quiet(booth.cmd("apply"), environment)
        return timed(booth.cli_down_script(), environment)

    applies: list[Callable[[], float]] = [booth_apply, *([cli_apply] if cli else [])]
    destroys: list[Callable[[], float]] = [booth_destroy, *([cli_destroy] if cli else [])]
    apply_s = alternate(runs, *applies)
    destroy_s = alternate(runs, *destroys)
    clean()
    quiet(booth.cmd("apply"), environment)
    plan_s = [timed(booth.cmd("plan", "--detailed-exitcode"), environment) for _ in range(runs + 1)]
    ps_s = [timed("docker ps -q", environment) for _ in range(runs + 1)] if cli else []
    clean()
    figures = {
        "apply_booth_s": median(apply_s[0]),
        "destroy_booth_s": median(destroy_s[0]),
        "plan_noop_s": median(plan_s[1:]),
    }
    if cli:
        figures |= {
            "apply_cli_s": median(apply_s[1]),
            "destroy_cli_s": median(destroy_s[1]),
            "docker_ps_s": median(ps_s[1:]),
        }
    return figures


def run(url: str, root: Path, name: str, runs: int) -> dict[str, object]:
    """Measure over ``url`` (and locally when its host is this machine)."""
    env = remote_env(url)
    # Cleanup (untimed) goes where the booth is: through the remote engine.
    os.environ.update(env)
    booth = Booth(root, name)
    try:
        over_ssh = measure(booth, runs, env, cli=True)
        same_host = urlsplit(url).hostname in LOOPBACK
        local = measure(booth, runs, local_env(), cli=False) if same_host else {}
    finally:
        booth.remove_everything()

    def ratio(a: float, b: float) -> float:
        return round(a / b, 3)

    result: dict[str, object] = {
        "remote": url,
        "runs": runs,
        "apply_vs_cli_remote": ratio(over_ssh["apply_booth_s"], over_ssh["apply_cli_s"]),
        "destroy_vs_cli_remote": ratio(over_ssh["destroy_booth_s"], over_ssh["destroy_cli_s"]),
        "plan_noop_remote_s": round(over_ssh["plan_noop_s"], 3),
        "raw_remote": {k: round(v, 4) for k, v in over_ssh.items()},
    }
    if local:
        result["raw_local"] = {k: round(v, 4) for k, v in local.items()}
    return result


GOALS = {"apply_vs_cli_remote": 0.6, "destroy_vs_cli_remote": 1.0, "plan_noop_remote_s": 1.0}


def report(result: Mapping[str, object]) -> None:
    print(f"engine: {result['remote']} ({result['runs']} runs per figure)")
    print(f"{'figure':<34}{'value':>10}{'goal':>8}")
    for key, goal in GOALS.items():
        print(f"{key:<34}{result[key]!s:>10}{'<= ' + str(goal):>8}")
    for section in ("raw_remote", "raw_local"):
        figures = result.get(section)
        if isinstance(figures, dict):
            print(f"\n  {section}")
            for key, value in figures.items():
                print(f"  {key:<34}{value}")
