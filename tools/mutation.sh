#!/usr/bin/env bash
# Mutation testing of the pure core with mutmut 3 (configured in pyproject.toml's
# [tool.mutmut]: ports, runargs, config, reconcile, plan, dockerfile, the flag table, and
# model, values, port_choice and observe, mutated in a copy under mutants/, tested by
# tests/unit and tests/property only, with the deterministic Hypothesis `ci` profile).
#
#   tools/mutation.sh                 every mutant (long: see CONTRIBUTING.md, "Mutation testing")
#   tools/mutation.sh 'reconciler.core.ports*' ...   only the mutants matching these names
#   tools/mutation.sh --score         per-module score of what has run so far
#   tools/mutation.sh --survivors     the names of the surviving mutants
#   tools/mutation.sh --sample        CI's run: the mutants of tools/mutation-sample.txt,
#                                     in a fresh copy, tested by the core's unit tests only;
#                                     fails on a survivor not listed as equivalent in
#                                     docs/mutation-survivors.md
#   tools/mutation.sh --make-sample   choose that sample again (after a complete run)
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
for meta in sorted(glob.glob("mutants/reconciler/**/*.py.meta", recursive=True)):
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

# The sample's tests: the unit tests of the eleven mutated modules. Every sampled mutant
# that the whole suite kills, these kill too (the sample is chosen so; --sample checks it).
SAMPLE_TESTS='["tests/unit/test_flag_parsers.py", "tests/unit/test_flag_spec_table.py",
    "tests/unit/test_runargs.py", "tests/unit/test_runarg_messages.py",
    "tests/unit/test_ports.py", "tests/unit/test_port_messages.py",
    "tests/unit/test_reconcile.py", "tests/unit/test_reconcile_reasons.py",
    "tests/unit/test_plan_steps.py", "tests/unit/test_config.py",
    "tests/unit/test_config_partial_reads.py", "tests/unit/test_config_codingbooth_keys.py",
    "tests/unit/test_config_names.py", "tests/unit/test_core_edges.py",
    "tests/unit/test_dockerfile.py", "tests/unit/test_model_edges.py",
    "tests/unit/test_values.py", "tests/unit/test_values_edges.py",
    "tests/unit/test_env_file_lines.py", "tests/unit/test_port_choice.py",
    "tests/unit/test_port_choice_edges.py", "tests/unit/test_observe_documents.py",
    "tests/unit/test_observe_memory.py", "tests/unit/test_observe_edges.py",
    "tests/unit/test_codingbooth_drop_in.py", "tests/unit/test_render_docker.py",
    "tests/unit/test_engine_refusals.py"]'

sample() {
    local copy
    copy=$(mktemp -d)
    # shellcheck disable=SC2064  # expand now: the trap runs after the function returns
    trap "rm -rf '$copy'" EXIT
    cp -r reconciler tests pyproject.toml README.md CONTRIBUTING.md CHANGELOG.md docs examples .ci "$copy"
    SAMPLE_TESTS=$SAMPLE_TESTS .venv/bin/python - "$copy/pyproject.toml" <<'PY'
import os, re, sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
line = "pytest_add_cli_args_test_selection = " + os.environ["SAMPLE_TESTS"]
text, count = re.subn(r"^pytest_add_cli_args_test_selection = .*$", line, text, flags=re.M)
assert count == 1, "pyproject.toml: no pytest_add_cli_args_test_selection line"
open(path, "w", encoding="utf-8").write(text)
PY
    local names
    mapfile -t names < <(grep -v '^#' tools/mutation-sample.txt)
    local root=$PWD
    (cd "$copy" && "$root/.venv/bin/mutmut" run --max-children "$(nproc)" "${names[@]}") \
        >"$copy/mutmut.log" 2>&1 || { tail -20 "$copy/mutmut.log" >&2; return 1; }
    .venv/bin/python tools/mutation_sample.py check "$copy"
}

case "${1:-}" in
    --score) report score ;;
    --survivors) report survivors ;;
    --sample) sample ;;
    --make-sample) .venv/bin/python tools/mutation_sample.py make ;;
    *)
        .venv/bin/mutmut run --max-children "$(nproc)" "$@"
        report score
        ;;
esac
