"""A real engine restart between two runs: ``apply`` brings the booth back.

Restarting dockerd stops every container on the machine, so this test runs only where the
engine belongs to the test run: ``.ci/run`` sets ``BOOTH_TEST_RESTART_ENGINE=1`` only when
``.ci/docker-up.sh`` started dockerd in that same run, and the test restarts that dockerd
(elsewhere tests/expected-skips.txt allows the skip). Elsewhere the same situation is
covered by ``test_containers_left_exited_by_an_engine_restart_are_brought_back``.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import docker
import pytest
from engine_support import assert_converges, assert_destroy_leaves_nothing, container_states

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(
        os.environ.get("BOOTH_TEST_RESTART_ENGINE") != "1",
        reason="restarts the Docker engine; .ci/run enables it with BOOTH_TEST_RESTART_ENGINE=1",
    ),
]
CI = Path(__file__).resolve().parents[2] / ".ci"


def _script(name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(CI / name)], capture_output=True, text=True, check=False)


def _restart_engine() -> None:
    down = _script("docker-down.sh")
    assert down.returncode == 0, down.stderr
    assert "no dockerd started" not in down.stderr, "this engine is not ours to restart"
    stopped = subprocess.run(["docker", "info"], capture_output=True, check=False)
    assert stopped.returncode != 0, "the engine still answers after docker-down.sh"
    up = _script("docker-up.sh")
    assert up.returncode == 0, up.stderr


def test_apply_after_a_real_engine_restart_converges(make_booth) -> None:
    b = make_booth()
    b.ok("apply")
    ids = {role: b.container_id(role) for role in ("sidecar", "booth")}

    _restart_engine()
    b.client = docker.from_env()  # the old client's connections died with the engine
    deadline = time.monotonic() + 10
    while container_states(b) != {"sidecar": "exited", "booth": "exited"}:
        assert time.monotonic() < deadline, container_states(b)
        time.sleep(0.1)

    assert_converges(b)
    assert {role: b.container_id(role) for role in ("sidecar", "booth")} == ids
    assert_destroy_leaves_nothing(b)
