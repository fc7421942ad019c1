"""The everyday commands end to end, in-process, on the in-memory engine (memory_cli.py):
plan, apply, destroy, status and list as the console script runs them, their output
formats, and the refusals that must come before anything is created."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from memory_apply import owned_names
from memory_cli import DIND, MemoryCli, memory_cli

from reconciler.apply.lock import instance_lock
from reconciler.core.model import Kind
from reconciler.errors import EXIT_CHANGES, EXIT_ERROR

CREATED = {"demo-10000-net", "demo-dind-data", "demo-10000-dind", "demo"}


@pytest.fixture
def cli(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> MemoryCli:
    return memory_cli(monkeypatch, tmp_path, capsys)


def test_plan_names_the_engine_and_every_object_to_create_and_changes_nothing(
    cli: MemoryCli,
) -> None:
    ran = cli.booth("plan")
    assert ran.code == 0
    assert ran.out.startswith("Engine: docker memory (API 1.41), remote over memory, memory://\n")
    created = [line.split()[1:3] for line in ran.out.splitlines() if line.startswith("  + ")]
    assert sorted(name for _, name in created) == sorted(CREATED)
    assert "Plan: 4 to create, 0 to replace, 0 to start, 0 to remove." in ran.out
    assert cli.engine.memory.calls == []
    assert cli.booth("plan", "--detailed-exitcode").code == EXIT_CHANGES


def test_apply_creates_the_instance_reports_it_and_the_next_plan_is_empty(
    cli: MemoryCli,
) -> None:
    ran = cli.booth("apply")
    assert ran.code == 0, ran.err
    assert "Apply complete in" in ran.out
    assert "4 created, 0 replaced, 0 started, 0 removed." in ran.out
    assert owned_names(cli.engine, "demo") == CREATED
    assert cli.engine.container_state("demo")["Running"] is True
    # A remote engine's host cannot be probed: the preflight says so, and goes on.
    assert "is remote: no container of it holds 8080, 10000" in ran.err
    again = cli.booth("plan", "--detailed-exitcode")
    assert again.code == 0
    assert "No changes. The booth matches the configuration." in again.out
    assert cli.engine.memory.closed  # the workspace ends its engine's connections


def test_apply_dry_run_shows_the_plan_and_creates_nothing(cli: MemoryCli) -> None:
    ran = cli.booth("apply", "--dry-run")
    assert ran.code == 0
    assert "Plan: 4 to create" in ran.out
    assert "Apply complete" not in ran.out
    assert cli.engine.memory.calls == []


def test_apply_json_keeps_stdout_to_the_document(cli: MemoryCli) -> None:
    ran = cli.booth("apply", "--json")
    assert ran.code == 0
    document = json.loads(ran.out)
    assert document["instance"] == "demo"
    assert {s["op"] for s in document["steps"]} >= {"create-network", "start-container"}
    assert "Apply complete" in ran.err


def test_apply_format_docker_needs_dry_run_and_then_prints_docker_commands(
    cli: MemoryCli,
) -> None:
    refused = cli.booth("apply", "--format", "docker")
    assert refused.code == EXIT_ERROR
    assert refused.err.count("\n") == 1
    assert "--format docker prints the commands instead of running them: add --dry-run" in (
        refused.err
    )
    ran = cli.booth("apply", "--format", "docker", "--dry-run")
    assert ran.code == 0
    commands = [line.split()[:2] for line in ran.out.splitlines() if line.startswith("docker ")]
    assert ["docker", "network"] in commands and commands[-1] == ["docker", "start"]
    assert ran.out.startswith("#!/bin/sh\n")
    assert cli.engine.memory.calls == []


def test_json_and_another_format_contradict_each_other(cli: MemoryCli) -> None:
    ran = cli.booth("plan", "--json", "--format", "text")
    assert ran.code == EXIT_ERROR
    assert "plan: --json and --format text contradict each other" in ran.err
    assert cli.connected_to == []


def test_an_offline_plan_connects_to_nothing_and_cannot_pull(cli: MemoryCli) -> None:
    ran = cli.booth("plan", "--offline", "--json")
    assert ran.code == 0
    assert len(json.loads(ran.out)["steps"]) > 0
    assert cli.connected_to == []
    refused = cli.booth("plan", "--offline", "--pull")
    assert refused.code == EXIT_ERROR
    assert "--pull asks the engine to pull; it cannot be --offline" in refused.err


def test_plan_pull_pulls_the_images_first(cli: MemoryCli) -> None:
    images = sorted(cli.engine.memory.images)
    cli.engine.memory.remote = set(images)  # on a registry only
    cli.engine.memory.images.clear()
    assert cli.booth("plan").code == 0
    assert cli.engine.memory.calls == []  # a plan pulls only when asked
    ran = cli.booth("plan", "--pull", "--json")
    assert ran.code == 0, ran.err
    assert sorted(ref for op, ref in cli.engine.memory.calls if op == "pull") == images
    assert all(cli.engine.image_present(image) for image in images)


def test_destroy_keeps_the_data_volume_unless_asked_and_then_has_nothing_left(
    cli: MemoryCli,
) -> None:
    assert cli.booth("apply").code == 0
    ran = cli.booth("destroy")
    assert ran.code == 0
    assert "3 removed." in ran.out
    assert "Keeping data volume demo-dind-data; `booth destroy --volumes` removes it." in ran.out
    assert owned_names(cli.engine, "demo") == {"demo-dind-data"}
    ran = cli.booth("destroy", "--volumes", "--json")
    assert ran.code == 0
    assert [s["op"] for s in json.loads(ran.out)["steps"]] == ["remove-volume"]
    assert "1 removed." in ran.err
    assert owned_names(cli.engine, "demo") == set()
    nothing = cli.booth("destroy")
    assert nothing.out == "Nothing to destroy: the engine has no objects of instance demo.\n"


def test_destroy_never_touches_a_foreign_object_of_the_same_name(cli: MemoryCli) -> None:
    cli.engine.primitives.create_network("demo-10000-net", "bridge", {"owner": "someone else"})
    ran = cli.booth("destroy", "--volumes")
    assert ran.code == 0
    assert cli.engine.lookups.inspect(Kind.NETWORK, "demo-10000-net") is not None
    assert [c for c in cli.engine.memory.calls if c[0].startswith("remove")] == []


def test_status_shows_each_object_its_state_and_how_to_reach_the_ports(cli: MemoryCli) -> None:
    before = cli.booth("status")
    assert before.code == 0
    assert "booth     demo             missing" in before.out
    assert cli.booth("apply").code == 0
    ran = cli.booth("status")
    lines = ran.out.splitlines()
    assert lines[0] == "Instance demo"
    assert any(
        line.split()[:4] == ["sidecar", "demo-10000-dind", "running", "yes"] for line in lines
    )
    assert "URLs: http://127.0.0.1:8080  http://127.0.0.1:10000" in ran.out
    assert "Engine: docker memory (API 1.41), remote over memory, memory://" in ran.out
    as_json = json.loads(cli.booth("status", "--json").out)
    assert as_json["instance"] == "demo"
    states = {row["name"]: row["state"] for row in as_json["resources"]}
    assert states == {n: "created" if "-net" in n or "-data" in n else "running" for n in CREATED}


def test_status_says_which_objects_a_config_change_left_out_of_date(
    cli: MemoryCli,
) -> None:
    assert cli.booth("apply").code == 0
    (cli.code / ".booth" / "config.toml").write_text(DIND.replace("8080:8080", "8081:8081"))
    rows = json.loads(cli.booth("status", "--json").out)["resources"]
    stale = {row["name"] for row in rows if not row["up_to_date"]}
    # The booth joins the sidecar's network namespace: it is replaced with it.
    assert stale == {"demo-10000-dind", "demo"}


def test_list_shows_every_booth_on_the_engine(cli: MemoryCli) -> None:
    empty = cli.booth("list", "--json")
    assert json.loads(empty.out) == []
    assert cli.booth("apply").code == 0
    ran = cli.booth("list")
    assert ran.out.splitlines()[0].split() == ["NAME", "CODE", "DIR", "STATE", "AGE", "URLS"]
    row = ran.out.splitlines()[1].split()
    assert row[0] == "demo" and row[1] == str(cli.code) and row[2] == "running"
    assert "http://127.0.0.1:8080" in row


def test_an_apply_that_cannot_get_the_instance_lock_names_its_holder_and_changes_nothing(
    cli: MemoryCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOOTH_LOCK_TIMEOUT", "0")
    with instance_lock(cli.engine.address, "demo"):
        ran = cli.booth("apply")
    assert ran.code == EXIT_ERROR
    assert f"instance demo is locked by pid {os.getpid()} (another booth apply/destroy" in ran.err
    assert cli.engine.memory.calls == []
    assert cli.booth("apply").code == 0  # released: the next one runs
    monkeypatch.setenv("BOOTH_LOCK_TIMEOUT", "soon")
    refused = cli.booth("destroy")
    assert "BOOTH_LOCK_TIMEOUT='soon': expected seconds to wait" in refused.err
    assert owned_names(cli.engine, "demo") == CREATED


def test_a_verbose_json_log_reports_the_snapshot_it_planned_from(cli: MemoryCli) -> None:
    assert cli.booth("apply").code == 0
    ran = cli.booth("--log-format", "json", "-v", "plan")
    events = [json.loads(line) for line in ran.err.splitlines()]
    snapshots = [e for e in events if e["event"] == "observe.snapshot"]
    assert [(e["instance"], e["objects"]) for e in snapshots] == [("demo", 4)]
