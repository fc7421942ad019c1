"""``booth``, with a directory removed just before one plan step:
``python removing_booth.py OP[:ROLE] DIR ARG...``.

The failed-apply tests need the real engine to refuse a step that ``plan`` accepted: a
``--mount type=bind`` source that existed when the plan was made and is gone when the
engine creates or starts the container ("bind source path does not exist"). Which step
it is decides what has already run at that moment, so the directory is removed from the
executor's ``before_step`` hook (as pausing_booth.py uses it), at that exact step; the
engine, not this script, then refuses. The package itself reads no test variable.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from reconciler.apply.execute import BeforeStep
from reconciler.apply.interrupts import StepInterrupts
from reconciler.cli.main import main
from reconciler.core.plan import Step


def remove_before(point: str, directory: Path) -> BeforeStep:
    def hook(step: Step, _interrupts: StepInterrupts) -> None:
        if point in (step.op, f"{step.op}:{step.role}"):
            shutil.rmtree(directory, ignore_errors=True)

    return hook


if __name__ == "__main__":
    where, directory, *argv = sys.argv[1:]
    sys.exit(main(argv, as_program=True, before_step=remove_before(where, Path(directory))))
