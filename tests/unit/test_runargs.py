"""Run-args: tokenising every pflag spelling, routing in DinD mode, translation, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from booth_builders import FIXED_CODE, config_from_toml

from reconciler.config.desired import build_desired
from reconciler.config.runargs.flags import ParseContext
from reconciler.config.runargs.routing import ContainerFields, RoutedRunArgs, route, words_from
from reconciler.core.ports import SourcedSpec
from reconciler.errors import RunArgError

SOURCE = "config run-args"
NOTHING = ContainerFields()


def routed(*words: str, dind: bool = True, code: Path = Path(FIXED_CODE)) -> RoutedRunArgs:
    return route(words_from(words, SOURCE), dind=dind, context=ParseContext(code, {}))


def port_specs(result: RoutedRunArgs) -> list[str]:
    return [p.spec for p in result.ports]


# --- port flags ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words",
    [
        ("-p", "8080:80"),
        ("-p8080:80",),
        ("-p=8080:80",),
        ("--publish", "8080:80"),
        ("--publish=8080:80",),
    ],
)
@pytest.mark.parametrize("dind", [True, False])
def test_every_publish_spelling_is_a_port(words: tuple[str, ...], dind: bool) -> None:
    result = routed(*words, dind=dind)
    assert result.ports == (SourcedSpec("8080:80", SOURCE),)
    assert result.booth == NOTHING


def test_ports_are_extracted_from_between_other_flags() -> None:
    result = routed("-e", "A=1", "-p", "1:1", "--privileged", "-p2:2", "-w", "/w", "--publish=3:3")
    assert port_specs(result) == ["1:1", "2:2", "3:3"]
    assert result.booth == ContainerFields(
        {"Env": ["A=1"], "HostConfig.Privileged": True, "WorkingDir": "/w"}
    )


def test_publish_all_publishes_the_exposed_ports_through_the_port_set() -> None:
    result = routed("--expose", "80", "-P", "--expose=53/udp", "-p", "8080:53/udp")
    assert port_specs(result) == ["8080:53/udp"]
    assert [p.spec for p in result.publish_all] == ["80/tcp", "53/udp"]
    # as Docker's PublishAllPorts: a port a -p publishes is left as it is
    published = result.with_published_exposed(result.ports)
    assert [p.spec for p in published] == ["8080:53/udp", "80/tcp"]
    assert result.namespace.get("ExposedPorts") == {"80/tcp": {}, "53/udp": {}}
    assert "image's own EXPOSE ports are not known" in result.warnings[0]


def test_publish_all_false_is_harmless() -> None:
    assert routed("--publish-all=false").booth == NOTHING
    assert routed("-P=false").booth == NOTHING


# --- network flags ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "words", [("--network", "host"), ("--network=host",), ("--net", "host"), ("--net=host",)]
)
def test_network_is_dropped_with_a_warning_in_dind_mode(words: tuple[str, ...]) -> None:
    result = routed(*words)
    assert result.booth == NOTHING
    (warning,) = result.warnings
    assert words[0] in warning
    assert "network namespace" in warning


def test_network_is_kept_without_dind() -> None:
    result = routed("--net", "mynet", dind=False)
    assert result.booth.get("HostConfig.NetworkMode") == "mynet"
    assert result.warnings == ()


def test_namespace_flags_move_to_the_namespace_owner() -> None:
    result = routed(
        "-h",
        "box",
        "--dns",
        "1.1.1.1",
        "--dns=8.8.8.8",
        "--dns-search",
        "lan",
        "--dns-opt",
        "ndots:1",
        "--dns-option=rotate",
        "--add-host",
        "db:10.0.0.2",
        "-e",
        "A=1",
    )
    assert result.namespace == ContainerFields(
        {
            "Hostname": "box",
            "HostConfig.Dns": ["1.1.1.1", "8.8.8.8"],
            "HostConfig.DnsSearch": ["lan"],
            "HostConfig.DnsOptions": ["ndots:1", "rotate"],
            "HostConfig.ExtraHosts": ["db:10.0.0.2"],
        }
    )
    assert result.booth == ContainerFields({"Env": ["A=1"]})


def test_namespace_flags_land_on_the_sidecar_in_dind_mode_and_on_the_booth_otherwise() -> None:
    toml = 'run-args = ["--hostname", "box", "--add-host", "db:10.0.0.2"]\n'
    with_dind = build_desired(config_from_toml(toml + "dind = true\n"))
    sidecar, booth = with_dind.get("sidecar"), with_dind.get("booth")
    assert sidecar is not None and booth is not None
    assert sidecar.spec["Hostname"] == "box"
    assert sidecar.spec["HostConfig"]["ExtraHosts"] == ["db:10.0.0.2"]
    assert "Hostname" not in booth.spec and "ExtraHosts" not in booth.spec["HostConfig"]
    alone = build_desired(config_from_toml(toml)).get("booth")
    assert alone is not None
    assert alone.spec["Hostname"] == "box"
    assert alone.spec["HostConfig"]["ExtraHosts"] == ["db:10.0.0.2"]


# --- translation -----------------------------------------------------------------------


def test_supported_flags_fill_their_engine_api_fields(tmp_path: Path) -> None:
    (tmp_path / "vars.env").write_text("# comment\nFROM_FILE=f\nA=from-file\n")
    result = routed(
        *(
            "-e",
            "A=1",
            "--env=B=2",
            "--env-file",
            "vars.env",
            "-v",
            "/h:/c",
            "--volume=/x",
            "--mount",
            "type=volume,target=/m",
            "-w",
            "/w",
            "-u",
            "1000:1000",
            "-l",
            "k=v",
            "--label=j",
            "--cap-add",
            "NET_ADMIN",
            "--cap-drop=MKNOD",
            "--device",
            "/dev/fuse",
            "--privileged",
            "--security-opt",
            "seccomp=unconfined",
            "--tmpfs",
            "/run",
            "--shm-size",
            "1g",
            "-m",
            "512m",
            "--cpus",
            "1.5",
            "--init",
            "--entrypoint",
            "/bin/sh",
            "-it",
        ),
        code=tmp_path,
    )
    assert result.booth.fields == {
        # env files first, then -e in order (the builder lets later values win)
        "Env": ["FROM_FILE=f", "A=from-file", "A=1", "B=2"],
        "HostConfig.Binds": ["/h:/c"],
        "Volumes": {"/x": {}},
        "HostConfig.Mounts": [{"Type": "volume", "Target": "/m"}],
        "WorkingDir": "/w",
        "User": "1000:1000",
        "Labels": {"k": "v", "j": ""},
        "HostConfig.CapAdd": ["NET_ADMIN"],
        "HostConfig.CapDrop": ["MKNOD"],
        "HostConfig.Devices": [
            {"PathOnHost": "/dev/fuse", "PathInContainer": "/dev/fuse", "CgroupPermissions": "rwm"}
        ],
        "HostConfig.Privileged": True,
        "HostConfig.SecurityOpt": ["seccomp=unconfined"],
        "HostConfig.Tmpfs": {"/run": ""},
        "HostConfig.ShmSize": 1024**3,
        "HostConfig.Memory": 512 * 1024**2,
        "HostConfig.NanoCpus": 1_500_000_000,
        "HostConfig.Init": True,
        "Entrypoint": ["/bin/sh"],
        "Tty": True,
        "OpenStdin": True,
    }


def test_boolean_flags_take_explicit_values() -> None:
    assert routed("--privileged=false").booth.get("HostConfig.Privileged") is False
    assert routed("--init=0").booth.get("HostConfig.Init") is False
    assert routed("-t=true").booth.get("Tty") is True


def test_later_single_valued_flags_win() -> None:
    assert routed("-w", "/a", "-w", "/b").booth.get("WorkingDir") == "/b"
    assert routed("-l", "k=1", "-l", "k=2").booth.get("Labels") == {"k": "2"}


def test_values_may_look_like_flags() -> None:
    assert routed("-e", "-X=1").booth.get("Env") == ["-X=1"]


# --- errors name the flag and where it came from ---------------------------------------


@pytest.mark.parametrize(
    ("words", "culprit", "why"),
    [
        (("--frobnicate",), "'--frobnicate'", "unsupported run-arg"),
        (("--frobnicate=1",), "'--frobnicate=1'", "unsupported run-arg"),
        (("-Z",), "'-Z'", "unsupported run-arg"),
        (("-iZ",), "'-iZ'", "unsupported run-arg"),
        (("--",), "'--'", "unsupported run-arg"),
        (("--name", "x"), "'--name'", "container name is derived"),
        (("--platform", "linux/arm64"), "'--platform'", "parameter of the pull"),
        (("--rm", "--restart=always"), "'--restart=always' (config run-args)", "conflict"),
        (("ubuntu",), "'ubuntu'", "unexpected run-arg"),
        (("-e",), "'-e'", "is missing its value"),
        (("--env",), "'--env'", "is missing its value"),
        (("--privileged=maybe",), "'--privileged=maybe'", "expected true or false"),
        (("-t=2",), "'-t=2'", "expected true or false"),
        (("-m", "lots"), "'-m'", "expected a size like 512m"),
        (("--shm-size=-1",), "'--shm-size=-1'", "negative"),
        (("--cpus", "-1"), "'--cpus'", "negative"),
        (("--cpus=many",), "'--cpus=many'", "expected a CPU count"),
        (("-l", "io.codingbooth.role=booth"), "'-l'", "reserved"),
    ],
)
def test_run_arg_errors_name_the_flag(words: tuple[str, ...], culprit: str, why: str) -> None:
    with pytest.raises(RunArgError) as info:
        routed(*words)
    message = str(info.value)
    assert culprit in message
    assert f"({SOURCE})" in message
    assert why in message


def test_unsupported_flag_lists_supported_ones() -> None:
    with pytest.raises(RunArgError, match="supported: --env, --env-file, --volume"):
        routed("--cidfile=id")


@pytest.mark.parametrize(
    ("words", "culprit"),
    [
        (("--mount", "type=volume"), "target is required"),
        (("--mount", "target=/m,colour=red"), "unknown option 'colour'"),
        (("--mount", "type=npipe,target=/m"), "mount type 'npipe' is not one of"),
        (("--device", ":/dev/x"), "--device"),
        (("--device", "/a:/b:rwm:x"), "--device"),
        (("--tmpfs", "run"), "absolute container path"),
    ],
)
def test_values_are_checked_at_the_boundary_naming_the_flag(
    words: tuple[str, ...], culprit: str
) -> None:
    # The config refuses them: a graph is never built from an invalid value.
    with pytest.raises(RunArgError) as info:
        config_from_toml(f"run-args = {list(words)!r}\n".replace("'", '"'))
    assert culprit in str(info.value)
    assert words[0] in str(info.value) and words[1] in str(info.value)
