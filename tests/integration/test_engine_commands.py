"""The everyday commands against a real engine: destroy with a broken config, exec, logs,
doctor."""

from __future__ import annotations

import json
import time

import pytest
from engine_support import labelled_containers, labelled_networks
from test_engine_run import TerminalSession

pytestmark = pytest.mark.docker


def test_destroy_works_when_the_config_no_longer_parses(make_booth, docker_client):
    b = make_booth()
    b.ok("apply")
    b.write_config(run_args=["-p", "not-a-port", "--frobnicate"])

    broken = b.cli("plan")
    assert broken.rc == 1 and "'--frobnicate'" in broken.stderr

    b.ok("destroy", "--volumes")
    assert labelled_containers(docker_client, b.instance) == {}
    assert labelled_networks(docker_client, b.instance) == []


def test_exec_runs_in_the_booth_with_its_exit_code_and_both_streams(make_booth):
    b = make_booth()
    b.ok("apply")

    result = b.cli("exec", "--", "sh", "-c", 'echo "out $DOCKER_HOST"; echo err >&2; exit 3')

    assert result.rc == 3, result.explain()
    assert result.stdout == "out tcp://localhost:2376\n"
    assert result.stderr == "err\n"
    # The booth's docker CLI reaches the inner daemon through DOCKER_HOST.
    inner = b.cli("exec", "--", "docker", "info", "--format", "{{.ServerVersion}}")
    assert inner.rc == 0 and inner.stdout.strip(), inner.explain()


def test_exec_i_passes_piped_stdin_on_and_a_failed_start_goes_to_stderr(make_booth):
    """As ``docker exec -i``: the pipe's bytes reach the command, whose end of input is
    the pipe's end; without ``-i`` it gets none. The engine's own "cannot start it"
    message is an error: stderr, not stdout."""
    b = make_booth(dind=False)
    b.ok("apply")
    script = 'wc -l; echo "to stderr" >&2; exit 5'

    piped = b.cli("exec", "-i", "--", "sh", "-c", script, stdin="one\ntwo\nthree\n")
    assert piped.rc == 5, piped.explain()
    assert piped.stdout.strip() == "3" and piped.stderr == "to stderr\n"
    without = b.cli("exec", "--", "sh", "-c", script, stdin="one\ntwo\nthree\n")
    assert without.rc == 5 and without.stdout.strip() == "0", without.explain()

    missing = b.cli("exec", "--", "no-such-command-here")
    assert missing.rc != 0 and missing.stdout == "", missing.explain()
    assert "no-such-command-here" in missing.stderr


def test_exec_on_a_terminal_gets_a_tty(make_booth):
    b = make_booth()
    b.ok("apply")

    # The size is sent right after the exec starts (as docker exec -it does on API 1.41,
    # which has no size at create): the command reads it a moment later.
    script = "tty; sleep 1; stty size; exit 4"
    session = TerminalSession(b, "exec", "--", "sh", "-c", script, rows=33)
    try:
        assert session.wait() == 4
    finally:
        session.close()
    assert "/dev/pts/" in session.text()
    assert "33 100" in session.text()


def test_exec_and_logs_without_a_running_booth_are_one_line_errors(make_booth):
    b = make_booth()
    for args in (("exec", "--", "true"), ("logs",), ("logs", "sidecar")):
        result = b.cli(*args)
        assert result.rc == 1, result.explain()
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("booth: error: ")
        assert "booth apply" in result.stderr


def test_logs_show_the_sidecar_daemon_and_the_booth_each_stream_to_its_own(make_booth):
    """As ``docker logs``: a container's stdout to ours, its stderr to ours."""
    script = "echo hello-from-booth; echo oops-from-booth >&2; sleep infinity"
    b = make_booth(cmds=["sh", "-c", script])
    b.ok("apply")

    sidecar = b.ok("logs", "sidecar")
    assert "API listen on" in sidecar.stderr and "API listen on" not in sidecar.stdout
    tail = b.ok("logs", "sidecar", "--tail", "2")
    assert 1 <= len(tail.stderr.splitlines()) <= 2
    booth = b.ok("logs")
    assert booth.stdout == "hello-from-booth\n"
    assert "oops-from-booth\n" in booth.stderr


def test_the_log_of_a_booth_with_a_tty_is_one_stream_on_stdout(make_booth):
    """A TTY joins the two streams in the container already: ``docker logs`` prints it all
    on stdout, and so does booth."""
    script = "echo to-stdout; echo to-stderr >&2; sleep infinity"
    b = make_booth(dind=False, run_args=["-t"], cmds=["sh", "-c", script])
    b.ok("apply")
    deadline = time.monotonic() + 30
    while "to-stderr" not in (booth := b.ok("logs")).stdout and time.monotonic() < deadline:
        time.sleep(0.2)
    assert booth.stdout.replace("\r\n", "\n") == "to-stdout\nto-stderr\n"
    assert "to-std" not in booth.stderr


def test_doctor_passes_for_a_running_booth_and_names_a_taken_port(make_booth):
    b = make_booth()
    b.ok("apply")

    result = b.cli("doctor", "--json")
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert result.rc == 0, result.explain()
    assert checks["engine"]["status"] == "ok" and "docker" in checks["engine"]["detail"]
    assert checks["inner daemon"]["status"] == "ok"
    assert checks["ports"]["status"] == "ok"  # our own running sidecar holds them
    assert all(c["status"] == "ok" for n, c in checks.items() if n.startswith("image "))

    other = make_booth(port=b.port, name=f"{b.name}x")  # another instance, same host port
    clash = other.cli("doctor")
    assert clash.rc == 1
    assert f"127.0.0.1:{b.port}/tcp" in clash.stdout and "FAIL" in clash.stdout
