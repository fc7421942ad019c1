"""CodingBooth's image contract: which Dockerfile, how it is built, the environment, the
port choice. Facts from CodingBooth 0.13 (cli/src/pkg/booth/*.go)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from reconciler.config import codingbooth
from reconciler.core import port_choice
from reconciler.errors import ConfigError


def test_dockerfile_resolution_follows_codingbooth(tmp_path: Path) -> None:
    code = tmp_path / "code"
    (code / ".booth").mkdir(parents=True)
    assert codingbooth.find_dockerfile(code, None, "cfg") is None  # prebuilt image
    default = code / ".booth" / "Dockerfile"
    default.write_text("FROM x\n")
    assert codingbooth.find_dockerfile(code, None, "cfg") == default
    other = tmp_path / "other"
    (other / ".booth").mkdir(parents=True)
    (other / ".booth" / "Dockerfile").write_text("FROM y\n")
    # a directory holding .booth/Dockerfile, or a file; relative to the code directory
    assert codingbooth.find_dockerfile(code, str(other), "cfg") == other / ".booth/Dockerfile"
    (code / "alt.Dockerfile").write_text("FROM z\n")
    assert codingbooth.find_dockerfile(code, "alt.Dockerfile", "cfg") == code / "alt.Dockerfile"
    with pytest.raises(ConfigError, match=r"^cfg: dockerfile 'nope' is not a file"):
        codingbooth.find_dockerfile(code, "nope", "cfg")


def test_build_is_codingbooths_command() -> None:
    spec = codingbooth.build_spec(
        code=Path("/c"),
        dockerfile=Path("/c/.booth/Dockerfile"),
        project="demo",
        variant="base",
        version="0.13.0",
        user_args=(("FOO", "1"), ("CB_SETUPS", "/mine")),
    )
    assert spec.tag == "codingbooth-local:demo-base-0.13.0"
    assert spec.context == "/c" and spec.dockerfile == "/c/.booth/Dockerfile"
    assert dict(spec.build_args) == {
        "CB_VARIANT_TAG": "base",
        "CB_VERSION_TAG": "0.13.0",
        "CB_SETUPS": "/mine",  # the user's --build-arg comes later and wins, as in docker
        "FOO": "1",
    }


@pytest.mark.parametrize(
    ("words", "pairs"),
    [
        (["--build-arg", "A=1", "--build-arg=B=2=3"], (("A", "1"), ("B", "2=3"))),
        (["--build-arg", "EMPTY="], (("EMPTY", ""),)),
        ([], ()),
    ],
)
def test_build_args_are_docker_build_arg_flags(
    words: list[str], pairs: tuple[tuple[str, str], ...]
) -> None:
    assert codingbooth.build_args(words, "cfg") == pairs


@pytest.mark.parametrize(
    ("words", "why"),
    [
        (["--no-cache"], "'--no-cache' is a docker build flag booth does not pass"),
        (["--build-arg"], "missing its value"),
        (["--build-arg", "=x"], "expected NAME=VALUE"),
    ],
)
def test_other_build_flags_are_refused_by_name(words: list[str], why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        codingbooth.build_args(words, "cfg")


def test_env_file_defaults_to_dot_env_and_dash_disables_it(tmp_path: Path) -> None:
    assert codingbooth.default_env_file(tmp_path, None) is None
    (tmp_path / ".env").write_text("A=1\n")
    assert codingbooth.default_env_file(tmp_path, None) == str(tmp_path / ".env")
    assert codingbooth.default_env_file(tmp_path, "-") is None
    assert codingbooth.default_env_file(tmp_path, "other.env") == "other.env"


def test_timezone_from_the_environment_then_localtime(tmp_path: Path) -> None:
    link = tmp_path / "localtime"
    link.symlink_to("/usr/share/zoneinfo/Europe/Paris")
    assert codingbooth.detect_host({"TIMEZONE": "Asia/Tokyo", "TZ": "x"}, link).timezone == (
        "Asia/Tokyo"
    )
    assert codingbooth.detect_host({"TZ": "America/Lima"}, link).timezone == "America/Lima"
    assert codingbooth.detect_host({}, link).timezone == "Europe/Paris"
    assert codingbooth.detect_host({}, tmp_path / "none").timezone == "UTC"


def test_contract_env_names_what_the_entrypoint_reads() -> None:
    host = codingbooth.HostIdentity("1001", "1002", "UTC")
    contract = codingbooth.Contract(
        name="demo",
        project="demo",
        port=10000,
        image="img",
        variant="base",
        version="latest",
        code_dir="/c",
        config_file="/c/.booth/config.toml",
        dind=True,
        dockerfile="",
        env_file="",
        port_setting="NEXT",
        host=host,
    )
    env = dict(item.split("=", 1) for item in codingbooth.contract_env(contract))
    assert env["HOST_UID"] == "1001" and env["HOST_GID"] == "1002"
    assert env["CB_CONTAINER_NAME"] == "demo" and env["CB_HOST_PORT"] == "10000"
    assert env["CB_CODE_PORT"] == "10000" and env["CB_DIND"] == "true"
    assert env["CB_VARIANT_TAG"] == "base" and env["CB_PROJECT_NAME"] == "demo"
    assert "CB_VERBOSE" not in env and "CB_STARTUP" not in env


@pytest.mark.parametrize(
    ("value", "setting"),
    [(10000, 10000), ("NEXT", "NEXT"), ("random", "RANDOM"), ("12000", 12000)],
)
def test_port_setting(value: object, setting: object) -> None:
    assert port_choice.parse_setting(value, "cfg") == setting


@pytest.mark.parametrize("value", [0, 70000, True, "LATER", "", 1.5])
def test_bad_port_setting_is_one_line(value: object) -> None:
    with pytest.raises(ConfigError, match=r"^cfg: port must be an integer in 1\.\.65535"):
        port_choice.parse_setting(value, "cfg")


def test_next_takes_the_first_free_slot_and_an_existing_instance_keeps_its_port() -> None:
    taken = {10000, 11000}
    assert port_choice.choose("NEXT", [], lambda p: p not in taken) == 12000
    assert port_choice.choose("NEXT", [11000], lambda p: p not in taken) == 11000
    assert port_choice.choose(20000, [11000], lambda p: False) == 20000
    pick = port_choice.choose("RANDOM", [], lambda p: p not in taken, random.Random(1))
    assert pick % 1000 == 0 and 10000 <= pick <= 65000 and pick not in taken
    with pytest.raises(ConfigError, match="no free NEXT port"):
        port_choice.choose("NEXT", [], lambda p: False)
