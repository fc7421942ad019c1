"""A CodingBooth ``.booth/`` folder against the engine: the booth image built from its
Dockerfile and rebuilt only when its inputs change, the image contract's environment,
``.env``, ``${VAR}`` expansion, and ``port = "NEXT"`` staying with its instance."""

from __future__ import annotations

import io
import json
import os

import pytest
from engine_support import (
    BUSYBOX_IMAGE,
    docker_cli,
    in_booth,
    labelled_containers,
    labelled_networks,
    remove_image,
)

from reconciler.cli.main import main

pytestmark = pytest.mark.docker

DOCKERFILE = f"""\
FROM {BUSYBOX_IMAGE}
ARG CB_VARIANT_TAG
ARG GREETING=none
COPY greeting.txt /greeting.txt
RUN echo "$CB_VARIANT_TAG $GREETING" > /built-with
"""


def _booth_env(b) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = in_booth(b.booth, "env").stdout.splitlines()
    return dict(line.partition("=")[::2] for line in env)


def test_a_booth_dockerfile_is_built_and_rebuilt_only_when_its_inputs_change(
    make_booth, docker_client
):
    b = make_booth(cmds=["sleep", "infinity"], build_args=["--build-arg", "GREETING=hi"])
    b.write_config(image=None)
    booth_dir = b.path / ".booth"
    (booth_dir / "Dockerfile").write_text(DOCKERFILE)
    (b.path / "greeting.txt").write_text("hello\n")
    (b.path / ".dockerignore").write_text("scratch/\n")
    (b.path / "scratch").mkdir()
    tag = f"codingbooth-local:{b.path.name.lower()}-base-0.13.0"
    try:
        plan = b.plan_json()
        assert plan["steps"][0]["op"] == "build-image"
        b.ok("apply")
        booth = docker_client.api.inspect_container(b.booth)
        assert booth["Config"]["Image"] == tag
        first_image = booth["Image"]  # untagged by the rebuild below: removed at the end
        assert in_booth(b.booth, "cat", "/built-with").stdout == "base hi\n"
        assert b.plan_json()["steps"] == []

        (b.path / "scratch" / "notes.txt").write_text("ignored by .dockerignore\n")
        assert b.plan_json()["steps"] == []

        (booth_dir / "Dockerfile").write_text(DOCKERFILE + "RUN touch /second\n")
        plan = b.plan_json()
        changes = {c["resource"]: c for c in plan["changes"]}
        assert changes["image"]["reason"] == "Dockerfile changed"  # not the context too
        assert changes["booth"]["reason_code"] == "image_rebuilt"
        assert plan["steps"][0]["op"] == "build-image"
        b.ok("apply")
        assert in_booth(b.booth, "ls", "/second").rc == 0
        assert b.plan_json()["steps"] == []

        (b.path / "greeting.txt").write_text("hello again\n")
        changes = {c["resource"]: c for c in b.plan_json()["changes"]}
        assert changes["image"]["reason"] == "build context changed"
    finally:
        b.ok("destroy", "--volumes")
        remove_image(docker_client, tag)
        if "first_image" in locals():
            remove_image(docker_client, first_image)


def test_a_failing_build_changes_nothing_and_shows_its_last_lines(make_booth, docker_client):
    b = make_booth(cmds=["sleep", "infinity"])
    b.write_config(image=None)
    (b.path / ".booth" / "Dockerfile").write_text(
        f"FROM {BUSYBOX_IMAGE}\nRUN echo building-step-output && exit 7\n"
    )
    result = b.cli("apply")
    assert result.rc == 1
    # Piped, the build's own output comes first (as docker build shows it); then one line.
    *build_output, error = result.stderr.splitlines()
    assert "building-step-output" in build_output, result.explain()
    assert error.startswith("booth: error: ") and "failed" in error
    assert "building-step-output" in error  # the last lines, also in the error itself
    assert docker_client.api.containers(all=True, filters={"name": b.instance}) == []


def _refuse_directory(monkeypatch, name: str) -> None:  # type: ignore[no-untyped-def]
    """``os.open`` refuses directory ``name`` (root reads any): a walk of the context fails."""
    real_open = os.open

    def refusing(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if os.fspath(path).endswith(name) and flags & os.O_DIRECTORY:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing)  # a forked child inherits it


def _refused(directory: os.PathLike[str]) -> str:
    return f"booth: error: cannot read directory {directory}: Permission denied\n"


def test_a_context_that_cannot_be_walked_is_one_error_and_changes_nothing(
    make_booth, docker_client, monkeypatch, capsys
):
    """The context is walked in a child process while the engine is asked (a converged
    plan of a large code dir costs about what it costs without a build); what the walk
    finds wrong still ends the command with its one line, before anything is made."""
    b = make_booth(cmds=["sleep", "infinity"])
    b.write_config(image=None)
    (b.path / ".booth" / "Dockerfile").write_text(DOCKERFILE)
    (b.path / "greeting.txt").write_text("hello\n")
    (b.path / "private").mkdir()
    _refuse_directory(monkeypatch, "private")
    for command in (["plan"], ["apply"]):
        assert main(["-q", "-C", str(b.path), *command]) == 1
        assert capsys.readouterr().err == _refused(b.path / "private")
    assert labelled_containers(docker_client, b.instance) == {}
    assert labelled_networks(docker_client, b.instance) == []


def test_a_dockerfile_that_reads_no_context_is_not_walked(
    make_booth, docker_client, monkeypatch, capsys
):
    """CodingBooth's own shape (``FROM`` and ``RUN``) reads no file of the code dir: a plan
    does not walk it (a walk would fail on the refused directory), and no edit there
    rebuilds. A base image with an ONBUILD trigger may read it: then it is walked."""
    b = make_booth(cmds=["sleep", "infinity"])
    b.write_config(image=None)
    dockerfile = b.path / ".booth" / "Dockerfile"
    dockerfile.write_text(f"FROM {BUSYBOX_IMAGE}\nRUN echo built > /built\n")
    tag = f"codingbooth-local:{b.path.name.lower()}-base-0.13.0"
    onbuild = f"booth-test/onbuild:{b.path.name.lower()}"
    plan = ["-q", "-C", str(b.path), "plan", "--detailed-exitcode"]
    try:
        b.ok("apply")
        built = docker_client.api.inspect_image(tag)["Id"]
        (b.path / "notes.txt").write_text("a file no build step reads\n")
        (b.path / "private").mkdir()
        _refuse_directory(monkeypatch, "private")
        assert main(plan) == 0, capsys.readouterr().err  # converged, nothing walked
        assert capsys.readouterr().err == ""
        assert main(["-q", "-C", str(b.path), "status"]) == 0, capsys.readouterr().err
        # `booth run` asks the engine first too (its session ends by removing the booth;
        # it never takes over a running one, so the booth is stopped first).
        docker_cli("stop", b.booth)
        assert main(["-q", "-C", str(b.path), "run", "--", "true"]) == 0, capsys.readouterr()

        docker_client.images.build(
            fileobj=io.BytesIO(f"FROM {BUSYBOX_IMAGE}\nONBUILD RUN true\n".encode()),
            tag=onbuild,
            rm=True,
        )
        dockerfile.write_text(f"FROM {onbuild}\nRUN echo built > /built\n")
        assert main(plan) == 1
        assert capsys.readouterr().err == _refused(b.path / "private")

        monkeypatch.undo()
        dockerfile.write_text(f"FROM {BUSYBOX_IMAGE}\nCOPY notes.txt /notes.txt\n")
        changes = {c["resource"]: c for c in b.plan_json()["changes"]}
        assert changes["image"]["reason"] == "Dockerfile changed"  # not the context too
        assert docker_client.api.inspect_image(tag)["Id"] == built
    finally:
        b.ok("destroy", "--volumes")
        remove_image(docker_client, tag)
        remove_image(docker_client, onbuild)


def test_the_image_contract_env_file_and_expansion_reach_the_booth(make_booth):
    b = make_booth(
        cmds=["sleep", "infinity"],
        run_args=["-e", "FROM_VAR=${BOOTH_IT_VALUE}", "-e", "UNSET=$BOOTH_IT_UNSET"],
        host_uid=4321,
        timezone="Europe/Paris",
    )
    (b.path / ".env").write_text("FROM_DOT_ENV=yes\n")
    result = b.cli("apply", env={"BOOTH_IT_VALUE": "expanded"})
    assert result.rc == 0, result.explain()
    assert "$BOOTH_IT_UNSET is not set" in result.stderr
    env = _booth_env(b)
    assert env["FROM_VAR"] == "expanded" and env["UNSET"] == ""
    assert env["FROM_DOT_ENV"] == "yes"
    assert env["HOST_UID"] == "4321" and env["TZ"] == "Europe/Paris"
    assert env["CB_CONTAINER_NAME"] == b.name and env["CB_CODE_PORT"] == "10000"
    assert in_booth(b.booth, "pwd").stdout.strip() == "/home/coder/code"
    plan = b.cli("plan", "--json", env={"BOOTH_IT_VALUE": "expanded"})
    assert "yes" not in plan.stdout and "expanded" not in plan.stdout  # names only


def test_port_next_keeps_the_same_instance_across_applies(make_booth, cleanup):
    b = make_booth(cmds=["sleep", "infinity"])
    b.write_config(port="NEXT")
    first = b.ok("plan", "--json")
    instance = json.loads(first.stdout)["instance"]
    cleanup.instances.append(instance)
    sidecar = next(c for c in json.loads(first.stdout)["changes"] if c["resource"] == "sidecar")
    port = int(sidecar["name"].split("-")[-2])  # {name}-{port}-dind
    assert port % 1000 == 0 and port >= 10000
    b.ok("apply")
    status = json.loads(b.ok("status", "--json").stdout)
    # What apply made, removed even if another run took the planned port meanwhile.
    cleanup.instances.append(status["instance"])
    again = json.loads(b.ok("plan", "--json").stdout)
    assert again["instance"] == instance and again["steps"] == []
    assert {c["name"] for c in again["changes"]} >= {f"{b.name}-{port}-dind"}
    assert status["instance"] == instance
    b.ok("destroy", "--volumes")
    assert json.loads(b.ok("plan", "--json").stdout)["steps"] != []


def test_booth_without_a_command_names_the_engine_as_plan_and_apply_do(make_booth, cleanup):
    """CodingBooth's `booth --daemon` prints the same plan as `booth apply`, the engine's
    line first; `booth --dryrun` prints the docker commands, as CodingBooth's does."""
    b = make_booth(cmds=["sleep", "infinity"])
    cleanup.instances.append(b.instance)

    dry = b.ok("--dryrun")
    assert dry.stdout.startswith("#!/bin/sh\n"), dry.stdout
    assert f"docker create --name {b.sidecar} " in dry.stdout
    assert b.container("booth") is None  # a dry run creates nothing

    daemon = b.ok("--daemon")
    assert daemon.stdout.startswith("Engine: docker "), daemon.stdout
    assert "Apply complete" in daemon.stdout
    assert b.container("booth")["State"]["Running"]
    b.ok("destroy", "--volumes")
