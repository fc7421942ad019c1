"""Step progress on a terminal, and the pull summary shown while an image downloads."""

from __future__ import annotations

import io

from reconciler.apply.images import pull_summary
from reconciler.apply.progress import TerminalProgress
from reconciler.core.model import Role
from reconciler.core.plan import Op, Step
from reconciler.core.reconcile import ReasonCode


def test_pull_summary_counts_finished_layers() -> None:
    layers = {"a": "Pull complete", "b": "Downloading", "c": "Already exists", "d": "Waiting"}
    assert pull_summary("docker:dind", layers) == "pulling docker:dind: 2/4 layers"


def test_terminal_progress_prints_one_line_per_step_and_per_changed_note() -> None:
    stream = io.StringIO()
    progress = TerminalProgress(stream)
    step = Step(1, Op.CREATE_NETWORK, Role.NETWORK, "x-net", "not found", ReasonCode.NOT_FOUND)
    progress.note("pulling docker:dind: 1/2 layers")
    progress.note("pulling docker:dind: 1/2 layers")
    progress.start(step, 3)
    progress.done(step, 3, 0.05)
    failed = Step(2, Op.START_CONTAINER, Role.SIDECAR, "x-dind", "x", ReasonCode.NOT_FOUND)
    progress.start(failed, 3)
    progress.done(failed, 3, 0.2, ok=False)
    lines = stream.getvalue().split("\n")
    assert lines[0] == "  pulling docker:dind: 1/2 layers"
    assert lines[1].endswith("[1/3] create-network    network  x-net  done 0.05s   ")
    assert lines[2].endswith("[2/3] start-container   sidecar  x-dind  FAILED 0.20s   ")
