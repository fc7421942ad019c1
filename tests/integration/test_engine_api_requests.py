"""A converged plan makes a constant number of Docker API requests.

Observation uses label filters and lookups by name, so what else runs on the host does
not change how many requests ``booth plan`` makes (the benchmark reports the time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import docker
import pytest
from engine_support import BUSYBOX_IMAGE

from reconciler.cli import main
from reconciler.workspace import Target, Workspace

pytestmark = pytest.mark.docker

# /version (connect), three label-filtered lists, inspects of the four expected names.
EXPECTED_REQUESTS = 8


def count_requests(action: Callable[[], Any]) -> tuple[int, Any]:
    """How many API requests ``action`` makes, and what it returns."""
    count = 0
    original = docker.APIClient.send

    def counting_send(self: docker.APIClient, *args: Any, **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        return original(self, *args, **kwargs)

    docker.APIClient.send = counting_send  # type: ignore[method-assign]
    try:
        result = action()
    finally:
        docker.APIClient.send = original  # type: ignore[method-assign]
    return count, result


def count_converged_plan_requests(code_dir: str) -> tuple[int, bool]:
    count, plan = count_requests(lambda: Workspace(Target(code_dir)).plan())
    return count, plan.has_changes


def test_converged_plan_requests_do_not_grow_with_unrelated_containers(
    make_booth: Callable[..., Any], docker_client: docker.DockerClient, cleanup: Any
) -> None:
    b = make_booth()
    b.ok("apply")
    before, pending = count_converged_plan_requests(str(b.path))
    assert (before, pending) == (EXPECTED_REQUESTS, False)

    for _ in range(10):
        unrelated = docker_client.api.create_container(
            BUSYBOX_IMAGE, ["sleep", "600"], labels={"booth-test.unrelated": "1"}
        )
        cleanup.containers.append(unrelated["Id"])
        docker_client.api.start(unrelated["Id"])
    after, pending = count_converged_plan_requests(str(b.path))
    assert (after, pending) == (EXPECTED_REQUESTS, False)


def test_the_plan_command_asks_the_engines_version_once(
    make_booth: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """`booth plan` names the engine from the /version the connection already asked."""
    b = make_booth()
    b.ok("apply")
    count, code = count_requests(lambda: main(["-C", str(b.path), "plan", "--detailed-exitcode"]))
    assert code == 0
    assert capsys.readouterr().out.startswith("Engine: docker ")
    assert count == EXPECTED_REQUESTS
