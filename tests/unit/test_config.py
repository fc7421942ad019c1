"""``.booth/config.toml`` + command line → BoothConfig: defaults, aliases, every error path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.config.booth_config import (
    BoothConfig,
    CliInputs,
    derive_project_name,
    load_config,
)
from reconciler.errors import ConfigError, PortError, RunArgError


def write_config(code: Path, text: str) -> Path:
    path = code / ".booth" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


NO_CLI = CliInputs()


@pytest.fixture
def code(tmp_path: Path) -> Path:
    directory = tmp_path / "demo-app"
    directory.mkdir()
    return directory


def load(
    code: Path,
    text: str | None = None,
    *,
    cli: CliInputs = NO_CLI,
    env: dict[str, str] | None = None,
) -> BoothConfig:
    if text is not None:
        write_config(code, text)
    return load_config(str(code), cli=cli, host_env={} if env is None else env)


# --- defaults --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("basename", "expected"),
    [
        ("demo", "demo"),
        ("MyApp", "myapp"),
        ("My Project!", "my-project-"),
        ("my_app.v2", "my-app-v2"),
        ("___", "booth"),
        ("_lead", "lead"),
        ("café", "caf-"),
    ],
)
def test_project_name_derivation(basename: str, expected: str) -> None:
    assert derive_project_name(f"/somewhere/{basename}") == expected


def test_project_name_of_the_root_dir_is_booth() -> None:
    assert derive_project_name("/") == "booth"


def test_project_name_derivation_from_the_code_dir(tmp_path: Path) -> None:
    code = tmp_path / "Hello World"
    code.mkdir()
    config = load_config(str(code), host_env={})
    assert (config.project_name, config.name, config.instance) == (
        "hello-world",
        "hello-world",
        "hello-world",
    )


def test_defaults_without_a_config_file(code: Path) -> None:
    config = load(code)
    assert config.code_dir == str(code.resolve())
    assert config.config_file is None
    assert config.project_name == config.name == "demo-app"
    assert config.port == 10000
    assert config.variant == "base"
    assert config.image == "nawaman/codingbooth:base-0.13.0"
    assert config.dind is False
    assert config.dind_image == "docker:dind"
    assert config.cmds is None
    assert config.host_ip == "127.0.0.1"
    assert config.ready_timeout == 120.0
    assert config.keep_dind_data is True
    assert config.allow_daemon_port is False
    assert config.ports.canonical() == ["127.0.0.1:10000:10000/tcp"]
    assert config.warnings == ()


def test_every_known_key(code: Path) -> None:
    config = load(
        code,
        """
        project-name = "proj"
        name = "box"
        port = 10005
        variant = "ide"
        image = "example/booth:1"
        dind = true
        dind-image = "docker:27-dind"
        run-args = ["-e", "A=1"]
        cmds = ["bash", "-l"]
        host-ip = "0.0.0.0"
        ready-timeout = 30
        keep-dind-data = false
        allow-daemon-port = true
    """,
    )
    assert config.project_name == "proj"
    assert config.instance == "box"
    assert config.variant == "codeserver"
    assert config.image == "example/booth:1"
    assert config.dind is True
    assert config.dind_image == "docker:27-dind"
    assert config.booth_fields.get("Env") == ["A=1"]
    assert config.cmds == ("bash", "-l")
    assert config.host_ip == "0.0.0.0"
    assert config.ready_timeout == 30.0
    assert config.keep_dind_data is False
    assert config.allow_daemon_port is True
    assert config.ports.canonical() == ["0.0.0.0:10005:10000/tcp"]


def test_name_defaults_to_project_name(code: Path) -> None:
    assert load(code, 'project-name = "proj"\n').name == "proj"


@pytest.mark.parametrize(
    ("given", "variant"),
    [
        ("base", "base"),
        ("notebook", "notebook"),
        ("codeserver", "codeserver"),
        ("desktop-xfce", "desktop-xfce"),
        ("desktop-kde", "desktop-kde"),
        ("default", "base"),
        ("console", "base"),
        ("ide", "codeserver"),
        ("desktop", "desktop-xfce"),
        ("xfce", "desktop-xfce"),
        ("kde", "desktop-kde"),
    ],
)
def test_variants_aliases_and_image_default(code: Path, given: str, variant: str) -> None:
    config = load(code, f'variant = "{given}"\n')
    assert config.variant == variant
    assert config.image == f"nawaman/codingbooth:{variant}-0.13.0"


def test_image_overrides_variant(code: Path) -> None:
    assert load(code, 'variant = "kde"\nimage = "mine:1"\n').image == "mine:1"


@pytest.mark.parametrize(
    "run_args",
    [
        '["-p", "8080:8080", "-e", "A=1", "--privileged"]',
        '"-p;8080:8080;-e;A=1;--privileged"',
        '" -p ; 8080:8080 ;; -e;A=1;--privileged; "',
    ],
)
def test_run_args_as_array_or_semicolon_string(code: Path, run_args: str) -> None:
    config = load(code, f"dind = true\nrun-args = {run_args}\n")
    assert config.ports.canonical() == ["127.0.0.1:10000:10000/tcp", "127.0.0.1:8080:8080/tcp"]
    assert config.booth_fields.get("Env") == ["A=1"]
    assert config.booth_fields.get("HostConfig.Privileged") is True


def test_codingbooth_run_mode_keys_are_read_and_checked(code: Path) -> None:
    config = load(code, "dryrun = true\nverbose = true\nport = 10001\n")
    assert (config.dryrun, config.verbose, config.port, config.warnings) == (True, True, 10001, ())
    with pytest.raises(ConfigError, match=r"dryrun must be true or false"):
        load(code, 'dryrun = "x"\n')


def test_codingbooth_path_keys_give_one_warning_each(code: Path) -> None:
    path = write_config(code, 'code = "x"\nconfig = "y"\n')
    config = load_config(str(code), host_env={})
    assert len(config.warnings) == 2
    for key, warning in zip(("code", "config"), config.warnings, strict=True):
        assert str(path) in warning and repr(key) in warning and "ignored" in warning


def test_pull_is_a_boolean_key_off_by_default(code: Path) -> None:
    assert load(code, "").pull is False
    config = load(code, "pull = true\n")
    assert config.pull is True and config.warnings == ()
    with pytest.raises(ConfigError, match=r"pull.*true or false"):
        load(code, 'pull = "yes"\n')


def test_the_command_line_turns_pull_on(code: Path) -> None:
    write_config(code, "pull = false\n")
    config = load_config(str(code), cli=CliInputs(overrides=(("pull", True),)), host_env={})
    assert config.pull is True


def test_explicit_config_file(code: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text("port = 10009\n", encoding="utf-8")
    write_config(code, "port = 10001\n")
    config = load_config(str(code), str(other), host_env={})
    assert config.port == 10009
    assert config.config_file == str(other)


def test_cli_inputs_merge_after_the_config(code: Path) -> None:
    write_config(code, 'dind = true\ncmds = ["zsh"]\nrun-args = ["-p", "8080:8080", "-w", "/a"]\n')
    cli = CliInputs(
        publish=("5000:5000", "8080:8080"), run_args=("-w", "/b", "-e", "X=1"), cmds=("bash", "-l")
    )
    config = load(code, cli=cli)
    assert config.ports.canonical() == [
        "127.0.0.1:10000:10000/tcp",
        "127.0.0.1:5000:5000/tcp",
        "127.0.0.1:8080:8080/tcp",
    ]
    assert config.booth_fields.get("WorkingDir") == "/b"
    assert config.booth_fields.get("Env") == ["X=1"]
    assert config.cmds == ("bash", "-l")


def test_config_cmds_stay_without_a_cli_command(code: Path) -> None:
    assert load(code, 'cmds = ["zsh"]\n').cmds == ("zsh",)


def test_host_ip_applies_to_specs_without_one(code: Path) -> None:
    config = load(code, 'host-ip = ""\nrun-args = ["-p", "8080:80", "-p", "10.0.0.1:9090:90"]\n')
    # "" is Docker's own default address (all interfaces, both families), written as
    # docker run -p writes it.
    assert config.ports.canonical() == [
        "10.0.0.1:9090:90/tcp",
        ":10000:10000/tcp",
        ":8080:80/tcp",
    ]
    assert load(code, 'host-ip = "0:0::1"\n').ports.canonical() == ["[::1]:10000:10000/tcp"]


# --- run-args that read or name host paths -----------------------------------------------


def test_relative_volume_sources_resolve_against_the_code_dir(code: Path) -> None:
    config = load(
        code,
        'run-args = ["-v", "./data:/data", "-v", ".:/all:ro", "-v", "../up:/up", '
        '"-v", "cache:/cache", "-v", "/abs:/abs", "-v", "/anon", "-v", "~/h:/h"]\n',
        env={"HOME": str(Path("~").expanduser())},
    )
    resolved = code.resolve()
    assert config.booth_fields.get("HostConfig.Binds") == [
        f"{resolved}/data:/data",
        f"{resolved}:/all:ro",
        f"{resolved.parent}/up:/up",
        "cache:/cache",
        "/abs:/abs",
        f"{Path('~').expanduser()}/h:/h",
    ]
    assert config.booth_fields.get("Volumes") == {"/anon": {}}


def test_env_file_is_read_relative_to_the_code_dir(code: Path) -> None:
    (code / "vars.env").write_text(
        "# comment\n\nA=1\n  B=two words  \nFROM_HOST\nNOT_ON_HOST\n", encoding="utf-8"
    )
    config = load(
        code,
        'run-args = ["--env-file", "vars.env", "-e", "C=3", "-e", "FROM_HOST"]\n',
        env={"FROM_HOST": "h"},
    )
    assert config.booth_fields.get("Env") == [
        "A=1",
        "B=two words  ",
        "FROM_HOST=h",
        "C=3",
        "FROM_HOST=h",
    ]
    assert "HostConfig.EnvFile" not in config.booth_fields


def test_missing_env_file_names_the_flag_and_path(code: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(code, 'run-args = ["--env-file", "nope.env"]\n')
    message = str(info.value)
    assert "'--env-file' 'nope.env'" in message
    assert str(code.resolve() / "nope.env") in message


# --- errors: file, line, key -------------------------------------------------------------


def test_missing_code_dir(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^-C .*/absent: no such directory$"):
        load_config(str(tmp_path / "absent"), host_env={})


def test_missing_explicit_config_file(code: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--config /no/such\.toml: no such file$"):
        load_config(str(code), "/no/such.toml", host_env={})


def test_malformed_toml_names_file_and_line(code: Path) -> None:
    path = write_config(code, "port = 10000\ndind = yes\n")
    with pytest.raises(ConfigError) as info:
        load_config(str(code), host_env={})
    message = str(info.value)
    assert message.startswith(f"{path}: malformed TOML: ")
    assert "line 2" in message


def test_unreadable_config_file(code: Path) -> None:
    path = code / ".booth" / "config.toml"
    path.parent.mkdir()
    path.write_bytes(b"port = \xff\n")
    with pytest.raises(ConfigError, match=r":1: not UTF-8 \(byte 0xff"):
        load_config(str(code), host_env={})


def test_unknown_key_is_a_warning_naming_file_line_key_and_closest_known_key(
    code: Path,
) -> None:
    """CodingBooth's TOML decoder skips keys it does not know; booth goes on too, but
    says so (a typo would otherwise pass silently)."""
    path = write_config(code, "dind = true\n\nprot = 10001\n")
    config = load_config(str(code), host_env={})
    assert config.warnings == (f"{path}:3: unknown key 'prot' ignored; did you mean 'port'?",)
    assert config.dind is True and config.port == 10000


@pytest.mark.parametrize(
    ("key", "closest"),
    [
        ("run-arg", "run-args"),
        ("keep-dind", "keep-dind-data"),
        ("dind_image", "dind-image"),
        ("hostip", "host-ip"),
        ("allow-daemon", "allow-daemon-port"),
    ],
)
def test_unknown_key_suggestions(code: Path, key: str, closest: str) -> None:
    (warning,) = load(code, f"{key} = 1\n").warnings
    assert f"unknown key '{key}' ignored; did you mean '{closest}'?" in warning


def test_unknown_key_without_a_close_match_has_no_suggestion(code: Path) -> None:
    (warning,) = load(code, "zzzzzz = 1\n").warnings
    assert warning.endswith("unknown key 'zzzzzz' ignored")


@pytest.mark.parametrize(
    "text",
    ["port = 1\n[booth]\nx = 1\n", "port = 1\n[[booth]]\nx = 1\n", "port = 1\nbooth.x = 1\n"],
)
def test_unknown_table_names_its_line(code: Path, text: str) -> None:
    path = write_config(code, text)
    (warning,) = load_config(str(code), host_env={}).warnings
    assert warning.startswith(f"{path}:2: unknown key 'booth' ignored")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('port = "x"', 'port must be an integer in 1..65535, NEXT or RANDOM, got "x"'),
        ("port = 0", "port must be an integer in 1..65535, NEXT or RANDOM, got 0"),
        ("port = 70000", "port must be an integer in 1..65535, NEXT or RANDOM, got 70000"),
        ("port = true", "port must be an integer in 1..65535, NEXT or RANDOM, got true"),
        ("port = 10000.0", "port must be an integer in 1..65535, NEXT or RANDOM, got 10000.0"),
        ('dind = "yes"', 'dind must be true or false, got "yes"'),
        ("keep-dind-data = 1", "keep-dind-data must be true or false, got 1"),
        ("allow-daemon-port = 0", "allow-daemon-port must be true or false"),
        ("ready-timeout = 0", "ready-timeout must be a number of seconds in (0, 86400], got 0"),
        ('ready-timeout = "fast"', "ready-timeout must be a number of seconds"),
        ("ready-timeout = true", "ready-timeout must be a number of seconds"),
        ("run-args = 5", "run-args must be an array of strings or one ';'-separated string"),
        ('run-args = ["-e", 1]', "run-args must be an array of strings"),
        ("cmds = 1", "cmds must be an array of strings or one ';'-separated string, got 1"),
        ('variant = "fancy"', "variant must be one of base, notebook, codeserver"),
        ("variant = 3", "variant must be a string, got 3"),
        ('host-ip = "nowhere"', "host-ip must be an IP address"),
        ('image = ""', "image must be a non-empty string"),
        ('dind-image = "  "', "dind-image must be a non-empty string"),
        ("name = 5", "name must be a string"),
        ('name = "-bad"', 'name "-bad" is not a valid Docker name'),
        ('name = "a"', 'name "a" is not a valid Docker name (two or more'),
        ('project-name = "has space"', 'project-name "has space" is not a valid Docker name'),
        (f'name = "{"a" * 129}"', "name must be at most 128 characters (it has 129)"),
    ],
)
def test_wrong_values_name_file_line_and_key(code: Path, line: str, expected: str) -> None:
    path = write_config(code, f"# booth\n\n{line}\n")
    with pytest.raises(ConfigError) as info:
        load_config(str(code), host_env={})
    message = str(info.value)
    assert message.startswith(f"{path}:3: ")
    assert expected in message


def test_long_values_are_shortened_in_messages(code: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(code, f'port = "{"9" * 200}"\n')
    assert len(str(info.value)) < 200 + len(str(code))
    assert "..." in str(info.value)


def test_port_conflict_between_config_and_cli_names_both_sources(code: Path) -> None:
    path = write_config(code, 'dind = true\nrun-args = ["-p", "8080:8080"]\n')
    with pytest.raises(PortError) as info:
        load(code, cli=CliInputs(publish=("8080:9090",)))
    message = str(info.value)
    assert f"'8080:8080' ({path} run-args)" in message
    assert "'8080:9090' (command line -p)" in message


def test_port_conflict_via_cli_run_arg_names_it(code: Path) -> None:
    with pytest.raises(PortError, match=r"\(command line --run-arg\)"):
        load(code, cli=CliInputs(publish=("8080:80",), run_args=("-p", "8080:81")))


def test_bad_port_in_config_names_the_file(code: Path) -> None:
    path = write_config(code, 'run-args = ["-p", "80:80:80:80"]\n')
    with pytest.raises(PortError, match=f"invalid port spec '80:80:80:80' \\({path} run-args\\)"):
        load_config(str(code), host_env={})


def test_daemon_port_refused_in_dind_unless_allowed(code: Path) -> None:
    with pytest.raises(PortError, match="allow-daemon-port = true"):
        load(code, 'dind = true\nrun-args = ["-p", "2375:2375"]\n')
    allowed = load(code, 'dind = true\nallow-daemon-port = true\nrun-args = ["-p", "2375:2375"]\n')
    assert "127.0.0.1:2375:2375/tcp" in allowed.ports.canonical()
    without_dind = load(code, 'run-args = ["-p", "2375:2375"]\n')
    assert "127.0.0.1:2375:2375/tcp" in without_dind.ports.canonical()


def test_run_arg_error_from_the_config_names_the_file(code: Path) -> None:
    path = write_config(code, 'run-args = ["--cidfile", "id"]\n')
    with pytest.raises(RunArgError, match=f"'--cidfile' \\({path} run-args\\)"):
        load_config(str(code), host_env={})


def test_host_env_defaults_to_the_process_env(code: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOTH_TEST_VAR", "from-process")
    assert load(code, 'run-args = ["-e", "BOOTH_TEST_VAR"]\n').booth_fields.get("Env") in (None, [])
    config = load_config(str(code), host_env=None)
    assert config.booth_fields.get("Env") == ["BOOTH_TEST_VAR=from-process"]
    assert os.environ["BOOTH_TEST_VAR"] == "from-process"


def test_a_too_long_code_directory_name_is_named_as_the_culprit(tmp_path: Path) -> None:
    code = tmp_path / ("d" * 140)
    code.mkdir()
    with pytest.raises(ConfigError) as info:
        load_config(str(code), host_env={})
    message = str(info.value)
    assert "the code directory's name (140 characters)" in message
    assert "more than 128; set project-name" in message


def test_a_too_long_name_is_named_with_the_limit(code: Path) -> None:
    path = write_config(code, f'name = "{"n" * 200}"\n')
    with pytest.raises(ConfigError) as info:
        load_config(str(code), host_env={})
    assert str(info.value).startswith(
        f'{path}:1: name must be at most 128 characters (it has 200), got "nnn'
    )
