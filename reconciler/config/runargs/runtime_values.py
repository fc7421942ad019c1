"""Values of the ``docker run`` flags that set limits, namespaces, lifecycle and devices:
``--ulimit``, ``--sysctl``, ``--restart``, ``--gpus``, ``--ipc``, ``--pid``,
``--group-add`` and ``--expose``.

Like ``config/runargs/values.py``, each parser follows a named piece of Docker's source and refuses
what the docker CLI or the daemon would refuse at create, so ``plan`` says it first.
Every function is pure and takes ``where`` for its messages.
"""

from __future__ import annotations

import re
from typing import Any

from reconciler.config.runargs.mounts import split_csv_record
from reconciler.errors import fail

# go-units ulimit.go ulimitNameMapping ("as" is disabled there too).
ULIMITS = [
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
]
_INT64 = re.compile(r"[+-]?[0-9]+")
# docker CLI opts/opts.go ValidateSysctl: what a container may set in its namespaces.
_IPC_SYSCTLS = frozenset(
    {
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    }
)
RESTART_POLICIES = ("no", "always", "unless-stopped", "on-failure")
IPC_MODES = ("none", "private", "shareable", "host")


def _int64(text: str, what: str, value: str, where: str) -> int:
    """Go's ``strconv.ParseInt(text, 10, 64)``."""
    if not _INT64.fullmatch(text) or not -(1 << 63) <= int(text) < 1 << 63:
        raise fail(where, f"{what} {text!r} in {value!r} is not a whole number")
    return int(text)


def parse_ulimit(value: str, where: str) -> tuple[str, dict[str, Any]]:
    """``--ulimit NAME=SOFT[:HARD]``, go-units ulimit.go ``ParseUlimit``: a known name,
    int64 limits, the hard limit defaults to the soft one; soft must not exceed hard
    (``-1`` is unlimited). Later uses of one name win, as in the CLI's map."""
    name, has_eq, limits = value.partition("=")
    if not has_eq:
        raise fail(where, f"expected NAME=SOFT[:HARD] such as nofile=1024:2048, not {value!r}")
    if name not in ULIMITS:
        raise fail(where, f"{name!r} is not a ulimit (expected one of {', '.join(ULIMITS)})")
    parts = limits.split(":")
    if len(parts) > 2:
        raise fail(where, f"{limits!r} has more than SOFT:HARD")
    soft = _int64(parts[0], "limit", value, where)
    hard = _int64(parts[1], "limit", value, where) if len(parts) == 2 else soft
    if hard != -1 and (soft == -1 or soft > hard):
        raise fail(where, f"the soft limit of {value!r} is above its hard limit")
    return name, {"Name": name, "Soft": soft, "Hard": hard}


def sysctl_in_network_namespace(value: str) -> bool:
    """``net.*`` sysctls live in the network namespace, whose owner (the sidecar in
    DinD mode) must set them: Docker refuses them for a container that joins another's."""
    return value.startswith("net.")


def parse_sysctl(value: str, where: str) -> tuple[str, str]:
    """``--sysctl NAME=VALUE``, docker CLI opts/opts.go ``ValidateSysctl``: IPC
    namespace keys (``kernel.msg*``, ``kernel.sem``, ``kernel.shm*``), ``fs.mqueue.*``
    and ``net.*``; any other key would change the host, and Docker refuses it."""
    name, has_eq, setting = value.partition("=")
    if not has_eq or not name:
        raise fail(where, f"expected NAME=VALUE such as net.ipv4.ip_forward=1, not {value!r}")
    if name not in _IPC_SYSCTLS and not name.startswith(("net.", "fs.mqueue.")):
        raise fail(
            where,
            f"sysctl {name!r} is not namespaced (Docker allows net.*, fs.mqueue.* and "
            "kernel.msg*/sem/shm*)",
        )
    return name, setting


def parse_restart(value: str, where: str) -> dict[str, Any]:
    """``--restart no|always|unless-stopped|on-failure[:N]``: docker CLI opts/parse.go
    ``ParseRestartPolicy`` and the daemon's ``ValidateRestartPolicy`` (a retry count only
    with on-failure, never negative)."""
    name, has_colon, count_text = value.partition(":")
    if name not in RESTART_POLICIES:
        raise fail(where, f"restart policy {name!r} is not one of {', '.join(RESTART_POLICIES)}")
    count = _int64(count_text, "retry count", value, where) if count_text else 0
    if has_colon and not count_text:
        raise fail(where, f"{value!r} has no retry count after ':'")
    if count and name != "on-failure":
        raise fail(where, "a maximum retry count can only be used with on-failure")
    if count < 0:
        raise fail(where, f"retry count {count} is negative")
    return {"Name": name, "MaximumRetryCount": count}


def parse_ipc(value: str, where: str) -> str:
    """``--ipc``: moby api ``IpcMode.Valid``: none, private, shareable, host or
    container:NAME (a name is required)."""
    if value in IPC_MODES or _container_mode(value):
        return value
    raise fail(where, f"expected one of {', '.join(IPC_MODES)} or container:NAME, not {value!r}")


def parse_pid(value: str, where: str) -> str:
    """``--pid``: moby api ``PidMode.Valid``: host or container:NAME (the CLI refuses the
    rest with "invalid PID mode")."""
    if value == "host" or _container_mode(value):
        return value
    raise fail(where, f"expected host or container:NAME, not {value!r}")


def _container_mode(value: str) -> bool:
    kind, _, name = value.partition(":")
    return kind == "container" and bool(name)


def parse_group(value: str, where: str) -> str:
    """``--group-add NAME|GID``: a group the booth's user joins. The image's
    ``/etc/group`` resolves names when the container starts; here only what can never
    be a group is refused."""
    if not value or ":" in value or any(ch.isspace() for ch in value):
        raise fail(where, f"expected a group name or number, not {value!r}")
    return value


def parse_expose(value: str, where: str) -> list[tuple[str, dict[str, Any]]]:
    """``--expose PORT[-END][/PROTO]`` into ``ExposedPorts`` keys, as the CLI expands it
    (one key per port of a range)."""
    ports, _, proto = value.partition("/")
    proto = proto.lower() or "tcp"
    start_text, dash, end_text = ports.partition("-")
    digits = (start_text, end_text) if dash else (start_text,)
    if proto not in ("tcp", "udp", "sctp") or not all(d.isascii() and d.isdigit() for d in digits):
        raise fail(where, f"expected PORT[-END][/tcp|udp|sctp] such as 8080/tcp, not {value!r}")
    start = int(start_text)
    end = int(end_text) if dash else start
    if not 1 <= start <= end <= 65535:
        raise fail(where, f"port range {ports!r} is not within 1..65535 (or ends before it starts)")
    return [(f"{port}/{proto}", {}) for port in range(start, end + 1)]


def parse_gpus(value: str, where: str) -> dict[str, Any]:
    """``--gpus all|N|KEY=VALUE,...`` into a ``DeviceRequest``, docker CLI opts/gpus.go:
    keys count, device, driver, capabilities, options (each at most once); a bare word
    is the count; the count is 1 unless devices are named; ``gpu`` is always a
    capability."""
    request: dict[str, Any] = {"Driver": "", "Count": 0, "DeviceIDs": None, "Options": {}}
    seen: set[str] = set()
    for field in split_csv_record(value, where):
        key, has_value, text = field.partition("=")
        name = key if has_value else "count"
        if name in seen:
            raise fail(where, f"gpu request key {name!r} can be given only once")
        seen.add(name)
        _gpu_field(request, name, text if has_value else key, where)
    if "count" not in seen and request["DeviceIDs"] is None:
        request["Count"] = 1
    request.setdefault("Capabilities", [["gpu"]])
    return request


def _gpu_field(request: dict[str, Any], key: str, text: str, where: str) -> None:
    if key == "count":
        if text != "all" and not re.fullmatch(r"[+-]?[0-9]{1,18}", text):
            raise fail(where, f'gpu count {text!r} must be "all" or a number')
        request["Count"] = -1 if text == "all" else int(text)
    elif key == "device":
        request["DeviceIDs"] = text.split(",")
    elif key == "driver":
        request["Driver"] = text
    elif key == "capabilities":
        request["Capabilities"] = [[*text.split(","), "gpu"]]
    elif key == "options":
        options = (item.partition("=") for item in split_csv_record(text, where))
        request["Options"] = {name: option for name, _, option in options}
    else:
        raise fail(
            where,
            f"unknown gpu request key {key!r} (expected count, device, driver, "
            "capabilities or options)",
        )
