"""Is the inner Docker daemon answering? Asked from inside the sidecar's own namespace.

One exec runs a polling loop (25 ms apart for the first 2 s, then 200 ms), which is far
cheaper than an exec per attempt. If the sidecar exits, the exec ends with it and the
wait fails at once with its last log lines.

The ``tcp`` listener is asked over plain HTTP on 127.0.0.1:2375, as always. The ``tls``
and ``unix`` listeners are asked on the daemon's own unix socket with the docker CLI that
DinD images carry: wget cannot present a client certificate, and once the socket exists a
request on it blocks until the daemon serves, so the answer comes when the daemon's does.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import Any

from reconciler.core.inner_daemon import (
    LOCAL_SOCKET,
    PING_URL,
    InnerListener,
    http_ping,
    socket_ping,
)
from reconciler.engine.engine import Engine
from reconciler.errors import EngineError, NotReadyError

LOG_TAIL_LINES = 15
# What dockerd logs when its shutdown is done (stable since Docker 1.12). After it, the
# daemon only stops its containerd and polls once a second until it is gone (moby
# libcontainerd/supervisor stopDaemon): a second of nothing on every stop. Containers
# were stopped and state written before this line, so the sidecar may be killed here.
SHUTDOWN_COMPLETE = b"Daemon shutdown complete"
# How long a sidecar whose poller exec ended may take to be reported as exited.
EXIT_SETTLE_SECONDS = 3

READY_SCRIPT = """\
deadline=$(( $(date +%s) + {timeout} ))
delay=0.025
tries=0
{setup}
while :; do
  if {probe} >/dev/null 2>&1; then
    echo ready; exit 0
  fi
  # -gt: whole seconds, so wait at least the full timeout, never a second less.
  [ "$(date +%s)" -gt "$deadline" ] && exit 1
  # A heartbeat: the API client reads this exec's output with a 60 s socket timeout, so
  # a silent wait longer than that (ready-timeout defaults to 120 s) would end in a
  # read timeout instead of a readiness verdict.
  printf .
  tries=$((tries + 1))
  [ "$tries" -gt 80 ] && delay=0.2
  sleep "$delay"
done
"""
# The loop's ping is ``endpoints``' (the one definition), with its target in a variable.
HTTP_SETUP = f"url={PING_URL}"
SOCKET_SETUP = f"sock={LOCAL_SOCKET}"
# Inserted as they are (not formatted again).
HTTP_PROBE = "{ " + http_ping('"$url"') + "; }"
SOCKET_PROBE = '[ -S "$sock" ] && ' + " ".join(socket_ping('"$sock"'))


def probe_script(listener: InnerListener, timeout: float) -> str:
    """The shell loop that answers ``ready`` once the daemon does, or exits 1."""
    if listener == InnerListener.TCP:
        setup, probe = HTTP_SETUP, HTTP_PROBE
    else:
        setup, probe = SOCKET_SETUP, SOCKET_PROBE
    return READY_SCRIPT.format(timeout=max(1, int(timeout + 0.999)), setup=setup, probe=probe)


def wait_ready(
    engine: Engine,
    container: str,
    name: str,
    timeout: float,
    listener: InnerListener = InnerListener.TCP,
) -> None:
    """Return once the daemon answers; raise :class:`NotReadyError` otherwise."""
    script = probe_script(listener, timeout)
    started = time.monotonic()
    try:
        exit_code, output = engine.exec_output(container, ["sh", "-c", script])
    except EngineError as err:
        exit_code, output = None, str(err)
    if exit_code == 0 and "ready" in output:
        return
    # Exit code 1 is the poller's own verdict (its deadline passed); anything else
    # before the deadline means the exec ended under it, e.g. because the sidecar died.
    timed_out = exit_code == 1 or time.monotonic() - started >= timeout
    raise NotReadyError(_not_ready_message(engine, container, name, timeout, timed_out))


def _not_ready_message(
    engine: Engine, container: str, name: str, timeout: float, timed_out: bool
) -> str:
    try:
        state = _settled_state(engine, container, 0 if timed_out else EXIT_SETTLE_SECONDS)
        logs = engine.logs(container, LOG_TAIL_LINES)
    except EngineError:
        state, logs = {"Status": "missing"}, ""
    tail = " | ".join(line.strip() for line in logs.strip().splitlines()[-LOG_TAIL_LINES:])
    if state.get("Status") != "running":
        why = (
            f"the sidecar {name} exited (status {state.get('Status')}, "
            f"exit code {state.get('ExitCode')})"
        )
    elif timed_out:
        why = f"the inner Docker daemon in {name} did not answer within {timeout:g}s"
    else:
        why = f"the readiness check in {name} ended early (still running)"
    return f"{why}; last log lines: {tail or '(none)'}"


def _settled_state(engine: Engine, container: str, wait_seconds: int) -> Mapping[str, Any]:
    """The container's state once it is no longer running, or after ``wait_seconds``.

    The poller exec ends the moment the sidecar's main process dies, but the engine
    reports the container as exited a moment later; reading the state at once would
    call a crashed sidecar a slow one ("did not answer within 120s" after one second).
    One wait request answers when it has exited (polling the state paid a round trip
    per try, and on a remote engine each is a network round trip).
    """
    if wait_seconds > 0:
        with contextlib.suppress(EngineError):
            engine.primitives.wait(container, wait_seconds)
    return engine.container_state(container)
