"""Checks made before a plan touches anything, so a doomed apply creates nothing.

Host ports: Docker only finds out that a port is taken when it *starts* the container,
after the network, volume and container exist. Asking first lets ``apply`` fail with the
port and its holder named, and nothing half-created.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path

import attrs

_LISTEN = "0A"


@attrs.frozen
class BusyPort:
    ip: str
    port: int
    proto: str
    holder: str


def busy_host_ports(bindings: Iterable[tuple[str, int, str]]) -> list[BusyPort]:
    """The ``(host ip, port, proto)`` bindings that something on this host already holds.

    Meaningful only when the engine runs on this host (a local socket endpoint).
    """
    busy = []
    for ip, port, proto in sorted(set(bindings)):
        if proto != "sctp" and not _can_bind(ip, port, proto):
            busy.append(BusyPort(ip, port, proto, _holder(port, proto)))
    return busy


def describe_busy(busy: Iterable[BusyPort], containers: Mapping[int, str]) -> str:
    """One line naming every busy port and, where known, who holds it."""
    parts = []
    for item in busy:
        holder = containers.get(item.port) or item.holder
        where = f" (held by {holder})" if holder else ""
        parts.append(f"{item.ip}:{item.port}/{item.proto}{where}")
    return (
        f"host port already in use: {', '.join(parts)}; free it or change the port "
        "(nothing was created)"
    )


def _can_bind(ip: str, port: int, proto: str) -> bool:
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    try:
        with socket.socket(family, kind) as probe:
            if kind == socket.SOCK_STREAM:
                # Ignore TIME_WAIT leftovers: only a live socket should count as a holder.
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((ip, port))
    except OSError as err:
        # An address this host does not have is Docker's problem to report, not "busy".
        return err.errno not in (errno.EADDRINUSE, errno.EACCES)
    return True


def _holder(port: int, proto: str) -> str:
    """``comm[pid]`` of the local process listening on ``port``, from /proc; best effort."""
    inodes = set()
    for table in (f"/proc/net/{proto}", f"/proc/net/{proto}6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            matches = len(fields) > 9 and int(fields[1].rsplit(":", 1)[1], 16) == port
            if matches and (proto == "udp" or fields[3] == _LISTEN):
                inodes.add(fields[9])
    if not inodes:
        return ""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
                return f"{comm}[{pid}]"
    return ""
