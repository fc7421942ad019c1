"""The sampled mutation run of ``tools/mutation.sh --sample``: choose the sample, judge it.

``make``: from a complete run's results (``mutants/reconciler/*.py.meta``), choose a fixed
number of mutants per module, the ones whose names hash lowest: the same code gives the
same sample, and a change to one function moves few names in or out. Written to
``tools/mutation-sample.txt``.

``check DIR``: read the sampled run's results in ``DIR/mutants`` and fail (exit 1) when a
sampled mutant survived, or no test ran it, unless ``docs/mutation-survivors.md`` lists it
as equivalent. A sampled name that no longer exists (its function changed) is reported
and skipped: run the whole tool and ``make`` again.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tools" / "mutation-sample.txt"
SURVIVORS = ROOT / "docs" / "mutation-survivors.md"
PER_MODULE = 10
# mutmut's exit codes: a failing test (1) or a timeout kills; 0 survives; 33: no test ran it.
KILLED = {1, 3, -24, 24, 152, 255, -9, -11, 36, 37}


def results(directory: Path) -> dict[str, int | None]:
    codes: dict[str, int | None] = {}
    # Recursively: modules in subpackages have their results in subdirectories.
    for meta in sorted((directory / "mutants" / "reconciler").rglob("*.py.meta")):
        codes.update(json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"])
    return codes


def equivalent() -> set[str]:
    """The first column of the survivors' tables: one backticked mutant name per row."""
    rows = re.finditer(r"^\| `([^`]+)` \|", SURVIVORS.read_text(encoding="utf-8"), re.MULTILINE)
    return {row[1] for row in rows}


def module_of(name: str) -> str:
    """``reconciler.config.booth_config.x_f__mutmut_3`` → ``reconciler.config.booth_config``."""
    return name.rsplit(".", 1)[0]


def make() -> int:
    by_module: dict[str, list[str]] = defaultdict(list)
    skip = equivalent()  # no test can kill them: sampling them would test nothing
    for name in results(ROOT):
        if name not in skip:
            by_module[module_of(name)].append(name)
    chosen = []
    for module in sorted(by_module):
        names = sorted(by_module[module], key=lambda n: hashlib.sha256(n.encode()).hexdigest())
        chosen += sorted(names[:PER_MODULE])
    header = (
        "# Written by `tools/mutation.sh --make-sample` after a complete run; one name a line.\n"
    )
    SAMPLE.write_text(header + "".join(f"{name}\n" for name in chosen), encoding="utf-8")
    print(f"{len(chosen)} mutants written to {SAMPLE.relative_to(ROOT)}")
    return 0


def sample() -> list[str]:
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def check(directory: Path) -> int:
    codes, allowed, failures = results(directory), equivalent(), []
    for name in sample():
        code = codes.get(name, "missing")
        if code == "missing":
            # Its function changed and has fewer mutants now: the sample shrinks until the
            # next complete run chooses it again; that is no reason to fail a change.
            print(f"{name}: no such mutant any more (skipped; choose the sample again)")
        elif code is None:
            failures.append(f"{name}: not run")
        elif code in KILLED:
            continue
        elif name in allowed:
            print(f"{name}: survived, listed as equivalent")
        else:
            why = "survived" if code == 0 else "no test ran it" if code == 33 else f"exit {code}"
            failures.append(f"{name}: {why} (show it with: .venv/bin/mutmut show {name})")
    print(f"mutation sample: {len(sample())} mutants, {len(failures)} failing")
    for failure in failures:
        print(f"  {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "make":
        sys.exit(make())
    if command == "check" and len(sys.argv) == 3:
        sys.exit(check(Path(sys.argv[2])))
    sys.exit("usage: mutation_sample.py make | check DIR")
