"""``booth`` with no command reads CodingBooth's command line (initialize_app_context.go
``parseArgs``): its flags anywhere, unknown words as docker run arguments, ``--`` CMD."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli.command_set import NAMES as COMMANDS
from reconciler.cli.main import main
from reconciler.cli.session_words import is_session, parse
from reconciler.errors import ConfigError


@pytest.mark.parametrize(
    ("words", "session"),
    [
        ([], True),
        (["-p", "5000:5000"], True),
        (["--variant", "ide"], True),
        (["-C", "dir", "--dind"], True),
        (["-v"], True),
        (["-C", "dir", "plan"], False),
        (["--config=x.toml", "apply"], False),
        (["-q", "status", "--json"], False),
        (["--help"], False),
        (["--version"], False),
        (["--", "bash"], True),
    ],
)
def test_a_session_is_any_command_line_without_a_booth_command(
    words: list[str], session: bool
) -> None:
    assert is_session(words, COMMANDS) is session


def test_codingbooth_flags_map_to_config_keys_and_the_rest_are_run_args() -> None:
    args = parse(
        [
            "--variant",
            "ide",
            "-p",
            "5000:5000",
            "--dind",
            "--port",
            "NEXT",
            "--code",
            "/work/app",
            "-e",
            "A=1",
            "--build-arg",
            "X=1",
            "--keep-alive",
            "--",
            "bash",
            "-l",
        ]
    )
    assert dict(args.overrides) == {
        "variant": "ide",
        "dind": True,
        "port": "NEXT",
        "keep-alive": True,
    }
    assert args.run_args == ("-p", "5000:5000", "-e", "A=1")
    assert args.build_args == ("--build-arg", "X=1")
    assert args.code_dir == "/work/app"
    assert args.cmds == ("bash", "-l")


def test_mode_flags_are_about_the_invocation() -> None:
    args = parse(["--dryrun", "--verbose", "--log-format", "json"])
    assert (args.dryrun, args.verbose, args.pull, args.log_format) == (True, True, False, "json")
    assert args.overrides == () and args.run_args == ()


def test_pull_sets_the_pull_key_for_this_run() -> None:
    args = parse(["--pull", "--dryrun"])
    assert args.pull is True and args.dryrun is True
    assert args.overrides == (("pull", True),) and args.run_args == ()


@pytest.mark.parametrize("flag", ["--variant", "--port", "--name", "--build-arg", "--code"])
def test_a_flag_without_its_value_is_an_error(flag: str) -> None:
    with pytest.raises(ConfigError, match=f"command line {flag} requires a value"):
        parse([flag])
    with pytest.raises(ConfigError, match="requires a value"):
        parse([flag, ""])


@pytest.mark.parametrize(
    ("flag", "value", "expected"),
    [("--variant", "fancy", "variant must be one of"), ("--port", "abc", "port must be")],
)
def test_a_bad_flag_value_names_the_flag_not_the_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, expected: str
) -> None:
    (tmp_path / ".booth").mkdir()
    (tmp_path / ".booth" / "config.toml").write_text('variant = "base"\nport = 10000\n')
    assert main(["-C", str(tmp_path), flag, value, "--dryrun"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"booth: error: command line {flag}: {expected}"), err
    assert "config.toml" not in err and len(err.splitlines()) == 1


def test_a_bad_value_in_the_config_file_still_names_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".booth").mkdir()
    (tmp_path / ".booth" / "config.toml").write_text('port = 10000\nvariant = "fancy"\n')
    assert main(["-C", str(tmp_path), "--port", "10001", "--dryrun"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"booth: error: {tmp_path / '.booth' / 'config.toml'}:2: variant"), err
