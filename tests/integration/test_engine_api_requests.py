"""A converged plan makes a constant number of Docker API requests.

Observation uses label filters and lookups by name, so what else runs on the host does
not change how many requests ``booth plan`` makes (the benchmark reports the time).
Requests are counted where both engines send them: the SDK's client, and on a local
socket ``unix_api`` (which serves a plan's reads without the SDK).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from typing import Any

import docker
import pytest
from engine_support import BUSYBOX_IMAGE, docker_cli

from reconciler.app.workspace import Target, Workspace
from reconciler.cli.main import main
from reconciler.engine.unix.api import UnixApi

pytestmark = pytest.mark.docker

# /version (connect), three label-filtered lists, inspects of the four expected names
# and of the two names an earlier booth gave (its booth and data volume, `{name}-{port}`).
EXPECTED_REQUESTS = 10


def record_requests(action: Callable[[], Any]) -> tuple[list[str], Any]:
    """The API requests ``action`` makes ("METHOD path"), and what it returns."""
    sent: list[str] = []
    original = docker.APIClient.send
    original_unix = UnixApi.send

    def recording_send(self: docker.APIClient, request: Any, **kwargs: Any) -> Any:
        sent.append(f"{request.method} {urllib.parse.urlsplit(request.url).path}")
        return original(self, request, **kwargs)

    def recording_unix_send(self: UnixApi, target: str) -> tuple[int, bytes]:
        sent.append(f"GET {urllib.parse.urlsplit(target).path}")
        return original_unix(self, target)

    docker.APIClient.send = recording_send  # type: ignore[method-assign]
    UnixApi.send = recording_unix_send  # type: ignore[method-assign]
    try:
        result = action()
    finally:
        docker.APIClient.send = original  # type: ignore[method-assign]
        UnixApi.send = original_unix  # type: ignore[method-assign]
    return sent, result


def count_requests(action: Callable[[], Any]) -> tuple[int, Any]:
    """How many API requests ``action`` makes, and what it returns."""
    sent, result = record_requests(action)
    return len(sent), result


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

    # A hundred containers that are none of booth's business, ten of them running.
    for index in range(100):
        unrelated = docker_client.api.create_container(
            BUSYBOX_IMAGE, ["sleep", "600"], labels={"booth-test.unrelated": "1"}
        )
        cleanup.containers.append(unrelated["Id"])
        if index % 10 == 0:
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


def test_a_cold_tls_apply_hands_the_booth_the_client_files_it_issued(
    make_booth: Callable[..., Any],
) -> None:
    """The booth created next to a new sidecar gets the client files this run issued;
    reading them back from the sidecar is an archive request the engine pays for (tens
    of milliseconds) while the inner daemon boots."""
    b = make_booth(daemon_endpoint="tls")
    sent, code = record_requests(lambda: main(["-q", "-C", str(b.path), "apply"]))
    assert code == 0
    archive = [r for r in sent if r.endswith("/archive")]
    assert [r.split()[0] for r in archive] == ["PUT", "PUT"]  # sidecar, then booth
    for name in ("ca.pem", "cert.pem", "key.pem"):
        in_sidecar = docker_cli("exec", b.sidecar, "cat", f"/etc/booth/tls/client/{name}")
        in_booth = docker_cli("exec", b.booth, "cat", f"/etc/booth/docker-tls/{name}")
        assert in_booth.stdout == in_sidecar.stdout != ""
