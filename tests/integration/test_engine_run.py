"""``booth run``: CodingBooth's session — apply, follow the booth, tear down when it ends."""

from __future__ import annotations

import socket
import time

import pytest
from engine_support import inspect_volume, labelled_containers, labelled_networks

pytestmark = pytest.mark.docker


def test_run_shows_all_output_returns_the_booths_exit_code_and_tears_down(
    make_booth, docker_client
):
    b = make_booth()

    # The command ends at once: its output and its end must not be missed by the session.
    result = b.cli(
        "run", "--", "sh", "-c", "echo line1; echo line2; docker ps -q | wc -l; exit 3", timeout=60
    )

    assert result.rc == 3, result.explain()
    assert result.stdout.split() == ["line1", "line2", "0"], result.explain()
    assert labelled_containers(docker_client, b.instance) == {}
    assert labelled_networks(docker_client, b.instance) == []
    assert inspect_volume(docker_client, b.volume) is not None  # the data volume stays


def test_failed_run_reports_the_real_error_and_cleans_up(make_booth, docker_client):
    b = make_booth()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]

        started = time.monotonic()
        result = b.cli("run", "-p", f"{taken}:8080", "--", "true", timeout=60)
        elapsed = time.monotonic() - started

    assert result.rc == 1, result.explain()
    assert elapsed < 8, f"took {elapsed:.1f}s: {result.explain()}"
    assert "already in use" in result.stderr and str(taken) in result.stderr, result.explain()
    assert labelled_containers(docker_client, b.instance) == {}
    assert labelled_networks(docker_client, b.instance) == []  # this run created it: removed
