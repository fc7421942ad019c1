"""``booth run`` with a terminal: the booth's config, the plan split around the attach,
and the copying loop — all without an engine (sockets, pipes and a pseudo-terminal)."""

from __future__ import annotations

import fcntl
import os
import pty
import socket
import struct
import termios
import threading
import tty

import pytest
from booth_builders import DIND_EXAMPLE_TOML, actual_matching, config_from_toml

from reconciler.app import terminal
from reconciler.app.session import attached_config, split_at_booth_start
from reconciler.config.desired import build_desired
from reconciler.core.model import ActualState, Role
from reconciler.core.plan import make_plan
from reconciler.core.reconcile import reconcile

BOOTH = Role.BOOTH


def test_a_terminal_session_builds_the_booth_with_tty_and_open_stdin() -> None:
    config = config_from_toml(DIND_EXAMPLE_TOML)
    plain, attached = build_desired(config), build_desired(attached_config(config))

    booth, plain_booth = attached.get(BOOTH), plain.get(BOOTH)
    assert booth is not None and plain_booth is not None
    assert booth.spec["Tty"] is True and booth.spec["OpenStdin"] is True
    assert "Tty" not in plain_booth.spec and "OpenStdin" not in plain_booth.spec
    # Honest hashes: the plan shows the booth that is really created; nothing else changes.
    assert booth.spec_hash != plain_booth.spec_hash
    assert attached.get("sidecar") == plain.get("sidecar")


def test_same_hash_as_the_tty_and_interactive_run_args() -> None:
    base = 'dind = true\nimage = "img"\n'
    by_flags = build_desired(config_from_toml(base + 'run-args = ["-t", "-i"]\n'))
    by_session = build_desired(attached_config(config_from_toml(base)))

    assert by_session.get(BOOTH) == by_flags.get(BOOTH)


def test_the_plan_is_split_right_before_the_booth_starts() -> None:
    desired = build_desired(config_from_toml(DIND_EXAMPLE_TOML))
    plan = make_plan(desired.instance, reconcile(desired, ActualState()))

    before, start = split_at_booth_start(plan)

    assert before.steps + start.steps == plan.steps
    assert [(s.op, s.role) for s in start.steps] == [("start-container", BOOTH)]
    assert ("create-container", BOOTH) in [(s.op, s.role) for s in before.steps]
    assert before.changes == plan.changes


def test_a_plan_that_does_not_start_the_booth_is_not_split() -> None:
    desired = build_desired(config_from_toml(DIND_EXAMPLE_TOML))
    plan = make_plan(desired.instance, reconcile(desired, actual_matching(desired)))

    before, start = split_at_booth_start(plan)

    assert before.steps == plan.steps and start.steps == ()


def test_pump_copies_both_ways_until_the_booth_closes_its_end() -> None:
    ours, booths = socket.socketpair()
    stdin_read, stdin_write = os.pipe()
    stdout_read, stdout_write = os.pipe()
    received: list[bytes] = []

    def booth() -> None:
        booths.sendall(b"prompt> ")
        received.append(booths.recv(100))
        booths.sendall(b"bye\r\n")
        booths.close()

    worker = threading.Thread(target=booth)
    worker.start()
    os.write(stdin_write, b"ls\r")
    terminal.pump(ours, stdin_read, stdout_write)
    worker.join(5)

    assert received == [b"ls\r"]
    os.close(stdout_write)
    assert os.read(stdout_read, 100) == b"prompt> bye\r\n"
    for fd in (stdin_read, stdin_write, stdout_read):
        os.close(fd)
    ours.close()


def test_pump_keeps_reading_the_booth_after_local_input_ends() -> None:
    ours, booths = socket.socketpair()
    stdin_read, stdin_write = os.pipe()
    stdout_read, stdout_write = os.pipe()
    os.close(stdin_write)  # EOF at once: the booth's output must still all arrive

    def booth() -> None:
        for part in (b"one ", b"two"):
            booths.sendall(part)
        booths.close()

    worker = threading.Thread(target=booth)
    worker.start()
    terminal.pump(ours, stdin_read, stdout_write)
    worker.join(5)

    os.close(stdout_write)
    assert os.read(stdout_read, 100) == b"one two"
    for fd in (stdin_read, stdout_read):
        os.close(fd)
    ours.close()


def test_pump_calls_back_when_the_wakeup_descriptor_fires() -> None:
    ours, booths = socket.socketpair()
    stdin_read, stdin_write = os.pipe()
    wake_read, wake_write = os.pipe()
    calls: list[int] = []

    def on_wakeup() -> None:
        calls.append(1)
        booths.close()  # the booth ends right after: the loop must return

    os.write(wake_write, b"w")
    with open(os.devnull, "wb") as sink:
        terminal.pump(ours, stdin_read, sink.fileno(), wakeup_fd=wake_read, on_wakeup=on_wakeup)

    assert calls == [1]
    for fd in (stdin_read, stdin_write, wake_read, wake_write):
        os.close(fd)
    ours.close()


def test_raw_mode_is_raw_inside_and_restored_after_even_on_error() -> None:
    leader, follower = pty.openpty()
    try:
        assert termios.tcgetattr(follower)[3] & termios.ICANON
        try:
            with terminal.raw_mode(follower):
                attrs = termios.tcgetattr(follower)
                assert not attrs[3] & (termios.ICANON | termios.ECHO | termios.ISIG)
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        assert termios.tcgetattr(follower)[3] & termios.ICANON
    finally:
        os.close(leader)
        os.close(follower)


def test_raw_mode_leaves_a_pipe_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pipe has no terminal settings: none is read or set, and the body still runs."""
    touched: list[str] = []
    for name in ("tcgetattr", "tcsetattr"):
        real = getattr(termios, name)

        def spy(*args: object, _name: str = name, _real: object = real) -> object:
            touched.append(_name)
            return _real(*args)  # type: ignore[operator]

        monkeypatch.setattr(termios, name, spy)
    monkeypatch.setattr(tty, "setraw", lambda *args: touched.append("setraw"))
    read_end, write_end = os.pipe()
    ran = []
    try:
        with terminal.raw_mode(read_end):
            ran.append(True)
        assert ran == [True]
        assert touched == []
    finally:
        os.close(read_end)
        os.close(write_end)


def test_terminal_size_of_a_pseudo_terminal_and_of_a_pipe() -> None:
    leader, follower = pty.openpty()
    read_end, write_end = os.pipe()
    try:
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
        assert terminal.terminal_size((read_end, follower)) == (33, 101)
        assert terminal.terminal_size((read_end,)) is None
    finally:
        for fd in (leader, follower, read_end, write_end):
            os.close(fd)
