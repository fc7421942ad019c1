"""The config's partial readers: what names an instance, and how ``booth`` runs.

``destroy`` and ``status`` must work on a booth whose config no longer parses as a whole
(a bad port spec must not block clean-up), so ``instance_ref_from`` reads only
``project-name``, ``name`` and ``port``. ``run_mode_from`` reads only ``daemon``,
``dryrun`` and ``verbose``, the command line's over the file's. Both still refuse, with
the usual one line, what they do read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config.booth_config import (
    CliInputs,
    InstanceRef,
    PortResolver,
    first_slot,
    instance_ref_from,
    load_config,
    run_mode_from,
)
from reconciler.config.table import RunMode, read_document
from reconciler.errors import ConfigError

BROKEN_REST = 'run-args = ["-p", "80:80:80:80"]\nvariant = "fancy"\nready-timeout = -1\n'


@pytest.fixture
def code(tmp_path: Path) -> Path:
    directory = tmp_path / "Demo App"
    directory.mkdir()
    return directory


def load_instance_ref(
    code: str, config_file: str | None = None, resolve_port: PortResolver = first_slot
) -> InstanceRef:
    return instance_ref_from(read_document(code, config_file), resolve_port)


def load_run_mode(code: str, config_file: str | None, cli: CliInputs) -> RunMode:
    return run_mode_from(read_document(code, config_file), cli)


def write(code: Path, text: str, name: str = ".booth/config.toml") -> Path:
    path = code / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_the_instance_is_named_from_the_code_directory_by_default(code: Path) -> None:
    assert load_instance_ref(str(code)) == InstanceRef("demo-app", 10000)
    assert load_instance_ref(str(code)).instance == "demo-app"


def test_the_instance_ref_ignores_every_other_key(code: Path) -> None:
    write(code, f'name = "web"\nport = 10005\n{BROKEN_REST}')
    assert load_instance_ref(str(code)) == InstanceRef("web", 10005)
    with pytest.raises(ConfigError):
        load_config(str(code), host_env={})


def test_the_instance_name_follows_project_name_when_name_is_absent(code: Path) -> None:
    write(code, 'project-name = "proj"\nport = "12345"\n')
    assert load_instance_ref(str(code)) == InstanceRef("proj", 12345)


def test_a_chosen_port_is_resolved_for_this_code_directory_and_name(code: Path) -> None:
    write(code, 'name = "web"\nport = "random"\n')
    asked: list[tuple[str, Path, str]] = []

    def resolve(setting: str, directory: Path, name: str) -> int:
        asked.append((setting, directory, name))
        return 10042

    assert load_instance_ref(str(code), resolve_port=resolve) == InstanceRef("web", 10042)
    assert asked == [("RANDOM", code.resolve(), "web")]


def test_an_explicit_config_file_is_the_one_read(code: Path, tmp_path: Path) -> None:
    write(code, 'name = "from-default"\n')
    other = write(tmp_path, 'name = "from-other"\nport = 10001\n', "other.toml")
    assert load_instance_ref(str(code), str(other)) == InstanceRef("from-other", 10001)


def test_a_missing_explicit_config_file_is_an_error(code: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_instance_ref(str(code), str(tmp_path / "nope.toml"))
    assert str(tmp_path / "nope.toml") in str(caught.value)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("port = 0", "port must be an integer in 1..65535, NEXT or RANDOM, got 0"),
        ('port = "soon"', 'port must be an integer in 1..65535, NEXT or RANDOM, got "soon"'),
        ('name = "-web"', 'name "-web" is not a valid Docker name'),
    ],
)
def test_what_names_the_instance_is_still_checked(code: Path, line: str, expected: str) -> None:
    path = write(code, f"{line}\n")
    with pytest.raises(ConfigError) as caught:
        load_instance_ref(str(code))
    assert str(caught.value).startswith(f"{path}:1: {expected}")


# -- daemon mode ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "overrides", "daemon"),
    [
        ("", (), False),
        ("daemon = true\n", (), True),
        ("daemon = true\n", (("daemon", False),), False),
        ("daemon = false\n", (("daemon", True),), True),
        (BROKEN_REST, (("daemon", True),), True),
    ],
)
def test_daemon_mode_is_the_command_lines_over_the_files(
    code: Path, text: str, overrides: tuple[tuple[str, object], ...], daemon: bool
) -> None:
    write(code, text)
    assert load_run_mode(str(code), None, CliInputs(overrides=overrides)).daemon is daemon


def test_daemon_mode_is_read_from_an_explicit_config_file(code: Path, tmp_path: Path) -> None:
    write(code, "daemon = false\n")
    other = write(tmp_path, "daemon = true\n", "other.toml")
    assert load_run_mode(str(code), str(other), CliInputs()).daemon is True


def test_a_daemon_value_that_is_not_a_boolean_names_the_file_and_line(code: Path) -> None:
    path = write(code, '# booth\ndaemon = "yes"\n')
    with pytest.raises(ConfigError) as caught:
        load_run_mode(str(code), None, CliInputs())
    assert str(caught.value).startswith(f'{path}:2: daemon must be true or false, got "yes"')
