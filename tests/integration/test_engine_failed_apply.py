"""A failed apply leaves nothing privileged running (design.md §6, issue 21).

The refusal comes from the real engine, for a value ``plan`` accepted: the booth's
``--mount type=bind`` source exists when the plan is made and is removed just before
one step (removing_booth.py), so the engine answers "bind source path does not exist"
at that create or start. Whatever this run created is then taken back; what existed
before the run is left as it was; the next ``apply`` converges and ``destroy`` cleans up.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from engine_support import (
    assert_converges,
    assert_destroy_leaves_nothing,
    assert_no_raw_errors,
    container_states,
    inspect_network,
    inspect_volume,
    labelled_containers,
    labelled_networks,
    labelled_volumes,
)

pytestmark = pytest.mark.docker

REFUSED = "bind source path does not exist"


def _booth_with_bind(make_booth, tmp_path: Path):
    source = tmp_path / "bind-source"
    source.mkdir()
    b = make_booth(run_args=["--mount", f"type=bind,src={source},dst=/src"])
    return b, source


def _started_containers(docker_client, instance: str, since: float) -> list[str]:
    """Containers of the instance the engine started since ``since`` (its event log)."""
    events = docker_client.events(
        since=int(since),
        until=int(time.time()) + 1,
        filters={"label": f"io.codingbooth.instance={instance}", "event": "start"},
        decode=True,
    )
    return [e["Actor"]["Attributes"]["name"] for e in events]


def _one_error_line(result) -> str:
    assert result.rc == 1, result.explain()
    assert_no_raw_errors(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.explain()
    assert lines[0].startswith("booth: error: "), result.explain()
    return lines[0]


def _nothing_left(docker_client, instance: str) -> None:
    assert labelled_containers(docker_client, instance) == {}
    assert labelled_networks(docker_client, instance) == []
    assert labelled_volumes(docker_client, instance) == []


def test_a_booth_create_the_engine_refuses_comes_before_the_sidecar_ever_runs(
    make_booth, docker_client, tmp_path
):
    b, source = _booth_with_bind(make_booth, tmp_path)
    since = time.time() - 1

    result = b.cli("apply", remove_before=("create-container:booth", source))

    line = _one_error_line(result)
    assert REFUSED in line and f"create-container {b.booth}" in line, line
    assert "taken back what this run did" in line and b.sidecar in line, line
    # The privileged sidecar was created, never started, and is gone with the rest.
    assert _started_containers(docker_client, b.instance, since) == []
    _nothing_left(docker_client, b.instance)

    source.mkdir()
    assert_converges(b)
    assert_destroy_leaves_nothing(b)


def test_a_booth_start_the_engine_refuses_stops_and_removes_the_running_sidecar(
    make_booth, docker_client, tmp_path
):
    b, source = _booth_with_bind(make_booth, tmp_path)

    result = b.cli("apply", remove_before=("start-container:booth", source))

    line = _one_error_line(result)
    assert REFUSED in line and f"cannot start booth {b.booth}" in line, line
    for name in (b.booth, b.sidecar, b.network, b.volume):
        assert name in line, line  # each named as taken back
    _nothing_left(docker_client, b.instance)

    source.mkdir()
    assert_converges(b)
    assert_destroy_leaves_nothing(b)


def test_a_failed_replacement_leaves_what_existed_before_as_it_was(
    make_booth, docker_client, tmp_path
):
    b, source = _booth_with_bind(make_booth, tmp_path)
    b.ok("apply")
    before = {
        "sidecar": b.container_id("sidecar"),
        "network": inspect_network(docker_client, b.network)["Id"],
        "volume": inspect_volume(docker_client, b.volume)["CreatedAt"],
    }
    # Only the booth changes: it is removed, and its new create is refused.
    b.write_config(run_args=["--mount", f"type=bind,src={source},dst=/src", "-e", "NEW=1"])

    result = b.cli("apply", remove_before=("create-container:booth", source))

    line = _one_error_line(result)
    assert REFUSED in line and "taken back" not in line, line  # this run created nothing
    assert container_states(b) == {"sidecar": "running", "booth": None}
    assert b.container_id("sidecar") == before["sidecar"]
    assert inspect_network(docker_client, b.network)["Id"] == before["network"]
    assert inspect_volume(docker_client, b.volume)["CreatedAt"] == before["volume"]

    source.mkdir()
    assert_converges(b)
    assert_destroy_leaves_nothing(b)
