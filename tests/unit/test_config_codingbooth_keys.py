"""``load_config`` and CodingBooth's keys: its command line, its session keys, the image
contract (``CB_*``) and the booth port's resolver.

``booth`` with no command takes CodingBooth's flags (``--variant kde``, ``--port 10003``):
they are config keys that win over the file's. The file is still the one read (its other
keys, its path in messages, ``CB_CONFIG_FILE``); without a file there is none to name.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from reconciler.config.booth_config import CliInputs, load_config, with_context_digest
from reconciler.errors import ConfigError, RunArgError


@pytest.fixture
def code(tmp_path: Path) -> Path:
    directory = tmp_path / "demo"
    directory.mkdir()
    return directory


def write(code: Path, text: str) -> Path:
    path = code / ".booth" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def config_file_env(contract: tuple[str, ...]) -> str:
    return next(item for item in contract if item.startswith("CB_CONFIG_FILE="))


def test_command_line_keys_win_over_the_files_and_keep_the_rest(code: Path) -> None:
    path = write(code, 'port = 10001\nvariant = "base"\ndind-image = "docker:27-dind"\n')
    cli = CliInputs(overrides=(("variant", "kde"), ("dind", True)))
    config = load_config(str(code), cli=cli, host_env={})
    assert (config.variant, config.dind, config.port) == ("desktop-kde", True, 10001)
    assert config.dind_image == "docker:27-dind"
    assert config.config_file == str(path)
    assert config_file_env(config.contract_env) == f"CB_CONFIG_FILE={path}"


def test_command_line_keys_without_a_file_name_no_file(code: Path) -> None:
    # Bug fixed: the overrides made the table non-empty, and the default path of a file
    # that does not exist was given as the config file (CB_CONFIG_FILE in the booth).
    config = load_config(str(code), cli=CliInputs(overrides=(("port", 10003),)), host_env={})
    assert config.port == 10003
    assert config.config_file is None
    assert config_file_env(config.contract_env) == "CB_CONFIG_FILE="


def test_a_file_with_only_comments_is_still_the_config_file(code: Path) -> None:
    path = write(code, "# nothing set yet\n")
    assert load_config(str(code), host_env={}).config_file == str(path)


def test_the_files_run_args_are_named_by_the_file_when_keys_come_from_the_command_line(
    code: Path,
) -> None:
    path = write(code, 'run-args = ["--cidfile", "id"]\n')
    with pytest.raises(RunArgError) as caught:
        load_config(str(code), cli=CliInputs(overrides=(("variant", "kde"),)), host_env={})
    assert str(caught.value).startswith(f"unsupported run-arg '--cidfile' ({path} run-args); ")


def test_a_bad_command_line_value_is_refused_like_the_files(code: Path) -> None:
    with pytest.raises(ConfigError, match="variant must be one of base, notebook"):
        load_config(str(code), cli=CliInputs(overrides=(("variant", "fancy"),)), host_env={})


@pytest.mark.parametrize("setting", ["NEXT", "random"])
def test_a_chosen_port_comes_from_the_resolver(code: Path, setting: str) -> None:
    write(code, f'name = "web"\nport = "{setting}"\n')
    asked: list[tuple[str, Path, str]] = []

    def resolve(choice: str, directory: Path, name: str) -> int:
        asked.append((choice, directory, name))
        return 10077

    config = load_config(str(code), host_env={}, resolve_port=resolve)
    assert config.port == 10077
    assert asked == [(setting.upper(), code.resolve(), "web")]
    # The booth sees both: the port and the setting it came from, as CodingBooth shows them.
    assert {"CB_HOST_PORT=10077", f"CB_PORT={setting.upper()}"} <= set(config.contract_env)


def test_a_numbered_port_is_its_own_setting(code: Path) -> None:
    write(code, "port = 10004\n")
    config = load_config(str(code), host_env={})
    assert {"CB_HOST_PORT=10004", "CB_PORT=10004"} <= set(config.contract_env)


def test_command_line_build_args_come_after_the_files(code: Path) -> None:
    (code / ".booth").mkdir()
    (code / ".booth" / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    write(code, 'build-args = ["--build-arg", "A=1", "--build-arg", "C=1"]\n')
    cli = CliInputs(build_args=("--build-arg", "B=2", "--build-arg", "A=3"))
    build = load_config(str(code), cli=cli, host_env={}).build
    assert build is not None
    args = dict(build.build_args)
    assert (args["A"], args["B"], args["C"]) == ("3", "2", "1")  # the command line's A wins


def test_cmds_expand_the_host_environment(code: Path) -> None:
    path = write(code, 'cmds = ["echo $GREETING", "$UNSET_X"]\n')
    config = load_config(str(code), host_env={"GREETING": "hi"})
    assert config.cmds == ("echo hi", "")
    assert config.warnings == (f"{path}:1: cmds: $UNSET_X is not set (expanded to nothing)",)


@pytest.mark.parametrize("value", [True, False])
def test_codingbooths_session_keys_reach_the_config(code: Path, value: bool) -> None:
    flag = str(value).lower()
    write(code, f"silence-build = {flag}\nkeep-alive = {flag}\ndaemon = {flag}\n")
    config = load_config(str(code), host_env={})
    assert (config.silence_build, config.keep_alive, config.daemon) == (value, value, value)


def test_the_image_contract_names_the_dockerfile_and_the_startup_command(code: Path) -> None:
    (code / ".booth").mkdir()
    dockerfile = code / ".booth" / "Dockerfile"
    dockerfile.write_text("FROM scratch\n", encoding="utf-8")
    write(code, 'startup = "make serve"\n')
    contract = set(load_config(str(code), host_env={}).contract_env)
    assert {f"CB_DOCKERFILE={dockerfile.resolve()}", "CB_STARTUP=make serve"} <= contract


def test_without_a_dockerfile_or_startup_the_contract_says_so(code: Path) -> None:
    contract = load_config(str(code), host_env={}).contract_env
    assert "CB_DOCKERFILE=" in contract
    assert not any(item.startswith("CB_STARTUP") for item in contract)


def test_a_deferred_context_hash_completes_the_same_fingerprint(code: Path) -> None:
    """``walk_context=False`` leaves the context's hash to the caller; completing it with
    the walk's digest gives the fingerprint the config computes itself."""
    write(code, "port = 10001\n")
    (code / ".booth" / "Dockerfile").write_text("FROM scratch\nCOPY . /code\n")
    (code / "app.py").write_text("print(1)\n")
    whole = load_config(str(code), host_env={})
    deferred = load_config(str(code), host_env={}, walk_context=False)
    assert deferred.build is not None and deferred.build.fingerprint is None
    assert deferred.build.inputs is not None
    completed = with_context_digest(deferred, deferred.build.inputs.walk.digest())
    assert completed.build is not None and whole.build is not None
    assert completed.build.fingerprint == whole.build.fingerprint is not None
    assert completed == whole


def test_completing_a_config_without_a_build_is_a_caller_error(code: Path) -> None:
    write(code, 'port = 10001\nimage = "busybox"\n')
    config = load_config(str(code), host_env={}, walk_context=False)
    with pytest.raises(ValueError, match=r"^with_context_digest: the config builds no image$"):
        with_context_digest(config, "0" * 64)
    write(code, "port = 10001\n")
    (code / ".booth" / "Dockerfile").write_text("FROM scratch\n")
    built = load_config(str(code), host_env={}, walk_context=False)
    assert built.build is not None
    no_inputs = attrs.evolve(built, build=attrs.evolve(built.build, inputs=None))
    with pytest.raises(ValueError, match=r"^with_context_digest: the config builds no image$"):
        with_context_digest(no_inputs, "0" * 64)


@pytest.mark.parametrize(
    ("words", "why"),
    [
        (["--no-cache"], "'--no-cache' is a docker build flag booth does not pass"),
        (["--target", "dev"], "'--target' is a docker build flag booth does not pass"),
        (["--platform=linux/arm64"], "'--platform=linux/arm64' is a docker build flag"),
        (["--network", "host"], "'--network' is a docker build flag booth does not pass"),
        (["--label", "a=b"], "'--label' is a docker build flag booth does not pass"),
        (["--pull"], "'--pull' is not supported in build-args: it is booth's `pull = true`"),
        (["-f", "D"], "'-f' is not supported in build-args: it is booth's `dockerfile` key"),
        (["A=1"], "'A=1' is not supported; build-args takes --build-arg NAME=VALUE"),
    ],
)
def test_a_build_flag_other_than_build_arg_is_refused_by_name(words: list[str], why: str) -> None:
    from reconciler.config.codingbooth import build_args

    with pytest.raises(ConfigError) as caught:
        build_args(["--build-arg", "A=1", *words], "config.toml build-args")
    assert str(caught.value).startswith(f"config.toml build-args: {why}")
