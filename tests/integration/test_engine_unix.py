"""The unix engine (``engine/unix/engine.py``) reads a local engine without the Docker SDK and
must see exactly what the SDK's engine sees through it: the same snapshot, the same
identity, the same instances of a code directory. Compared on the real engine, in every
state a plan meets; and a converged ``booth plan`` must not import the SDK at all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
from cli_support import modules_a_plan_loads
from engine_support import BUSYBOX_IMAGE, remove_image

from reconciler.app import workspace
from reconciler.core.model import LABEL_CODE_DIR, Kind
from reconciler.engine.address import EngineAddress, resolve
from reconciler.engine.connect import connect
from reconciler.engine.docker import engine as docker_engine
from reconciler.engine.docker.calls import SdkLookups
from reconciler.engine.unix import engine as unix_engine
from reconciler.engine.unix.api import UnixApi, path_of
from reconciler.engine.unix.engine import UnixLookups
from reconciler.errors import DockerUnavailableError, EngineError, EngineNotFound

pytestmark = pytest.mark.docker

DOCKERFILE = f"FROM {BUSYBOX_IMAGE}\nRUN echo built > /built\n"


def assert_same_view(b: Any, tag: str | None = None, bases: tuple[str, ...] = ()) -> Any:
    """Both engines' observe, identity and instances_of for booth ``b``; the snapshot."""
    light, sdk = connect(resolve()), docker_engine.connect()
    assert isinstance(light.lookups, UnixLookups) and isinstance(sdk.lookups, SdkLookups)
    try:
        state = light.observe(b.name, b.port, tag, bases)
        assert state == sdk.observe(b.name, b.port, tag, bases)
        assert light.identity() == sdk.identity()
        code_dir = str(b.path.resolve())
        assert light.instances_of(code_dir, b.name) == sdk.instances_of(code_dir, b.name)
    finally:
        light.close()
        sdk.close()
    return state


@pytest.mark.engines
def test_the_unix_engine_sees_what_the_sdk_sees(
    make_booth: Callable[..., Any], docker_client: docker.DockerClient
) -> None:
    """A missing instance, a converged one, one whose booth is stopped; on a local
    socket, and over SSH (the same engine behind the run's tunnel, against the SDK's
    own SSH transport). On tcp and TLS engines booth keeps the SDK's engine."""
    if resolve().scheme not in ("unix", "ssh"):
        assert isinstance(workspace._connect().lookups, SdkLookups)
        return
    b = make_booth()
    assert assert_same_view(b).objects == ()

    b.ok("apply")
    converged = assert_same_view(b)
    assert {o.kind for o in converged} == {Kind.CONTAINER, Kind.NETWORK, Kind.VOLUME}
    booth = docker_client.api.inspect_container(b.booth)
    code_dir = booth["Config"]["Labels"][LABEL_CODE_DIR]
    light = connect(resolve())
    assert light.instances_of(code_dir, b.name) == [b.port]
    light.close()

    docker_client.api.stop(b.booth, timeout=1)
    stopped = assert_same_view(b)
    assert stopped.named(Kind.CONTAINER, b.booth).state == "exited"  # type: ignore[union-attr]


def test_the_unix_engine_sees_the_built_image_as_the_sdk_does(
    make_booth: Callable[..., Any], docker_client: docker.DockerClient
) -> None:
    b = make_booth()
    b.write_config(image=None)
    (b.path / ".booth" / "Dockerfile").write_text(DOCKERFILE)
    tag = f"codingbooth-local:{b.path.name.lower()}-base-0.13.0"
    try:
        assert assert_same_view(b, tag).named(Kind.IMAGE, tag) is None
        b.ok("apply")
        bases = (BUSYBOX_IMAGE, "booth-test/no-such-base:1", "Not A Valid Name")
        state = assert_same_view(b, tag, bases)
        built = state.named(Kind.IMAGE, tag)
        assert built is not None and built.owned
        assert state.base_triggers == ((BUSYBOX_IMAGE, ()),)  # only the bases there
    finally:
        b.ok("destroy", "--volumes")
        remove_image(docker_client, tag)


def test_an_unserved_socket_is_the_message_the_sdk_gives(tmp_path: Path) -> None:
    for url in (f"unix://{tmp_path}/missing.sock", f"unix://{tmp_path}"):
        where = EngineAddress(url, "DOCKER_HOST")
        with pytest.raises(DockerUnavailableError) as light:
            unix_engine.connect(where)
        with pytest.raises(DockerUnavailableError) as sdk:
            docker_engine.at(where)
        assert str(light.value) == str(sdk.value)
        # One sentence: the cause, without the SDK's or urllib3's wrapping.
        assert str(light.value).startswith(f"cannot reach the Docker engine at {url} ")
        assert "Error while fetching" not in str(light.value)


def test_a_missing_object_is_absent_and_other_failures_are_the_engines_message() -> None:
    api = UnixApi(path_of(resolve().url), 5)
    api.api_version = str(api.get("/version", versioned=False)["ApiVersion"])
    lookups = UnixLookups(api)
    for kind in Kind:
        assert lookups.inspect(kind, "booth-test-no-such-object-anywhere") is None
    with pytest.raises(EngineNotFound, match=r"(?i)no such container"):
        api.get("/containers/booth-test-no-such-object-anywhere/json")
    with pytest.raises(EngineError) as bad:  # an invalid filter: 400, not absent
        lookups.containers({"no-such-filter": ["x"]})
    assert not isinstance(bad.value, EngineNotFound)
    assert "no-such-filter" in str(bad.value)


def test_a_converged_plan_imports_neither_the_sdk_nor_requests(
    make_booth: Callable[..., Any],
) -> None:
    b = make_booth()
    b.ok("apply")
    assert modules_a_plan_loads(str(b.path), ("docker", "requests", "urllib3")) == "0 []"
