"""Structure gates of the package: every module under 400 lines, and no function that
radon grades worse than C unless a ``# complexity:`` comment on its ``def`` line says why.

Run by .ci/run; exits 1 naming each offender.
"""

from __future__ import annotations

import sys
from pathlib import Path

from radon.complexity import cc_rank, cc_visit

MAX_LINES = 400
WORST_GRADE = "C"


def main(package: str) -> int:
    problems = []
    for path in sorted(Path(package).rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        if len(lines) >= MAX_LINES:
            problems.append(f"{path}: {len(lines)} lines (limit {MAX_LINES})")
        for block in cc_visit(text):
            grade = cc_rank(block.complexity)
            explained = "# complexity:" in lines[block.lineno - 1]
            if grade > WORST_GRADE and not explained:
                problems.append(
                    f"{path}:{block.lineno}: {block.name} has complexity {block.complexity} "
                    f"(grade {grade})"
                )
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "reconciler"))
