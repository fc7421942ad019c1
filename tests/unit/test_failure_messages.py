"""Failures in one clear line (issue 21): where a late value came from, what a failed
apply took back, an unreachable or malformed engine address, the lock, a typo of a
command, control bytes, a certificate name a long project needs."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import lock
from reconciler.apply.certificates import MAX_COMMON_NAME, common_name
from reconciler.apply.undo import Journal, undone
from reconciler.cli.command_set import NAMES as COMMANDS
from reconciler.cli.main import main
from reconciler.cli.session_words import GLOBAL_OPTIONS
from reconciler.cli.words import check_misspelled_command
from reconciler.config.runargs.provenance import attributed, quoted_word
from reconciler.config.runargs.routing import Word
from reconciler.core.model import LABEL_INSTANCE, LABEL_MANAGED, Kind, Role
from reconciler.engine.address import resolve, root_cause
from reconciler.errors import ConfigError, EngineNotFound, ExecutionError, shown

CONFIG_RUN_ARGS = "/code/.booth/config.toml run-args"

# -- a late failure names the source of its value ---------------------------------------------


def test_the_run_arg_a_refusal_quotes_is_named_with_its_source() -> None:
    words = [
        Word("-e", CONFIG_RUN_ARGS),
        Word("A=1", CONFIG_RUN_ARGS),
        Word("-v", "command line --run-arg"),
        Word("/srv/data:/data:bogus", "command line --run-arg"),
    ]
    err = ExecutionError("step 5 create-container demo failed: invalid mode: bogus")
    assert str(attributed(err, words)) == (
        "step 5 create-container demo failed: invalid mode: bogus (the value comes from "
        "command line --run-arg: '/srv/data:/data:bogus')"
    )


def test_the_longest_quoted_value_wins_and_a_part_of_a_word_is_no_match() -> None:
    words = [Word("type=bind,src=/srv/a,dst=/a", "x"), Word("/srv/a-long", "y")]
    found = quoted_word("bind source path does not exist: /srv/a-long", words)
    assert found == Word("/srv/a-long", "y")  # not /srv/a, a prefix of the path


def test_a_message_quoting_no_run_arg_is_left_as_it_is() -> None:
    err = ExecutionError("cannot start booth demo: no space left on device")
    assert attributed(err, [Word("--init", "x"), Word("on", "x")]) is err


# -- what a failed apply took back ------------------------------------------------------------


class RecordingEngine:
    """Records the calls the undo makes; says every container is running."""

    def __init__(self, missing: set[str] | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.missing = missing or set()
        self.labels = {LABEL_MANAGED: "true", LABEL_INSTANCE: "demo"}

    @property
    def primitives(self) -> RecordingEngine:
        return self  # the one fake records the primitives (stop, removals) too

    def _call(self, what: str, target: str) -> None:
        self.calls.append((what, target))
        if target in self.missing:
            raise EngineNotFound(f"no such object: {target}")

    def container_state(self, target: str) -> Mapping[str, Any]:
        self._call("state", target)
        return {"Running": True}

    def stop(self, target: str, _timeout: int) -> None:
        self._call("stop", target)

    def stop_until_logged(self, target: str, _timeout: int, _line: bytes) -> None:
        self._call("stop-sidecar", target)

    def remove_container(self, target: str) -> None:
        self._call("remove-container", target)

    def network(self, name: str) -> tuple[str, Mapping[str, str]]:
        self._call("network", name)
        return f"id-{name}", self.labels

    def remove_network(self, network_id: str) -> None:
        self._call("remove-network", network_id)

    def volume_labels(self, name: str) -> Mapping[str, str]:
        self._call("volume", name)
        return self.labels

    def remove_volume(self, name: str) -> None:
        self._call("remove-volume", name)


def _journal() -> Journal:
    journal = Journal("demo", 10)
    journal.created(Kind.NETWORK, Role.NETWORK, "demo-net")
    journal.created(Kind.VOLUME, Role.VOLUME, "demo-data")
    journal.created(Kind.CONTAINER, Role.SIDECAR, "demo-dind", "id-sidecar")
    journal.created(Kind.CONTAINER, Role.BOOTH, "demo", "id-booth")
    return journal


def test_undo_takes_back_newest_first_and_says_what() -> None:
    engine = RecordingEngine()
    err = undone(ExecutionError("step 7 failed"), _journal(), engine)  # type: ignore[arg-type]
    assert [c for c in engine.calls if c[0].startswith(("stop", "remove"))] == [
        ("stop", "id-booth"),
        ("remove-container", "id-booth"),
        ("stop-sidecar", "id-sidecar"),  # gracefully: the inner daemon writes its state
        ("remove-container", "id-sidecar"),
        ("remove-volume", "demo-data"),
        ("remove-network", "id-demo-net"),
    ]
    assert str(err) == (
        "step 7 failed; taken back what this run did (removed container demo, removed "
        "container demo-dind, removed volume demo-data, removed network demo-net)"
    )
    assert isinstance(err, ExecutionError)


def test_a_container_the_run_only_started_is_stopped_again_not_removed() -> None:
    journal = Journal("demo", 10)
    journal.started(Role.SIDECAR, "demo-dind", "id-sidecar")
    engine = RecordingEngine()
    err = undone(ExecutionError("failed"), journal, engine)  # type: ignore[arg-type]
    assert ("stop-sidecar", "id-sidecar") in engine.calls
    assert not [c for c in engine.calls if c[0].startswith("remove")]
    assert str(err) == "failed; taken back what this run did (stopped container demo-dind)"


def test_an_object_already_gone_counts_as_taken_back() -> None:
    engine = RecordingEngine(missing={"id-booth"})
    err = undone(ExecutionError("failed"), _journal(), engine)  # type: ignore[arg-type]
    assert "removed container demo," in str(err) and "could not" not in str(err)


def test_a_run_that_created_nothing_keeps_its_message() -> None:
    err = ExecutionError("failed")
    assert undone(err, Journal("demo", 10), RecordingEngine()) is err  # type: ignore[arg-type]


# -- the engine's address ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "message"),
    [
        (
            "tcp://[::1",
            "DOCKER_HOST: tcp://[::1 is not an engine address (Invalid IPv6 URL); expected "
            "unix:///PATH, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT]",
        ),
        (
            "tcp://127.0.0.1:99999",
            "DOCKER_HOST: tcp://127.0.0.1:99999 is not an engine address (port out of "
            "range 0-65535); expected unix:///PATH, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT]",
        ),
        ("tcp://", "DOCKER_HOST: tcp:// names no host"),
    ],
)
def test_a_malformed_docker_host_is_one_line(host: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(None, {"DOCKER_HOST": host})
    assert str(caught.value) == message


def _context(tmp_path: Path, meta: str) -> dict[str, str]:
    import hashlib

    meta_dir = tmp_path / "contexts" / "meta" / hashlib.sha256(b"ctx").hexdigest()
    meta_dir.mkdir(parents=True)
    (meta_dir / "meta.json").write_text(meta)
    return {"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "ctx"}


def test_a_context_host_out_of_range_names_the_context_and_its_file(tmp_path: Path) -> None:
    env = _context(tmp_path, '{"Endpoints": {"docker": {"Host": "tcp://127.0.0.1:99999"}}}')
    with pytest.raises(ConfigError, match=r"^docker context 'ctx' \(host in .*meta\.json\): "):
        resolve(None, env)


@pytest.mark.parametrize("meta", ['{"Endpoints": ', "[]", '{"Endpoints": {"docker": 1}}'])
def test_a_broken_meta_json_is_named_as_such(tmp_path: Path, meta: str) -> None:
    with pytest.raises(
        ConfigError, match=r"^docker context 'ctx': its meta\.json \(.*\) is broken"
    ):
        resolve(None, _context(tmp_path, meta))


def test_a_fifo_as_meta_json_is_not_read(tmp_path: Path) -> None:
    env = _context(tmp_path, "{}")
    meta = next((tmp_path / "contexts" / "meta").iterdir()) / "meta.json"
    meta.unlink()
    os.mkfifo(meta)  # reading it would block forever
    with pytest.raises(ConfigError, match=r"not a regular file \(a FIFO\)"):
        resolve(None, env)


@pytest.mark.parametrize(
    ("detail", "cause"),
    [
        (
            "Error while fetching server API version: HTTPConnectionPool(host='127.0.0.1', "
            "port=1): Max retries exceeded with url: /version (Caused by NewConnectionError("
            "\"HTTPConnection(host='127.0.0.1', port=1): Failed to establish a new connection: "
            '[Errno 111] Connection refused"))',
            "connection refused",
        ),
        (
            "Error while fetching server API version: ('Connection aborted.', "
            "FileNotFoundError(2, 'No such file or directory'))",
            "no such file or directory",
        ),
        (
            "Error while fetching server API version: ('Connection aborted.', "
            "RemoteDisconnected('Remote end closed connection without response'))",
            "remote end closed connection without response",
        ),
        (
            "Error while fetching server API version: 404 Client Error for "
            "http://127.0.0.1:8080/version: Not Found",
            "it answered HTTP 404 Not Found, not as a Docker engine",
        ),
        ("UnixHTTPConnectionPool(host='localhost', port=None): Read timed out.", "timed out"),
    ],
)
def test_an_unreachable_engine_is_said_without_urllib3_internals(detail: str, cause: str) -> None:
    assert root_cause(detail) == cause


# -- the instance lock ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["abc", "nan", "-1", "1e9", "inf"])
def test_a_bad_lock_timeout_is_one_line(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("BOOTH_LOCK_TIMEOUT", value)
    with pytest.raises(ConfigError, match=r"^BOOTH_LOCK_TIMEOUT='.*': expected seconds"):
        lock.wait_seconds_from_env()


def test_a_lock_timeout_of_seconds_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOTH_LOCK_TIMEOUT", " 0.5 ")
    assert lock.wait_seconds_from_env() == 0.5
    monkeypatch.setenv("BOOTH_LOCK_TIMEOUT", "")
    assert lock.wait_seconds_from_env() == lock.DEFAULT_WAIT_SECONDS


def test_without_xdg_runtime_dir_each_user_has_a_lock_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    assert lock.lock_dir().name == f"booth-locks-{os.getuid()}"


@pytest.mark.parametrize("shape", ["runtime dir a file", "lock file a directory", "lock a link"])
def test_an_unusable_lock_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    if shape == "runtime dir a file":
        (tmp_path / "run").write_text("")
    else:
        path = lock.lock_path("unix:///x", "demo")
        path.parent.mkdir(parents=True)
        if shape == "lock file a directory":
            path.mkdir()
        else:
            path.symlink_to(tmp_path / "elsewhere")  # planted: never followed
    held = lock.instance_lock("unix:///x", "demo", 0)
    with pytest.raises(ConfigError, match=r"^cannot use the instance lock file "), held:
        pass
    assert not (tmp_path / "elsewhere").exists()


# -- a typo of a command ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "command"),
    [(["stauts"], "status"), (["-q", "aply"], "apply"), (["-C", ".", "destory"], "destroy")],
)
def test_a_word_close_to_a_command_gets_a_hint(
    capsys: pytest.CaptureFixture[str], argv: list[str], command: str
) -> None:
    assert main(argv) == 1
    assert capsys.readouterr().err.endswith(f"; did you mean `{command}`?\n")


@pytest.mark.parametrize(
    "argv",
    [["-p", "8080:8080"], ["--variant", "x"], ["-C", ".", "--variant=x"], ["bash"], ["ls"], []],
)
def test_a_session_s_words_are_no_typo(argv: list[str]) -> None:
    check_misspelled_command(argv, GLOBAL_OPTIONS, COMMANDS)  # does not raise
    assert not set(argv) & set(COMMANDS)


# -- control bytes, certificate names ---------------------------------------------------------


def test_control_bytes_are_shown_escaped() -> None:
    assert shown("a\x1b[2Jb\rc\x85d\u2028e\x7f") == "a\\x1b[2Jb\\x0dc\\x85d\\u2028e\\x7f"
    assert shown("café ☃") == "café ☃"


def test_an_error_printed_by_booth_has_no_raw_control_byte(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-C", str(tmp_path / "x\x1b[2Jy"), "plan", "--offline"]) == 1
    err = capsys.readouterr().err
    assert "\x1b" not in err and "x\\x1b[2Jy" in err


@pytest.mark.parametrize("length", [1, 50, 55, 64, 128, 140])
def test_a_common_name_fits_x509_and_stays_unique(length: int) -> None:
    instance = "p" * length + "-10000"
    name = common_name("booth CA ", instance)
    assert len(name) <= MAX_COMMON_NAME
    assert name != common_name("booth CA ", "q" + instance[1:])
    if len("booth CA " + instance) <= MAX_COMMON_NAME:
        assert name == "booth CA " + instance


def test_plan_text_shows_a_value_s_control_bytes_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".booth").mkdir()
    (tmp_path / ".booth" / "config.toml").write_text('name = "esc"\n')
    argv = ["-C", str(tmp_path), "plan", "--offline", "--run-arg=--label=k=a\x1b[2J\nb"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert any(line.strip() == "labels: k=a\\x1b[2J\\x0ab" for line in out.splitlines())
