"""Every signal booth handles, in one place.

* As a program, SIGTERM behaves like Ctrl-C (``terminate_as_interrupt``).
* While a plan runs (:class:`StepInterrupts`), SIGINT/SIGTERM stop it after the current
  step, or at once during a step that changes nothing (a wait) or on a second signal.
* In a terminal session, SIGHUP (the terminal closed) ends the session like Ctrl-C
  would outside raw mode (``hangup_as_interrupt``), and SIGWINCH wakes the copy loop to
  resize the booth's TTY (``window_changes``).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from reconciler.errors import RunInterrupted
from reconciler.ui.logs import get_logger

log = get_logger()


def _raise_keyboard_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def terminate_as_interrupt() -> None:
    """For the real program only: tests call ``main()`` in-process and keep theirs."""
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)


class StepInterrupts:
    """SIGINT/SIGTERM during a plan: remember it and stop after the current step.

    During an abandonable step (``abandon`` set to its description) or on a second
    signal, stop at once.
    """

    def __init__(self) -> None:
        self.received = False
        self.abandon: Callable[[], str] | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StepInterrupts:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        for sig, old in self._previous.items():
            signal.signal(sig, old)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.abandon is not None:
            raise RunInterrupted(self.abandon())
        if self.received:
            raise KeyboardInterrupt
        self.received = True
        log.warning("interrupt.received", signal=signum, detail="stopping after the current step")


@contextlib.contextmanager
def hangup_as_interrupt() -> Iterator[None]:
    """SIGHUP raises KeyboardInterrupt, so a session tears down instead of dying with the
    booth and sidecar left running."""
    previous = signal.signal(signal.SIGHUP, _raise_keyboard_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)


@contextlib.contextmanager
def window_changes() -> Iterator[int]:
    """A file descriptor that becomes readable on SIGWINCH (a self-pipe).

    The handler only writes a byte: the resize request itself is made from the loop,
    never from inside a signal handler that may have interrupted an API call.
    """
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)

    def handle(_signum: int, _frame: FrameType | None) -> None:
        with contextlib.suppress(BlockingIOError):
            os.write(write_end, b"w")

    previous = signal.signal(signal.SIGWINCH, handle)
    try:
        yield read_end
    finally:
        signal.signal(signal.SIGWINCH, previous)
        os.close(read_end)
        os.close(write_end)
