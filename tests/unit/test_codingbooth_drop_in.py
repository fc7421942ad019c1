"""CodingBooth's users switching to booth (issue 20), the pure parts: its command line as
typed there, its ``CB_*`` variables, its command in a login shell, its ``--rm`` daemon,
its argument precedence, the name as the instance's identity, and a session that never
takes over a running booth. The engine side is tests/integration/
test_engine_codingbooth_cli.py."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import attrs
import pytest
from booth_builders import FIXED_CODE, config_from_toml, desired_from_toml, observed

from reconciler.app.piping import HEADER, Frames, piped
from reconciler.app.session import refuse_taking_over
from reconciler.apply.progress import PipedProgress
from reconciler.cli.main import main
from reconciler.cli.session_words import first_word, is_session, parse
from reconciler.config.booth_config import CliInputs, load_config
from reconciler.config.codingbooth import login_shell_command
from reconciler.config.codingbooth_env import parse_bool, settings_from_env
from reconciler.core.model import (
    LABEL_CODE_DIR,
    LABEL_INSTANCE,
    LABEL_MANAGED,
    LABEL_PORT,
    ActualState,
    Kind,
    Role,
    is_owned,
    resource_names,
)
from reconciler.core.plan import Op, make_plan
from reconciler.core.reconcile import Action, ReasonCode, reconcile
from reconciler.engine.observe import instance_ports
from reconciler.errors import ConfigError, InstanceTakenError

# -- the command line as CodingBooth users type it ------------------------------------


def test_dash_v_is_a_volume_in_a_session_and_verbose_before_a_command() -> None:
    args = parse(["-v", "/a:/b", "--", "ls"])
    assert args.run_args == ("-v", "/a:/b") and not args.verbose
    assert parse(["--verbose"]).verbose
    assert not is_session(["-v", "plan"], ("plan",))


@pytest.mark.parametrize(
    ("words", "session"),
    [(["--version"], False), (["--version", "0.12.0"], True), (["--version=0.12.0"], True)],
)
def test_version_alone_prints_and_with_a_value_selects_the_image(
    words: list[str], session: bool
) -> None:
    assert is_session(words, ("plan",)) is session
    if session:
        assert dict(parse(words).overrides)["version"] == "0.12.0"


def test_flags_with_their_value_after_an_equals_sign() -> None:
    args = parse(["--port=31705", "--variant=ide", "--dind=false", "--build-arg=A=1"])
    assert dict(args.overrides) == {"port": "31705", "variant": "ide", "dind": False}
    assert args.build_args == ("--build-arg", "A=1")
    with pytest.raises(ConfigError, match=r"--dind=maybe: expected true or false"):
        parse(["--dind=maybe"])


def test_env_file_and_dockerfile_on_the_command_line_are_relative_to_the_working_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    overrides = dict(parse(["--env-file", "x.env", "--dockerfile", "D"]).overrides)
    assert overrides == {"env-file": str(tmp_path / "x.env"), "dockerfile": str(tmp_path / "D")}
    assert dict(parse(["--env-file", "-"]).overrides) == {"env-file": "-"}


def test_version_and_help_are_words_too(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", "/", "version"]) == 0
    assert "CodingBooth 0.13.0 compatible" in capsys.readouterr().out
    assert main(["help"]) == 0
    assert capsys.readouterr().out.startswith("usage: booth")
    assert first_word(["-C", "x", "--config=y", "version"]) == "version"


# -- CB_* variables -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", True), ("t", True), ("TRUE", True), ("True", True), ("0", False), ("F", False)],
)
def test_booleans_are_read_as_go_reads_them(text: str, value: bool) -> None:
    assert parse_bool(text) is value
    assert parse_bool("yes") is None


def test_variables_become_config_keys_and_name_themselves_in_errors() -> None:
    values, sources = settings_from_env(
        {"CB_PORT": "31000", "CB_DIND": "1", "CB_RUN_ARGS": "-e A=1; -p 80:80", "CB_NAME": ""}
    )
    assert values == {"port": "31000", "dind": True, "run-args": "-e A=1; -p 80:80"}
    assert sources["port"] == "CB_PORT"
    with pytest.raises(ConfigError, match=r"environment CB_KEEP_ALIVE='sure': expected"):
        settings_from_env({"CB_KEEP_ALIVE": "sure"})


def _code(tmp_path: Path, toml: str = "") -> Path:
    code = tmp_path / "proj"
    (code / ".booth").mkdir(parents=True)
    (code / ".booth" / "config.toml").write_text(toml)
    return code


def test_the_file_wins_over_the_environment_and_the_command_line_over_both(
    tmp_path: Path,
) -> None:
    code = _code(tmp_path, "port = 12000\n")
    env = {"CB_PORT": "11000", "CB_NAME": "from-env", "CB_RUN_ARGS": "-e;A=1", "CB_DIND": "t"}
    config = load_config(str(code), host_env=env)
    assert (config.port, config.name, config.dind) == (12000, "from-env", True)
    assert "A=1" in config.booth_fields.get("Env")
    cli = CliInputs(overrides=(("port", "13000"), ("name", "flag")))
    flagged = load_config(str(code), cli=cli, host_env=env)
    assert (flagged.port, flagged.name) == (13000, "flag")
    with pytest.raises(ConfigError, match=r"^environment CB_VARIANT: variant must be one of"):
        load_config(str(code), host_env={"CB_VARIANT": "fancy"})


def test_cb_config_names_the_file_only_where_nothing_else_does(tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text('name = "from-cb-config"\n')
    bare = tmp_path / "bare"
    bare.mkdir()
    assert load_config(str(bare), host_env={"CB_CONFIG": str(other)}).name == "from-cb-config"
    code = _code(tmp_path, 'name = "own"\n')
    assert load_config(str(code), host_env={"CB_CONFIG": str(other)}).name == "own"


# -- the command, the daemon, the precedence --------------------------------------------


def test_a_session_runs_its_command_in_a_login_shell() -> None:
    assert login_shell_command(["echo", "$X", ">", "f"]) == ("bash", "-lc", "echo $X > f")
    assert login_shell_command([]) is None
    cli = CliInputs(cmds=("exit", "7"), login_shell=True)
    assert config_from_toml("", cli=cli).cmds == ("bash", "-lc", "exit 7")
    from_file = config_from_toml('cmds = ["make", "test"]\n', cli=CliInputs(login_shell=True))
    assert from_file.cmds == ("bash", "-lc", "make test")
    # booth's own verbs keep docker's argv.
    assert config_from_toml("", cli=CliInputs(cmds=("exit", "7"))).cmds == ("exit", "7")


def test_a_daemon_booth_is_removed_when_its_command_ends_unless_kept_alive() -> None:
    def auto_remove(toml: str) -> object:
        booth = desired_from_toml(toml).get(Role.BOOTH)
        assert booth is not None
        return booth.spec["HostConfig"].get("AutoRemove")

    assert auto_remove("daemon = true\n") is True
    assert auto_remove("daemon = true\nkeep-alive = true\n") is None
    assert auto_remove("") is None


def _booth_env(toml: str) -> dict[str, str]:
    booth = desired_from_toml(toml).get(Role.BOOTH)
    assert booth is not None
    return dict(item.partition("=")[::2] for item in booth.spec["Env"])


def test_common_args_lose_to_the_contract_and_run_args_win_over_it() -> None:
    env = _booth_env('common-args = ["-e", "HOST_UID=5", "-e", "MINE=1", "-w", "/a"]\n')
    assert (env["HOST_UID"], env["MINE"]) == ("1000", "1")
    booth = desired_from_toml('common-args = ["-w", "/a"]\nrun-args = ["-w", "/b"]\n').get(
        Role.BOOTH
    )
    assert booth is not None and booth.spec["WorkingDir"] == "/b"
    only_common = desired_from_toml('common-args = ["-w", "/a"]\n').get(Role.BOOTH)
    assert only_common is not None and only_common.spec["WorkingDir"] == "/home/coder/code"
    both = 'common-args = ["-e", "HOST_UID=5"]\nrun-args = ["-e", "HOST_UID=6"]\n'
    assert _booth_env(both)["HOST_UID"] == "6"


# -- the name is the identity -----------------------------------------------------------


def test_names_follow_codingbooth() -> None:
    assert resource_names("app", 10000) == {
        Role.NETWORK: "app-10000-net",
        Role.VOLUME: "app-dind-data",
        Role.SIDECAR: "app-10000-dind",
        Role.BOOTH: "app",
    }


def test_an_earlier_booths_label_counts_only_without_a_port_label() -> None:
    old = {LABEL_MANAGED: "true", LABEL_INSTANCE: "app-10000"}
    assert is_owned(old, "app", legacy="app-10000")
    assert not is_owned(old, "app")
    assert not is_owned({**old, LABEL_PORT: "11000"}, "app", legacy="app-10000")
    assert not is_owned({**old, LABEL_INSTANCE: "app-100"}, "app", legacy="app-10000")


def test_next_finds_the_port_in_either_labelling() -> None:
    listed = [
        {"Labels": {LABEL_INSTANCE: "app", LABEL_PORT: "12000"}},
        {"Labels": {LABEL_INSTANCE: "app-11000"}},
        {"Labels": {LABEL_INSTANCE: "app-1", LABEL_PORT: "13000"}},  # another name
        {"Labels": {LABEL_INSTANCE: "other-14000"}},
    ]
    assert instance_ports(listed, "app") == [11000, 12000]


DIND = 'dind = true\nport = 11000\nname = "app"\n'


def _running(desired_text: str, *, port: int = 11000) -> ActualState:
    """What apply made of ``desired_text`` at ``port``."""
    made = desired_from_toml(desired_text.replace("11000", str(port)))
    return ActualState(tuple(observed(r) for r in made))


def test_a_port_change_replaces_sidecar_network_and_booth_and_keeps_the_volume() -> None:
    desired = desired_from_toml(DIND.replace("11000", "12000"))
    changes = {c.role: c for c in reconcile(desired, _running(DIND))}
    assert changes[Role.SIDECAR].reason_code == ReasonCode.NAME_CHANGED
    assert changes[Role.NETWORK].action == Action.REPLACE
    assert changes[Role.BOOTH].action == Action.REPLACE
    assert changes[Role.VOLUME].action == Action.NONE  # app-dind-data: the same name
    plan = make_plan(desired.instance, reconcile(desired, _running(DIND)))
    removed = {s.name for s in plan.steps if s.op in (Op.REMOVE_CONTAINER, Op.REMOVE_NETWORK)}
    assert removed == {"app-11000-dind", "app-11000-net", "app"}
    assert len([s for s in plan.steps if s.op == Op.REMOVE_CONTAINER]) == 2  # none twice


def test_an_earlier_booths_objects_are_replaced_and_its_volume_kept() -> None:
    desired = desired_from_toml(DIND)
    legacy = ActualState(
        tuple(
            attrs.evolve(
                observed(r),
                legacy=True,
                name={"app": "app-11000", "app-dind-data": "app-11000-dind-data"}.get(
                    r.name, r.name
                ),
            )
            for r in desired
        )
    )
    changes = {(c.role, c.action): c for c in reconcile(desired, legacy)}
    assert changes[(Role.SIDECAR, Action.REPLACE)].reason_code == ReasonCode.LEGACY_LABELS
    assert changes[(Role.NETWORK, Action.REPLACE)].reason_code == ReasonCode.LEGACY_LABELS
    assert changes[(Role.BOOTH, Action.REPLACE)].reason_code == ReasonCode.NAME_CHANGED
    assert changes[(Role.VOLUME, Action.CREATE)].actual is None  # the old volume stays
    assert not any(c.kind == Kind.VOLUME and c.action == Action.REMOVE for c in changes.values())


def test_a_name_held_by_another_code_dir_is_refused() -> None:
    desired = desired_from_toml(DIND)
    theirs = ActualState(
        tuple(
            attrs.evolve(observed(r), code_dir="/elsewhere" if r.role == Role.BOOTH else None)
            for r in desired
        )
    )
    with pytest.raises(InstanceTakenError, match=r"already exists for /elsewhere"):
        reconcile(desired, theirs)
    booth = desired.get(Role.BOOTH)
    assert booth is not None and dict(booth.extra_labels)[LABEL_CODE_DIR] == FIXED_CODE


def test_a_session_does_not_take_over_a_running_booth() -> None:
    desired = desired_from_toml(DIND)
    actual = _running(DIND)
    plan = make_plan(desired.instance, reconcile(desired, actual))
    refuse_taking_over(plan, attending=False)  # unchanged and running: left alone
    with pytest.raises(InstanceTakenError, match=r"running already"):
        refuse_taking_over(plan, attending=True)
    changed = desired_from_toml(DIND + 'cmds = ["other"]\n')
    replacing = make_plan(changed.instance, reconcile(changed, actual))
    with pytest.raises(InstanceTakenError):
        refuse_taking_over(replacing, attending=False)
    stopped = ActualState(
        tuple(attrs.evolve(o, state="exited") if o.role == Role.BOOTH else o for o in actual)
    )
    refuse_taking_over(make_plan(changed.instance, reconcile(changed, stopped)), attending=True)


# -- stdin without a terminal, and a build's output ---------------------------------------


def _frame(stream: int, payload: bytes) -> bytes:
    return HEADER.pack(stream, len(payload)) + payload


def test_frames_are_reassembled_across_chunks() -> None:
    data = _frame(1, b"out") + _frame(2, b"err") + _frame(1, b"")
    frames = Frames()
    got = [f for i in range(len(data)) for f in frames.feed(data[i : i + 1])]
    assert got == [(1, b"out"), (2, b"err"), (1, b"")]


def test_stdin_is_sent_then_closed_and_output_split() -> None:
    ours, engine = socket.socketpair()
    stdin_r, stdin_w = os.pipe()
    os.write(stdin_w, b"hello\n")
    os.close(stdin_w)
    engine.sendall(_frame(1, b"to-out") + _frame(2, b"to-err") + _frame(1, b""))
    received = bytearray()

    def engine_side() -> None:
        while chunk := engine.recv(100):  # b"" once booth shut its write half
            received.extend(chunk)
        engine.close()

    thread = threading.Thread(target=engine_side)
    thread.start()
    chunks = list(piped(ours, stdin_fd=stdin_r))
    thread.join(5)
    os.close(stdin_r)
    assert bytes(received) == b"hello\n"
    assert chunks == [(b"to-out", None), (None, b"to-err")]  # an empty frame is no chunk


def test_piped_output_shows_a_builds_lines_without_escapes(tmp_path: Path) -> None:
    path = tmp_path / "stderr"
    with open(path, "w") as stream:
        progress = PipedProgress(stream)
        progress.note("build: \x1b[32mStep 1/2\x1b[0m : FROM x")
        progress.note("pulling docker:dind: 3/7 layers")
    assert path.read_text() == "Step 1/2 : FROM x\n"


# -- the migration guide covers all of it -------------------------------------------------

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "migrating-from-codingbooth.md").read_text()


def test_the_migration_guide_names_every_codingbooth_flag_key_and_variable() -> None:
    from reconciler.cli.session_words import MODE_FLAGS, SWITCHES, VALUE_FLAGS
    from reconciler.config.codingbooth_env import CONFIG_VARIABLE, ENV_KEYS

    flags = {*VALUE_FLAGS, *SWITCHES, *MODE_FLAGS, "--code", "--config", "--build-arg"}
    flags -= {"--quiet", "-q"}  # booth's own
    keys = {*ENV_KEYS.values(), "code", "config"}
    variables = {*ENV_KEYS, CONFIG_VARIABLE, "CB_CODE"}
    missing = [f for f in sorted(flags | keys | variables) if f"`{f}" not in GUIDE]
    assert missing == []


# -- a booth in a dead namespace (the stateful test's find) --------------------------------


@pytest.mark.parametrize(
    ("booth", "sidecar", "dead"),
    [
        ("2026-12-06T05:00:00.1Z", "2026-12-06T05:00:01.123456789Z", True),
        ("2026-12-06T05:00:02Z", "2026-12-06T05:00:01.999999999Z", False),
        ("2026-12-06T06:00:00+01:00", "2026-12-06T05:00:00.5Z", True),
        ("0001-01-01T00:00:00Z", "2026-12-06T05:00:00Z", False),
        (None, "2026-12-06T05:00:00Z", False),
        ("not a time", "2026-12-06T05:00:00Z", False),
    ],
)
def test_a_booth_started_before_its_sidecar_is_restarted(
    booth: str | None, sidecar: str | None, dead: bool
) -> None:
    desired = desired_from_toml(DIND)
    times = {Role.BOOTH: booth, Role.SIDECAR: sidecar}
    actual = ActualState(
        tuple(attrs.evolve(o, started_at=times.get(o.role)) for o in _running(DIND))
    )
    change = {c.role: c for c in reconcile(desired, actual)}[Role.BOOTH]
    expected = Action.RESTART if dead else Action.NONE
    assert change.action == expected
    if dead:
        assert change.reason_code == ReasonCode.NAMESPACE_OWNER_RESTARTED
        plan = make_plan(desired.instance, reconcile(desired, actual))
        assert [s.op for s in plan.steps] == [Op.WAIT_READY, Op.RESTART_CONTAINER]
