"""``booth``, held before one plan step: ``python pausing_booth.py OP[:ROLE] ARG...``.

The crash-safety tests kill ``booth apply`` at exact points between steps (a sidecar
created but not started, a ready sidecar without its booth …). Those steps take
milliseconds, so timing a kill by polling the engine would race them. This installs the
executor's ``before_step`` hook, which the package offers to any caller, and prints a
marker line on stderr when the pause begins; a SIGINT/SIGTERM ends the pause, and the
paused step then runs as the current one. The package itself reads no test variable.
"""

from __future__ import annotations

import sys
import time

from reconciler.apply.execute import BeforeStep
from reconciler.apply.interrupts import StepInterrupts
from reconciler.cli.main import main
from reconciler.core.plan import Step

PAUSE_SECONDS = 60.0
MARKER = "booth: test pause before step"


def pause_before(point: str) -> BeforeStep:
    def hook(step: Step, interrupts: StepInterrupts) -> None:
        if point not in (step.op, f"{step.op}:{step.role}"):
            return
        print(f"{MARKER} {step.index} ({step.op} {step.role})", file=sys.stderr, flush=True)
        deadline = time.monotonic() + PAUSE_SECONDS
        while time.monotonic() < deadline and not interrupts.received:
            time.sleep(0.05)

    return hook


if __name__ == "__main__":
    where, *argv = sys.argv[1:]
    sys.exit(main(argv, as_program=True, before_step=pause_before(where)))
