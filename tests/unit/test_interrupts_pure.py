"""The signals booth handles (``apply/interrupts.py``), sent to this very process: SIGTERM as
Ctrl-C for the program, SIGHUP ending a terminal session, SIGWINCH waking its copy
loop, and a second Ctrl-C during a plan stopping it at once. Each test puts back the
handlers it found."""

from __future__ import annotations

import os
import select
import signal
from collections.abc import Iterator

import pytest

from reconciler.apply.interrupts import (
    StepInterrupts,
    hangup_as_interrupt,
    terminate_as_interrupt,
    window_changes,
)


@pytest.fixture(autouse=True)
def handlers_kept() -> Iterator[None]:
    kept = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGWINCH)}
    yield
    for sig, handler in kept.items():
        signal.signal(sig, handler)


def test_as_a_program_sigterm_is_ctrl_c() -> None:
    terminate_as_interrupt()
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGTERM)


def test_a_hangup_ends_a_session_like_ctrl_c_and_only_inside_it() -> None:
    before = signal.getsignal(signal.SIGHUP)
    with pytest.raises(KeyboardInterrupt), hangup_as_interrupt():
        os.kill(os.getpid(), signal.SIGHUP)
    assert signal.getsignal(signal.SIGHUP) == before


def test_a_window_change_makes_the_pipe_readable_until_the_block_ends() -> None:
    before = signal.getsignal(signal.SIGWINCH)
    with window_changes() as wakeup:
        assert select.select([wakeup], [], [], 0)[0] == []
        os.kill(os.getpid(), signal.SIGWINCH)
        assert select.select([wakeup], [], [], 1.0)[0] == [wakeup]
        assert os.read(wakeup, 16) == b"w"
    assert signal.getsignal(signal.SIGWINCH) == before
    with pytest.raises(OSError):
        os.fstat(wakeup)  # closed with the block


def test_a_second_signal_during_a_plan_stops_it_at_once() -> None:
    with StepInterrupts() as interrupts:
        os.kill(os.getpid(), signal.SIGTERM)
        assert interrupts.received
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
