"""What a person sees around the real engine: `booth list` across code directories, the
URLs `booth status` shows, sentences (never raw log events) from `run`, config warnings
and Ctrl-C, and the quiet ends of `logs -f` and an empty `destroy`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid

import pytest
from engine_support import (
    LABEL_INSTANCE,
    PAUSE_MARKER,
    eventually,
    free_port,
    http_get,
    labelled_containers,
)

pytestmark = pytest.mark.docker

# What a structlog line looks like: `[info     ] session.ended removed=3`.
RAW_EVENT_MARKS = ("[info", "[warning", "session.ended", "config.warning", "interrupt.", "=")


def assert_no_raw_events(stderr: str) -> None:
    booth_lines = [line for line in stderr.splitlines() if not line.startswith("to-stderr")]
    raw = [line for line in booth_lines if any(mark in line for mark in RAW_EVENT_MARKS)]
    assert raw == [], stderr


def _booth_name(docker_client, instance: str) -> str:
    """The booth container's name as the engine reports it."""
    for name, container in labelled_containers(docker_client, instance).items():
        if container["Labels"].get("io.codingbooth.role") == "booth":
            return name
    raise AssertionError(f"no booth container of {instance}")


def test_list_shows_every_booth_of_every_code_dir_in_json_and_text(
    make_booth, docker_client, tmp_path
):
    dind = make_booth()
    plain = make_booth(dind=False, run_args=["-p", "127.0.0.1::8080"])
    assert dind.path != plain.path
    dind.ok("apply")
    plain.ok("apply")
    elsewhere = tmp_path / "not-a-booth"
    elsewhere.mkdir()

    listed = subprocess.run(
        [sys.executable, "-m", "reconciler", "-C", str(elsewhere), "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    by_dir = {row["code_dir"]: row for row in json.loads(listed.stdout)}
    for b in (dind, plain):
        row = by_dir[str(b.path)]
        assert row["name"] == _booth_name(docker_client, row["instance"])
        assert row["state"] == "running"
        assert f"http://127.0.0.1:{b.port}" in row["urls"]
        assert 0 <= row["age_seconds"] < 600
    assert sorted(c["role"] for c in by_dir[str(dind.path)]["containers"]) == ["booth", "sidecar"]
    assert [c["role"] for c in by_dir[str(plain.path)]["containers"]] == ["booth"]
    # The engine-chosen port of `-p 127.0.0.1::8080` is a URL too, and it answers nothing
    # we care about: only its presence is checked.
    assert len(by_dir[str(plain.path)]["urls"]) == 2

    text = plain.ok("list").stdout
    header, *rows = text.splitlines()
    assert header.split() == ["NAME", "CODE", "DIR", "STATE", "AGE", "URLS"]
    for b in (dind, plain):
        line = next(r for r in rows if f" {b.path} " in r)
        assert line.startswith(by_dir[str(b.path)]["name"] + " ")
        assert " running " in line and f"http://127.0.0.1:{b.port}" in line

    dind.ok("destroy")
    after = json.loads(plain.ok("list", "--json").stdout)
    assert str(dind.path) not in {row["code_dir"] for row in after}
    assert str(plain.path) in {row["code_dir"] for row in after}


def test_status_shows_the_urls_of_the_published_ports(make_booth):
    b = make_booth(dind=False, cmds=["busybox", "httpd", "-f", "-p", "10000", "-h", "/etc"])
    b.ok("apply")

    text = b.ok("status").stdout
    assert f"URLs: http://127.0.0.1:{b.port}\n" in text
    assert json.loads(b.ok("status", "--json").stdout)["urls"] == [f"http://127.0.0.1:{b.port}"]
    # ...and the URL is what it says: the booth answers there.
    eventually(lambda: http_get(b.port, "/hostname"), what="the booth's web server", timeout=10)


def test_run_says_sentences_not_log_events(make_booth):
    b = make_booth(
        code="/elsewhere", cmds=["sh", "-c", "echo hi; echo to-stderr >&2; echo $BOOTH_IT_NOPE"]
    )

    result = b.cli("run", timeout=90)

    assert result.rc == 0, result.explain()
    assert result.stdout.split() == ["hi"], result.explain()
    lines = result.stderr.splitlines()
    assert "to-stderr" in lines
    assert any(line.startswith("booth: warning: ") and "'code'" in line for line in lines)
    assert any(
        line.startswith("booth: warning: ") and "$BOOTH_IT_NOPE is not set" in line
        for line in lines
    )
    assert lines[-1] == "Session ended; removed its 3 objects (a data volume stays).", lines
    assert_no_raw_events(result.stderr)
    # The structured events are still there for those who ask.
    verbose = b.cli("-v", "run", "--", "true", timeout=90)
    assert "session.ended" in verbose.stderr and "config.warning" in verbose.stderr


def test_ctrl_c_during_apply_and_run_is_said_in_sentences(make_booth, gated_dind_image):
    b = make_booth(dind_image=gated_dind_image)
    apply = b.start("apply")
    eventually(
        lambda: (
            labelled_containers(b.client, b.instance)[b.sidecar]["State"] == "running"
            or (_ for _ in ()).throw(AssertionError("not yet"))
        ),
        what="the gated sidecar running",
        timeout=60,
    )
    time.sleep(0.5)  # into wait-ready, which Ctrl-C abandons at once
    apply.send(signal.SIGINT)
    result = apply.result(timeout=30)
    assert result.rc == 130, result.explain()
    assert result.stderr.splitlines()[-1].startswith("booth: error: interrupted"), result.explain()
    assert_no_raw_events(result.stderr)
    b.ok("destroy", "--volumes")

    # Between steps, the first Ctrl-C lets the current step finish and says so.
    held = make_booth(dind=False)
    held.ok("apply")
    destroy = held.start("destroy", pause_before="stop-container:booth")
    destroy.wait_for(PAUSE_MARKER)
    destroy.send(signal.SIGINT)
    stopped = destroy.result(timeout=30)
    assert stopped.rc == 130, stopped.explain()
    assert (
        "booth: warning: SIGINT received: stopping after the current step "
        "(press Ctrl-C again to stop at once)."
    ) in stopped.stderr.splitlines(), stopped.explain()
    assert_no_raw_events(stopped.stderr.replace(PAUSE_MARKER, ""))
    held.ok("destroy")

    plain = make_booth(dind=False)
    run = plain.start("run", "--", "sleep", "60")
    eventually(
        lambda: (
            labelled_containers(plain.client, plain.instance)[plain.booth]["State"] == "running"
            or (_ for _ in ()).throw(AssertionError("not yet"))
        ),
        what="the session's booth running",
        timeout=60,
    )
    run.send(signal.SIGINT)
    ended = run.result(timeout=60)
    assert ended.rc == 130, ended.explain()
    assert "booth: warning: Session interrupted." in ended.stderr.splitlines(), ended.explain()
    assert "Session ended; removed its 1 object (a data volume stays)." in ended.stderr
    assert_no_raw_events(ended.stderr)


def test_logs_follow_ended_by_sigterm_is_quiet_and_empty_destroy_says_so(make_booth):
    b = make_booth(dind=False, cmds=["sh", "-c", "echo started; sleep 600"])
    b.ok("apply")
    follow = b.start("logs", "-f")
    eventually(
        lambda: (
            "started" in follow.stdout_path.read_text()
            or (_ for _ in ()).throw(AssertionError("no output yet"))
        ),
        what="the followed log",
    )
    follow.send(signal.SIGTERM)
    result = follow.result(timeout=30)
    assert (result.rc, result.stdout, result.stderr) == (0, "started\n", ""), result.explain()

    b.ok("destroy")
    again = b.ok("destroy")
    instance = labelled_instance_of(again.stdout)
    assert (
        again.stdout == f"Nothing to destroy: the engine has no objects of instance {instance}.\n"
    )


def labelled_instance_of(text: str) -> str:
    return text.rsplit("instance ", 1)[-1].rstrip(".\n")


assert LABEL_INSTANCE == "io.codingbooth.instance"


def test_doctor_names_every_missing_image_and_apply_points_at_it(make_booth):
    """Without registry access a newcomer learns all missing images at once, each with
    how to load it (the engine here has only the local test images)."""
    # A registry on a closed local port: apply's pull fails at once, asking only 127.0.0.1.
    registry = f"127.0.0.1:{free_port()}"
    sidecar_image = f"{registry}/booth-test/missing-dind:{uuid.uuid4().hex[:8]}"
    booth_image = f"{registry}/booth-test/missing-booth:{uuid.uuid4().hex[:8]}"
    b = make_booth(dind_image=sidecar_image, image=booth_image)

    doctor = b.cli("doctor")
    assert doctor.rc == 0, doctor.explain()  # a warning: apply may still pull them
    for image, key in ((sidecar_image, "dind-image"), (booth_image, "image")):
        line = next(ln for ln in doctor.stdout.splitlines() if f"image {image} " in ln)
        assert line.startswith("WARN") and f"not present ({key})" in line, doctor.stdout
        assert f"`docker save {image} -o image.tar`" in doctor.stdout
    checks = json.loads(b.ok("doctor", "--json").stdout)["checks"]
    assert {c["name"] for c in checks if c["status"] == "warn"} >= {
        f"image {sidecar_image}",
        f"image {booth_image}",
    }

    apply = b.cli("apply")
    assert apply.rc == 1 and "`booth doctor` lists every image" in apply.stderr, apply.explain()
