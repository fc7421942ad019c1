#!/usr/bin/env python3
"""Benchmark: the build-context fingerprint of a 10,000-file tree against its floor.

The floor is ``os.walk`` plus one ``lstat`` per file over the same tree, in the same
process: the system calls no fingerprint can avoid. Prints JSON: medians in ms and the
ratio fingerprint / floor. Nothing here asserts a time.

    python benchmarks/bench_build_context.py [--files 10000] [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reconciler.build_context import fingerprint_context

IGNORE = ".git\n**/node_modules\n*.log\n**/__pycache__\n!keep.log\n"


def make_tree(root: Path, files: int) -> None:
    """``files`` files, 50 per directory, two levels deep, plus a few ignored ones."""
    (root / "Dockerfile").write_text("FROM scratch\nCOPY . /code\n")
    (root / ".dockerignore").write_text(IGNORE)
    for i in range(files):
        directory = root / f"pkg{i // 1000:02d}" / f"mod{i // 50 % 20:02d}"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"file{i:05d}.py").write_text(f"x = {i}\n")
    (root / "pkg00" / "debug.log").write_text("ignored\n")


def floor(root: Path) -> None:
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            os.lstat(os.path.join(dirpath, name))


def interleaved_ms(fns: list[Callable[[], object]], runs: int) -> list[list[float]]:
    """Wall-clock ms of each function, run in turn ``runs`` times, so a noisy neighbour
    slows both alike."""
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for fn, out in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            out.append((time.perf_counter() - start) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_tree(root, args.files)
        fingerprint = lambda: fingerprint_context(root, root / "Dockerfile", {"A": "1"})  # noqa: E731
        fingerprint()  # warm the page and dentry caches for both measurements
        fp_times, floor_times = interleaved_ms([fingerprint, lambda: floor(root)], args.runs)
    fp_ms, floor_ms = statistics.median(fp_times), statistics.median(floor_times)
    report = {
        "files": args.files,
        "runs": args.runs,
        "fingerprint_ms": round(fp_ms, 2),
        "walk_stat_floor_ms": round(floor_ms, 2),
        "ratio": round(fp_ms / floor_ms, 2),
        "best_fingerprint_ms": round(min(fp_times), 2),
        "best_floor_ms": round(min(floor_times), 2),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
