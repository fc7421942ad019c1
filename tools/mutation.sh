#!/usr/bin/env bash
# Mutation testing of the pure core with mutmut 3 (configured in pyproject.toml's
# [tool.mutmut]: ports, runargs, config, reconcile, plan and the flag table, mutated in a
# copy under mutants/, tested by tests/unit and tests/property only, with the
# deterministic Hypothesis `ci` profile).
#
#   tools/mutation.sh                 every mutant (long: see README, "Mutation testing")
#   tools/mutation.sh 'reconciler.ports*' ...   only the mutants matching these names
#   tools/mutation.sh --score         per-module score of what has run so far
#   tools/mutation.sh --survivors     the names of the surviving mutants
#
# A run resumes where the last one stopped; `rm -rf mutants` starts afresh. Show one
# mutant with `.venv/bin/mutmut show NAME`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export HYPOTHESIS_PROFILE=ci

report() {
    .venv/bin/python - "$1" <<'PY'
import collections, glob, json, sys

# mutmut's exit codes: 1 (a test failed) and timeouts kill; 0 survives; 33: no test ran it.
KILLED = {1, 3, -24, 24, 152, 255, -9, -11, 36, 37}
rows = []
for meta in sorted(glob.glob("mutants/reconciler/*.py.meta")):
    codes = json.load(open(meta)).get("exit_code_by_key", {})
    counts = collections.Counter(
        "not run" if c is None else "killed" if c in KILLED else "survived" if c == 0
        else "no tests" if c == 33 else f"exit {c}"
        for c in codes.values()
    )
    if sys.argv[1] == "survivors":
        print("\n".join(k for k, c in sorted(codes.items()) if c in (0, 33)))
        continue
    done = sum(n for kind, n in counts.items() if kind != "not run")
    score = f"{100 * counts['killed'] / done:.1f} %" if done else "-"
    module = meta.removeprefix("mutants/").removesuffix(".meta")
    rows.append(f"| `{module}` | {len(codes)} | {done} | {counts['killed']} | "
                f"{counts['survived']} | {counts['no tests']} | {score} |")
if rows:
    print("| module | mutants | run | killed | survived | no tests | score |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
PY
}

case "${1:-}" in
    --score) report score ;;
    --survivors) report survivors ;;
    *)
        .venv/bin/mutmut run --max-children "$(nproc)" "$@"
        report score
        ;;
esac
