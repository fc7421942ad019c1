"""The names a config gives an instance: ``project-name`` and ``name``, at their limits.

Both become Docker object names (``{name}-{port}-dind-data`` is the longest), so both must
be valid Docker names of at most 128 characters; the error says which key, and when the
value came from the code directory's name, that the directory is the culprit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.config.booth_config import MAX_NAME, load_config
from reconciler.errors import ConfigError


def write(code: Path, text: str) -> Path:
    path = code / ".booth" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_code_directory_name_of_exactly_the_limit_is_accepted(tmp_path: Path) -> None:
    code = tmp_path / ("d" * MAX_NAME)
    code.mkdir()
    config = load_config(str(code), host_env={})
    assert config.project_name == config.name == "d" * MAX_NAME


@pytest.mark.parametrize("key", ["name", "project-name"])
def test_a_name_of_exactly_the_limit_is_accepted(tmp_path: Path, key: str) -> None:
    write(tmp_path, f'{key} = "{"n" * MAX_NAME}"\n')
    assert load_config(str(tmp_path), host_env={}).name == "n" * MAX_NAME


@pytest.mark.parametrize("key", ["name", "project-name"])
def test_an_invalid_docker_name_says_what_a_valid_one_is(tmp_path: Path, key: str) -> None:
    path = write(tmp_path, f'# names\n{key} = "-web"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(str(tmp_path), host_env={})
    assert str(caught.value) == (
        f'{path}:2: {key} "-web" is not a valid Docker name (two or more letters, digits, '
        "'_', '.', '-'; starting with a letter or digit)"
    )
