"""Failures a user meets: an unreachable engine, a foreign container on one of our names."""

from __future__ import annotations

import time

import pytest
from cli_support import free_port
from engine_support import (
    BUSYBOX_IMAGE,
    inspect_container,
    labelled_containers,
    labelled_networks,
    labelled_volumes,
)

pytestmark = pytest.mark.docker


@pytest.mark.parametrize("command", [["plan"], ["apply"], ["status"], ["destroy"]])
def test_unreachable_engine_fails_fast_naming_the_endpoint(make_booth, command):
    b = make_booth()
    closed = free_port()  # nothing listens there: the connection is refused
    endpoint = f"tcp://127.0.0.1:{closed}"

    started = time.monotonic()
    result = b.cli(*command, env={"DOCKER_HOST": endpoint}, timeout=30)
    elapsed = time.monotonic() - started

    assert result.rc == 1, result.explain()
    assert elapsed < 10, f"took {elapsed:.1f}s"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.explain()
    assert endpoint in lines[0], result.explain()


@pytest.mark.parametrize("role", ["booth", "sidecar"])
def test_foreign_container_on_our_name_is_refused_and_kept(
    make_booth, docker_client, cleanup, role
):
    b = make_booth()
    name = b.booth if role == "booth" else b.sidecar
    foreign_id = docker_client.api.create_container(BUSYBOX_IMAGE, name=name)["Id"]
    cleanup.containers.append(foreign_id)

    for command in (["plan"], ["apply"]):
        result = b.cli(*command)
        assert result.rc == 1, result.explain()
        assert name in result.stderr, result.explain()
    assert labelled_containers(docker_client, b.instance) == {}
    assert labelled_networks(docker_client, b.instance) == []

    b.ok("destroy", "--volumes")
    foreign = inspect_container(docker_client, name)
    assert foreign is not None and foreign["Id"] == foreign_id


@pytest.mark.parametrize("key", ["dind-image", "image"])
def test_image_that_cannot_be_pulled_fails_before_anything_is_created(make_booth, key):
    # A registry on a closed local port: the pull fails at once, and only 127.0.0.1 is asked.
    missing = f"127.0.0.1:{free_port()}/booth-test/missing:latest"
    b = make_booth(**{key.replace("-", "_"): missing})
    started = time.monotonic()
    result = b.cli("apply")
    assert result.rc == 1, result.explain()
    assert time.monotonic() - started < 30
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("booth: error: image ")
    assert missing in line and "cannot be pulled" in line
    assert labelled_containers(b.client, b.instance) == {}
    assert labelled_networks(b.client, b.instance) == []
    assert labelled_volumes(b.client, b.instance) == []
