"""Step progress: a ticking line per step on a terminal, JSON events for machines, else nothing.

Kept apart from logging because a person at a terminal wants one tidy line per step
(with the inner daemon's wait visibly ticking), a CI log wants one JSON event per step,
and a pipe wants silence.

Hand-written rather than ``rich.progress``: what is drawn is one line per step and a
spinner on the step that waits, which ~60 lines do; ``rich.progress`` takes 56 ms to import
(rich 15, median of 5 here) and every command chooses its progress, a converged
``booth plan`` (~0.1 s) included, while this module costs under a millisecond. Live
multi-bar layouts, where rich would earn its import, are not something booth shows.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from typing import Protocol, TextIO

from reconciler.core.plan import Step
from reconciler.ui import colour
from reconciler.ui.logs import get_logger

SPINNER = "|/-\\"
TICK_SECONDS = 0.1


class Progress(Protocol):
    def start(self, step: Step, total: int) -> None: ...
    def done(self, step: Step, total: int, seconds: float, ok: bool = True) -> None: ...
    def note(self, message: str) -> None: ...


class NullProgress:
    def start(self, step: Step, total: int) -> None:
        pass

    def done(self, step: Step, total: int, seconds: float, ok: bool = True) -> None:
        pass

    def note(self, message: str) -> None:
        pass


class JsonProgress:
    """One structlog event per finished step (rendered as JSON by ``logs.configure``)."""

    def __init__(self) -> None:
        self.log = get_logger()

    def start(self, step: Step, total: int) -> None:
        self.log.debug("step.start", **_step_fields(step, total))

    def done(self, step: Step, total: int, seconds: float, ok: bool = True) -> None:
        event = "step.done" if ok else "step.failed"
        self.log.info(event, **_step_fields(step, total), elapsed_s=round(seconds, 3))

    def note(self, message: str) -> None:
        self.log.debug("progress.note", detail=message)


def _step_fields(step: Step, total: int) -> dict[str, object]:
    return {
        "index": step.index,
        "total": total,
        "op": step.op,
        "resource": step.role,
        "name": step.name,
        "reason": step.reason,
    }


class TerminalProgress:
    """``[3/7] start-container sidecar x ... 0.42s``; long steps tick while they run."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._last_note = ""

    def _label(self, step: Step, total: int) -> str:
        return f"  [{step.index}/{total}] {step.op:<17} {step.role:<8} {step.name}"

    def note(self, message: str) -> None:
        """A status between steps (an image pull), one whole line each time it changes,
        so an error that follows starts on a line of its own."""
        if message != self._last_note:
            self.stream.write(f"  {message}\n")
            self.stream.flush()
            self._last_note = message

    def start(self, step: Step, total: int) -> None:
        label = self._label(step, total)
        self.stream.write(label)
        self.stream.flush()
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, args=(label,), daemon=True)
        self._ticker.start()

    def _tick(self, label: str) -> None:
        started = time.monotonic()
        frame = 0
        while not self._stop.wait(TICK_SECONDS):
            elapsed = time.monotonic() - started
            if elapsed >= 0.5:  # quick steps print once, without flicker
                self.stream.write(f"\r{label}  {SPINNER[frame % 4]} {elapsed:.1f}s")
                self.stream.flush()
                frame += 1

    def done(self, step: Step, total: int, seconds: float, ok: bool = True) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        outcome = colour.paint(
            "done" if ok else "FAILED",
            colour.GREEN if ok else colour.RED,
            on=colour.enabled(self.stream),
        )
        self.stream.write(f"\r{self._label(step, total)}  {outcome} {seconds:.2f}s   \n")
        self.stream.flush()


# A build's lines as the executor notes them (execute.py ``_build_image``).
BUILD_NOTE = "build: "
# CSI and OSC escape sequences: colours and cursor moves a build's output may carry.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\))")


class PipedProgress(NullProgress):
    """Output that is not a terminal: no step lines, but an image build's output goes to
    stderr, as ``docker build`` (and CodingBooth) show it, without escape sequences (a
    log file or a CI log shows them as noise)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def note(self, message: str) -> None:
        if message.startswith(BUILD_NOTE):
            stream = self.stream or sys.stderr
            stream.write(_ANSI.sub("", message.removeprefix(BUILD_NOTE)) + "\n")
            stream.flush()


def choose(log_format: str, quiet: bool) -> Progress:
    if log_format == "json":
        return JsonProgress()
    if quiet:
        return NullProgress()
    on_terminal = sys.stderr.isatty() and sys.stdout.isatty()
    if log_format == "console" or on_terminal:
        return TerminalProgress()
    return PipedProgress()
