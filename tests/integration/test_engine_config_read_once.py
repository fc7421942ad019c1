"""Against the engine: each ``booth`` process reads its config file once (issue 22),
whatever it learns from it: the instance (``destroy``, ``status``), the run mode and the
session's booth (CodingBooth's ``--dryrun``), the build context to prefetch and the
full config (``plan``, ``apply``). Counted in a fresh process by an audit hook on every
``open`` of the file (``cli_support.config_reads``); the commands run for real."""

from __future__ import annotations

import pytest
from cli_support import config_reads
from engine_support import BOOTH_IMAGE, BoothDir

pytestmark = pytest.mark.docker


def reads(b: BoothDir, *command: str) -> tuple[int, int]:
    return config_reads(["-q", "-C", str(b.path), *command], str(b.path / ".booth/config.toml"))


def test_each_command_reads_the_config_once(make_booth) -> None:
    b = make_booth(dind=False)
    assert reads(b, "apply") == (0, 1)
    assert reads(b, "plan", "--detailed-exitcode") == (0, 1)
    assert reads(b, "status") == (0, 1)
    assert reads(b, "--dryrun") == (0, 1)  # CodingBooth's: run mode, then the session's plan
    assert reads(b, "destroy") == (0, 1)
    assert b.client.containers.list(all=True, filters={"name": f"^{b.name}$"}) == []


def test_a_plan_that_prefetches_the_build_context_reads_the_config_once(make_booth) -> None:
    b = make_booth(dind=False)
    b.write_config(image=None)
    (b.path / ".booth" / "Dockerfile").write_text(f"FROM {BOOTH_IMAGE}\nCOPY . /code\n")
    assert reads(b, "plan") == (0, 1)
