"""``booth run``, ``booth exec``, ``booth logs`` and CodingBooth's command-less sessions,
in-process on the in-memory engine (memory_cli.py). The engine runs no process, so a
booth's main process is played by :class:`FinishingBackend`: it writes its lines when
started and exits when waited for. Terminals are not modelled (the real engines' tests
cover them): :class:`PipingBackend` plays an attached booth's output over a socket pair,
and an engine that refuses to attach (:class:`NoTerminalsBackend`) must still leave
nothing behind."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from memory_apply import PROBE, owned_names
from memory_cli import DIND, MemoryCli, memory_cli, stdin_not_a_terminal

from reconciler.app.piping import HEADER
from reconciler.core.model import Kind
from reconciler.engine.engine import Stream
from reconciler.engine.memory.engine import MemoryBackend, MemoryEngine
from reconciler.errors import EXIT_ERROR, EngineError

IMAGES = ("docker:dind", "nawaman/codingbooth:base-0.13.0")


class FinishingBackend(MemoryBackend):
    """A booth (the container named ``demo``) whose main process writes ``lines`` when it
    starts and exits with ``code`` when someone waits for it."""

    def __init__(self, lines: Sequence[str] = (), code: int = 0, **kwargs: Any) -> None:
        super().__init__(images=IMAGES, **kwargs)
        self.lines, self.code = lines, code

    def start(self, container: str) -> None:
        super().start(container)
        if self._container(container).name == "demo":
            self.write_log(container, *self.lines)

    def wait(self, container: str, timeout: int | None = None) -> int:
        if self._container(container).live:
            self.exit(container, self.code)
            return self.code
        return super().wait(container, timeout)


def finishing(lines: Sequence[str] = (), code: int = 0, **kwargs: Any) -> MemoryEngine:
    """The engine over a :class:`FinishingBackend`."""
    return MemoryEngine(backend=FinishingBackend(lines, code, **kwargs))


class NoTerminalsBackend(FinishingBackend):
    """:class:`FinishingBackend` whose engine refuses every attach."""

    def attach(self, container: str) -> Stream:
        self._container(container)
        raise EngineError("the in-memory engine has no terminals")


def framed(number: int, payload: bytes) -> bytes:
    """One frame as the engine sends a non-TTY container's output (1 stdout, 2 stderr)."""
    return HEADER.pack(number, len(payload)) + payload


class PipingBackend(FinishingBackend):
    """:class:`FinishingBackend` whose attach and ``exec -i`` connections are one end of a
    socket pair: at the booth's start (or the exec's) the other end sends the output as
    the engine frames it, one line on stderr included, and hangs up as the process ends."""

    def __init__(self, lines: Sequence[str] = (), code: int = 0, **kwargs: Any) -> None:
        super().__init__(lines, code, **kwargs)
        self.peers: dict[str, socket.socket] = {}

    def attach(self, container: str) -> Stream:
        ours, theirs = socket.socketpair()
        self.peers[self._container(container).id] = theirs
        return ours

    def start(self, container: str) -> None:
        super().start(container)
        peer = self.peers.pop(self._container(container).id, None)
        if peer is not None:
            self._hang_up(
                peer, [framed(1, line.encode()) for line in self._container(container).log]
            )

    def exec_start(self, exec_id: str, *, tty: bool) -> Stream:
        ran = super().exec_start(exec_id, tty=tty)  # its output, framed, then the end
        with ran:
            output = b"".join(iter(lambda: ran.recv(65536), b""))
        ours, theirs = socket.socketpair()
        self._hang_up(theirs, [output])
        return ours

    @staticmethod
    def _hang_up(peer: socket.socket, frames: Sequence[bytes]) -> None:
        with peer:
            for frame in frames:
                peer.sendall(frame)
            peer.sendall(framed(2, b"oops\n"))


def piping(lines: Sequence[str] = (), code: int = 0) -> MemoryEngine:
    """The engine over a :class:`PipingBackend`."""
    return MemoryEngine(backend=PipingBackend(lines, code))


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[MemoryCli]:
    with stdin_not_a_terminal():
        yield memory_cli(monkeypatch, tmp_path, capsys, finishing(["hello", "bye"], 3))


def test_run_follows_the_booth_returns_its_exit_code_and_removes_all_but_the_volume(
    cli: MemoryCli,
) -> None:
    ran = cli.booth("run")
    assert ran.code == 3
    assert ran.out == "hello\nbye\n"
    assert owned_names(cli.engine, "demo") == {"demo-dind-data"}
    # The sidecar and the booth; and the probe of the code directory on this remote
    # engine (memory:// is not a local socket), which booth removes at once.
    calls = cli.engine.memory.calls
    made = sorted(ref for op, ref in calls if op == "create_container")
    removed = sorted(ref for op, ref in calls if op == "remove_container")
    assert made == removed == ["demo", "demo-10000-dind", PROBE]


def test_run_keeps_a_network_it_did_not_create(cli: MemoryCli) -> None:
    assert cli.booth("apply").code == 0
    cli.engine.memory.exit("demo", 0)  # the booth of an earlier apply has ended
    cli.engine.primitives.remove_container("demo")
    ran = cli.booth("run")
    assert ran.code == 3
    # The network (and the volume) existed before this session: they stay.
    assert owned_names(cli.engine, "demo") == {"demo-10000-net", "demo-dind-data"}


def test_a_keep_alive_session_leaves_its_booth_for_the_next_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = finishing(["done"], 0)
    with stdin_not_a_terminal():
        cli = memory_cli(monkeypatch, tmp_path, capsys, engine, DIND + "keep-alive = true\n")
        ran = cli.booth("run")
    assert ran.code == 0 and ran.out == "done\n"
    assert owned_names(engine, "demo") == {
        "demo-10000-net",
        "demo-dind-data",
        "demo-10000-dind",
        "demo",
    }
    assert engine.container_state("demo")["Status"] == "exited"


def test_run_does_not_take_over_a_booth_that_runs_already(cli: MemoryCli) -> None:
    assert cli.booth("apply").code == 0
    calls = len(cli.engine.memory.calls)
    ran = cli.booth("run")
    assert ran.code == EXIT_ERROR
    assert "the booth 'demo' is running already" in ran.err
    assert ran.err.count("\n") == 1
    assert len(cli.engine.memory.calls) == calls  # nothing changed, nothing removed
    assert cli.engine.container_state("demo")["Running"] is True


def test_an_attached_session_that_cannot_attach_says_so_and_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = MemoryEngine(backend=NoTerminalsBackend(["hello", "bye"], 3))
    with stdin_not_a_terminal():
        cli = memory_cli(monkeypatch, tmp_path, capsys, engine)
        ran = cli.booth("run", "-i")
    assert ran.code == EXIT_ERROR
    assert "cannot attach to the booth: the in-memory engine has no terminals" in ran.err
    assert owned_names(cli.engine, "demo") == {"demo-dind-data"}
    assert "start" not in [op for op, ref in cli.engine.memory.calls if ref == "demo"]


def test_an_attached_session_copies_the_booth_s_output_and_ends_with_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = piping(["hello\n", "bye\n"], 4)
    started: dict[str, Any] = {}

    def before(operation: str, ref: str) -> None:
        if (operation, ref) == ("start", "demo"):
            started.update(engine.lookups.inspect(Kind.CONTAINER, "demo") or {})

    engine.memory.before_write = before
    with stdin_not_a_terminal():
        cli = memory_cli(monkeypatch, tmp_path, capsys, engine)
        ran = cli.booth("run", "-i")
    assert (ran.code, ran.out) == (4, "hello\nbye\n")
    assert ran.err.splitlines()[-2:] == [
        "oops",
        "Session ended; removed its 3 objects (a data volume stays).",
    ]
    assert owned_names(engine, "demo") == {"demo-dind-data"}
    # The booth has an open stdin that closes with the session's, and no TTY.
    config = started["Config"]
    assert (config["OpenStdin"], config["StdinOnce"], config.get("Tty", False)) == (
        True,
        True,
        False,
    )


def test_exec_interactive_pipes_stdin_and_splits_the_output(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = piping()
    with stdin_not_a_terminal():
        cli = memory_cli(monkeypatch, tmp_path, capsys, engine)
        assert cli.booth("apply").code == 0
        ran = cli.booth("exec", "-i", "--", "cat")
    assert (ran.code, ran.out, ran.err) == (0, "ready\n", "oops\n")


def test_exec_runs_the_command_in_the_running_booth_with_its_exit_code(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[tuple[str, list[str]]] = []

    def answer(container: Mapping[str, Any], command: list[str]) -> tuple[int, str]:
        if container["Name"] != "/demo":
            return 0, "ready\n"  # the sidecar's daemon answers
        seen.append((str(container["Name"]), command))
        if command[0] == "broken":
            return 126, "OCI runtime exec failed: exec: broken: not found\n"
        return 5, "out of " + " ".join(command) + "\n"

    engine = MemoryEngine(images=IMAGES, exec_result=answer)
    with stdin_not_a_terminal():
        cli = memory_cli(monkeypatch, tmp_path, capsys, engine)
        refused = cli.booth("exec", "--", "true")
        assert refused.code == EXIT_ERROR
        assert "the booth demo is not running (missing); `booth apply` starts it" in refused.err
        assert cli.booth("apply").code == 0
        ran = cli.booth("exec", "--", "echo", "hi")
        assert (ran.code, ran.out, ran.err) == (5, "out of echo hi\n", "")
        assert seen == [("/demo", ["echo", "hi"])]
        shell = cli.booth("exec")
        assert shell.code == 5
        assert seen[-1][1][:2] == ["sh", "-c"] and "bash -l" in seen[-1][1][2]
        # The engine's "cannot start it" arrives on stdout; booth moves it to stderr.
        broken = cli.booth("exec", "--", "broken")
        assert broken.code == 126
        assert broken.out == ""
        assert broken.err.startswith("OCI runtime exec failed")
        engine.memory.exit("demo", 0)
        stopped = cli.booth("exec", "--", "true")
        assert "the booth demo is not running (exited)" in stopped.err


def test_logs_prints_a_container_s_log_and_its_tail(cli: MemoryCli) -> None:
    missing = cli.booth("logs", "sidecar")
    assert missing.code == EXIT_ERROR
    assert "the sidecar demo-10000-dind does not exist; `booth apply` creates it" in missing.err
    assert cli.booth("apply").code == 0
    assert cli.booth("logs", "booth").out == "hello\nbye\n"
    assert cli.booth("logs", "booth", "--tail", "1").out == "bye\n"
    cli.engine.memory.write_log("demo-10000-dind", "dockerd up")
    assert cli.booth("logs", "sidecar").out == "dockerd up\n"
    refused = cli.booth("logs", "booth", "--", "ls")
    assert "booth logs: takes no command after --" in refused.err


def test_a_daemon_session_applies_and_leaves_the_booth_running(cli: MemoryCli) -> None:
    ran = cli.booth("--daemon")
    assert ran.code == 0, ran.err
    assert "Plan: 4 to create" in ran.out and "Apply complete in" in ran.out
    assert cli.engine.container_state("demo")["Running"] is True
    # Another daemon session finds it converged; a booth that changed is not taken over.
    assert "No changes." in cli.booth("--daemon").out
    (cli.code / ".booth" / "config.toml").write_text(DIND.replace("8080:8080", "8081:8081"))
    refused = cli.booth("--daemon")
    assert refused.code == EXIT_ERROR
    assert "running already (another session started it)" in refused.err


def test_a_dryrun_session_prints_docker_commands_and_changes_nothing(cli: MemoryCli) -> None:
    ran = cli.booth("--dryrun")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("#!/bin/sh\n")
    # stdin is no terminal: the booth runs with stdin open, attached (docker run -i).
    assert "docker start --attach --interactive demo || booth_status=$?" in ran.out
    # The session's clean-up follows the booth's run.
    assert ran.out.rindex("docker rm") > ran.out.rindex("docker start")
    daemon = cli.booth("--dryrun", "--daemon")
    assert daemon.code == 0
    assert "docker rm" not in daemon.out
    assert cli.engine.memory.calls == []


def test_verbose_and_quiet_exclude_each_other_in_a_session(cli: MemoryCli) -> None:
    ran = cli.booth("--verbose", "--quiet", "--daemon")
    assert ran.code == EXIT_ERROR
    assert "-v/--verbose and -q/--quiet exclude each other" in ran.err
    assert cli.connected_to == []


def test_a_json_session_log_reports_the_steps_as_json(cli: MemoryCli) -> None:
    ran = cli.booth("--log-format", "json", "--daemon")
    assert ran.code == 0
    events = [json.loads(line) for line in ran.err.splitlines()]
    done = [(e["index"], e["op"], e["name"]) for e in events if e["event"] == "step.done"]
    assert done[0] == (1, "create-network", "demo-10000-net")
    assert done[-1] == (7, "start-container", "demo")
    assert {e["total"] for e in events if e["event"] == "step.done"} == {7}
