"""CodingBooth's command line against the engine (issue 20): what a CodingBooth user
types behaves as under ``coding-booth``.

``booth [flags] -- WORDS`` runs WORDS in a login shell with stdin passed; the booth is
named as CodingBooth names it; ``--daemon`` booths go when their command ends; the
``CB_*`` variables configure it; a port change replaces the instance without leaving
the old one behind; a running booth is never taken over, by another session or another
code directory; booths an earlier booth made (labelled ``{name}-{port}``) are converged
and removed.
"""

from __future__ import annotations

import json

import pytest
from cli_support import free_port
from engine_support import (
    BOOTH_IMAGE,
    BoothDir,
    assert_converges,
    assert_destroy_leaves_nothing,
    docker_cli,
    eventually,
    inspect_container,
    inspect_network,
    inspect_volume,
    labelled_containers,
    labelled_networks,
    labelled_volumes,
)

pytestmark = pytest.mark.docker


def _alone(make_booth, image: str) -> BoothDir:  # type: ignore[no-untyped-def]
    """A booth without DinD (fast), running the CodingBooth stand-in, with no command."""
    b: BoothDir = make_booth(image=image, dind=False)
    b.write_config(cmds=None)
    return b


def test_the_command_after_dashes_runs_in_a_login_shell(make_booth, codingbooth_image):
    b = _alone(make_booth, codingbooth_image)
    result = b.cli("-e", "GREETING=hi", "--", "echo $GREETING from $0;", "profile-tool")
    assert result.rc == 0, result.explain()
    # Shell syntax, the booth's environment, and the login shell's PATH (/etc/profile.d).
    assert result.stdout == "hi from bash\nprofile-tool-ran\n", result.explain()
    assert b.cli("--", "exit 7").rc == 7
    # The session removed its booth, as CodingBooth's --rm does.
    assert inspect_container(b.client, b.booth) is None


def test_the_config_cmds_run_in_a_login_shell_too(make_booth, codingbooth_image):
    b = _alone(make_booth, codingbooth_image)
    b.write_config(cmds=["profile-tool;", "echo", "done"])
    result = b.cli()
    assert result.rc == 0, result.explain()
    assert result.stdout == "profile-tool-ran\ndone\n", result.explain()


def test_stdin_is_passed_and_output_split_as_docker_run_does(make_booth, codingbooth_image):
    b = _alone(make_booth, codingbooth_image)
    result = b.cli("--", "cat; echo to-stderr >&2", stdin="hi\nthere\n")
    assert result.rc == 0, result.explain()
    assert result.stdout == "hi\nthere\n"
    assert "to-stderr" in result.stderr and "to-stderr" not in result.stdout
    # `booth run -i` is docker run -i: the same, with booth's argv semantics.
    b.write_config(cmds=["cat"])
    piped = b.cli("run", "-i", stdin="through run\n")
    assert (piped.rc, piped.stdout) == (0, "through run\n"), piped.explain()


def test_the_booth_is_named_as_codingbooth_names_it(make_booth, codingbooth_image):
    b: BoothDir = make_booth(image=codingbooth_image)
    b.write_config(cmds=None)
    started = b.cli("--daemon", "--", "sleep 60")
    assert started.rc == 0, started.explain()
    try:
        assert b.booth == b.name
        assert docker_cli("exec", b.name, "bash", "-lc", "profile-tool").stdout == (
            "profile-tool-ran\n"
        )
        assert inspect_container(b.client, f"{b.name}-{b.port}-dind") is not None
        assert inspect_network(b.client, f"{b.name}-{b.port}-net") is not None
        labels = b.container("booth")["Config"]["Labels"]  # type: ignore[index]
        assert labels["io.codingbooth.instance"] == b.name
        assert labels["io.codingbooth.port"] == str(b.port)
    finally:
        assert_destroy_leaves_nothing(b)


def test_a_daemon_booth_goes_when_its_command_ends_unless_kept_alive(make_booth, codingbooth_image):
    b = _alone(make_booth, codingbooth_image)
    assert b.cli("--daemon", "--", "sleep 1").rc == 0

    def gone() -> None:
        assert inspect_container(b.client, b.booth) is None

    eventually(gone, timeout=30, what="the daemon booth removed")
    kept = b.cli("--daemon", "--keep-alive", "--", "true")
    assert kept.rc == 0, kept.explain()

    def exited() -> None:
        found = inspect_container(b.client, b.booth)
        assert found is not None and found["State"]["Status"] == "exited", found

    eventually(exited, timeout=30, what="the kept booth exited")
    assert_destroy_leaves_nothing(b)


def test_a_running_booth_is_never_taken_over_by_another_session(make_booth, codingbooth_image):
    b = _alone(make_booth, codingbooth_image)
    assert b.cli("--daemon", "--", "sleep 120").rc == 0
    first = b.container_id("booth")
    for words in (("--daemon", "--", "sleep 121"), ("--", "echo hi"), ("run",)):
        again = b.cli(*words)
        assert again.rc == 1, again.explain()
        assert "running already" in again.stderr and "Traceback" not in again.stderr
    assert b.container_id("booth") == first
    assert b.container("booth")["State"]["Running"]  # type: ignore[index]
    assert_destroy_leaves_nothing(b)


def test_a_second_code_dir_cannot_take_a_name_in_use(make_booth):
    b: BoothDir = make_booth(dind=False)
    b.ok("apply")
    other: BoothDir = make_booth(name=b.name, port=free_port(), dind=False)
    before = set(labelled_containers(b.client, b.name))
    refused = other.cli("apply")
    assert refused.rc == 1, refused.explain()
    assert f"already exists for {b.path}" in refused.stderr
    assert set(labelled_containers(b.client, b.name)) == before  # nothing made or removed
    assert other.cli("destroy").rc == 1  # nor removed from the other code dir
    assert_destroy_leaves_nothing(b)


def test_a_port_change_replaces_the_instance_and_leaves_no_orphan(make_booth):
    b: BoothDir = make_booth()
    b.ok("apply")
    old_sidecar, old_network = b.sidecar, b.network
    b.write_config(port=free_port())
    plan = {c["resource"]: c for c in b.plan_json()["changes"]}
    assert plan["sidecar"]["action"] == "replace" and plan["network"]["action"] == "replace"
    assert plan["sidecar"]["reason_code"] == "name_changed"
    assert plan["booth"]["action"] == "replace"
    assert_converges(b)
    assert inspect_container(b.client, old_sidecar) is None
    assert inspect_network(b.client, old_network) is None
    names = {r["name"] for r in json.loads(b.ok("status", "--json").stdout)["resources"]}
    assert names == {b.network, b.volume, b.sidecar, b.booth}
    assert_destroy_leaves_nothing(b)


def test_what_an_earlier_booth_made_is_converged_and_removed(make_booth, docker_client, cleanup):
    """Objects named and labelled as before the name was the identity: ``{name}-{port}``
    for the booth and as the instance label, with no port label."""
    b: BoothDir = make_booth()
    old = f"{b.name}-{b.port}"
    cleanup.instances.append(old)

    def labels(role: str) -> dict[str, str]:
        return {
            "io.codingbooth.managed": "true",
            "io.codingbooth.instance": old,
            "io.codingbooth.role": role,
            "io.codingbooth.spec-hash": "0" * 64,
        }

    api = docker_client.api
    api.create_network(b.network, driver="bridge", labels=labels("network"))
    api.create_volume(f"{old}-dind-data", driver="local", labels=labels("volume"))
    api.create_container(BOOTH_IMAGE, ["sleep", "1"], name=old, labels=labels("booth"))

    converged = assert_converges(b)
    assert inspect_container(docker_client, old) is None  # the old booth is gone
    network = inspect_network(docker_client, b.network)
    assert network is not None and network["Labels"]["io.codingbooth.instance"] == b.name
    assert inspect_volume(docker_client, f"{old}-dind-data") is not None  # data is kept
    assert "Keeping data volume" not in converged.stdout
    b.ok("destroy", "--volumes")
    assert inspect_volume(docker_client, f"{old}-dind-data") is None
    for instance in (b.name, old):
        assert labelled_containers(docker_client, instance) == {}
        assert labelled_networks(docker_client, instance) == []
        assert labelled_volumes(docker_client, instance) == []


def test_codingbooth_variables_configure_every_command(make_booth, codingbooth_image, cleanup):
    b = _alone(make_booth, codingbooth_image)
    b.write_config(name=None, port=None)
    name, port = f"{b.name}-env", free_port()
    cleanup.instances.append(name)
    env = {"CB_NAME": name, "CB_PORT": str(port), "CB_KEEP_ALIVE": "t"}
    result = b.cli("--", "echo $CB_CONTAINER_NAME $CB_HOST_PORT", env=env)
    assert (result.rc, result.stdout) == (0, f"{name} {port}\n"), result.explain()
    assert inspect_container(b.client, name) is not None  # CB_KEEP_ALIVE kept it
    # The file wins over the environment, the command line over both.
    b.write_config(port=free_port())
    flagged = b.cli("--port", str(port), "--", "echo $CB_HOST_PORT", env=env)
    assert flagged.stdout == f"{port}\n", flagged.explain()
    assert b.cli("destroy", env=env).rc == 0
    assert labelled_containers(b.client, name) == {}
    bad = b.cli("--", "true", env={"CB_DIND": "maybe"})
    assert bad.rc == 1 and "CB_DIND" in bad.stderr, bad.explain()


def test_codingbooth_flags_as_its_users_type_them(make_booth, codingbooth_image, tmp_path):
    b = _alone(make_booth, codingbooth_image)
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "note.txt").write_text("shared note\n")
    port = free_port()
    result = b.cli(
        "-v",
        f"{shared}:/extra:ro",
        f"--port={port}",
        "--",
        "cat /extra/note.txt; echo $CB_HOST_PORT",
    )
    assert (result.rc, result.stdout) == (0, f"shared note\n{port}\n"), result.explain()
    version = b.cli("version")
    assert version.rc == 0 and "CodingBooth 0.13.0" in version.stdout


def test_dryrun_in_the_config_creates_nothing(make_booth):
    b: BoothDir = make_booth(dind=False)
    b.write_config(dryrun=True)
    for words in (("--", "true"), ("apply",)):
        result = b.cli(*words)
        assert result.rc == 0, result.explain()
        assert labelled_containers(b.client, b.name) == {}


def test_a_build_shows_its_output_on_stderr_when_piped(make_booth):
    b: BoothDir = make_booth(dind=False)
    b.write_config(image=None)
    (b.path / ".booth" / "Dockerfile").write_text(
        f"FROM {BOOTH_IMAGE}\nRUN echo build-output-marker\n"
    )
    try:
        result = b.cli("--", "true")
        assert result.rc == 0, result.explain()
        assert "build-output-marker" in result.stderr and "\x1b[" not in result.stderr
        assert "build-output-marker" not in result.stdout
    finally:
        tag = f"codingbooth-local:{b.path.name.lower()}-base-0.13.0"
        docker_cli("rmi", "-f", tag, check=False)


def test_common_args_precedence_and_unknown_keys_as_codingbooth(make_booth, codingbooth_image):
    """Its generated -w and HOST_UID win over common-args, run-args win over them; a key
    CodingBooth would ignore is ignored with a warning, and the booth still runs."""
    b = _alone(make_booth, codingbooth_image)
    b.write_config(
        common_args=["-e", "HOST_UID=5", "-e", "MINE=common", "-w", "/tmp"],
        run_args=["-e", "HOST_GID=7"],
        host_uid=4321,
        some_future_key=True,
    )
    result = b.cli("--", "echo $HOST_UID $HOST_GID $MINE $PWD")
    assert (result.rc, result.stdout) == (0, "4321 7 common /home/coder/code\n"), result.explain()
    assert "unknown key 'some-future-key' ignored" in result.stderr
