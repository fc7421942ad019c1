"""What a person reads on stderr for each log event booth emits at info or warning level.

Log events are for machines (``--log-format json``) and for debugging (``-v``); without
those, each event is said as one sentence instead (``logs.Logger``). Every info and
warning event in the package has an entry here (a unit test finds them in the source).
Warnings are prefixed ``booth: warning:`` by the caller.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Mapping
from typing import Any

Values = Mapping[str, Any]


def _signal_name(number: object) -> str:
    try:
        return signal.Signals(int(str(number))).name
    except ValueError:
        return f"signal {number}"


def _interrupt(values: Values) -> str:
    name = _signal_name(values.get("signal"))
    again = "press Ctrl-C again" if name == "SIGINT" else f"send {name} again"
    return f"{name} received: stopping after the current step ({again} to stop at once)."


def _session_ended(values: Values) -> str:
    removed = int(values.get("removed", 0))
    if removed == 0:
        return "Session ended; there was nothing to remove."
    objects = "object" if removed == 1 else "objects"
    return f"Session ended; removed its {removed} {objects} (a data volume stays)."


SENTENCES: dict[str, Callable[[Values], str]] = {
    "config.warning": lambda v: str(v["detail"]),
    "interrupt.received": _interrupt,
    "network.kept_foreign": lambda v: f"network {v['name']} was not created by booth: kept.",
    "plan.not_pulled": lambda v: f"{v['detail']}.",
    "ssh.forward_refused": lambda v: (
        f"the engine at {v['endpoint']} refused the forwarded socket ({v['detail']})."
    ),
    "podman.init": lambda v: str(v["detail"]),
    "ports.unchecked": lambda v: str(v["detail"]),
    "render.local_image": lambda v: (
        f"the booth's image {v['image']} is built by booth on this machine, and a cluster "
        "cannot pull it: push it where the cluster pulls from (`docker tag "
        f"{v['image']} REGISTRY/NAME:TAG && docker push REGISTRY/NAME:TAG`) and set `image` "
        "to that name (docs/kubernetes.md)."
    ),
    "session.ended": _session_ended,
    "session.interrupted": lambda v: "Session interrupted.",
    "session.kept": lambda v: (
        f"The booth of {v['instance']} keeps running (keep-alive): `booth exec` reaches it, "
        "`booth destroy` removes it."
    ),
    "volume.kept_foreign": lambda v: f"volume {v['name']} was not created by booth: kept.",
}


def sentence(event: str, values: Values) -> str:
    """The sentence for ``event``; an event without one says its ``detail`` (or its name),
    never its key=value pairs."""
    say = SENTENCES.get(event)
    if say is not None:
        return say(values)
    return str(values.get("detail", event))
