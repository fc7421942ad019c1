"""What changes when the engine is not on this machine. Pure helpers, no SDK.

A bind source is a path on the *engine's* host: the code directory is sent as a
``Mounts`` bind, which Docker refuses when the source is missing (``-v``, a ``Binds``
entry, would create an empty directory there: the classic "my code dir is empty").
Published ports bind the engine host's addresses, so ``status`` says how to reach them
from here; ``127.0.0.1`` there is not ``127.0.0.1`` here.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from reconciler.core.model import CODE_MOUNT
from reconciler.core.volumes import BINDS, split_volume
from reconciler.engine.seam import EngineInfo

# moby daemon/volume/mounts: errBindSourceDoesNotExist
_MISSING_BIND = re.compile(r"bind source path does not exist: (\S+)")


def describe(info: EngineInfo) -> str:
    """One line: which engine, where, and how booth reached it."""
    where = "local" if info.local else f"remote over {info.transport or 'tcp'}"
    via = f", {info.source}" if info.source and info.source not in ("default",) else ""
    return (
        f"Engine: {info.kind} {info.version} (API {info.api_version}), {where}, {info.address}{via}"
    )


def as_dict(info: EngineInfo) -> dict[str, Any]:
    return {
        "kind": info.kind,
        "version": info.version,
        "api_version": info.api_version,
        "endpoint": info.address,  # the JSON key people script against stays
        "local": info.local,
        "transport": info.transport,
        "source": info.source,
    }


def code_dir_as_mount(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with the code directory's ``Binds`` entry moved to ``Mounts``.

    Only the code directory: a user's own ``-v`` keeps Docker's create-if-missing
    meaning, as written. The spec hash is computed from the desired spec, not from this.
    """
    result = copy.deepcopy(dict(config))
    host = result.get("HostConfig") or {}
    binds = list(host.get("Binds") or [])
    for bind in binds:
        spec = split_volume(bind, BINDS)
        if spec.target == CODE_MOUNT and spec.is_bind:
            binds.remove(bind)
            host["Binds"] = binds
            host["Mounts"] = [
                {"Type": "bind", "Source": spec.source, "Target": CODE_MOUNT},
                *(host.get("Mounts") or []),
            ]
            break
    return result


def missing_bind(message: str) -> str | None:
    """The path of an engine's "bind source path does not exist" error, if it is one."""
    found = _MISSING_BIND.search(message)
    return found.group(1) if found else None


def missing_bind_message(path: str, info_host: str, local: bool, code_dir: bool = True) -> str:
    """``code_dir``: the missing source is the code directory (else a mount of the user's)."""
    if local and not code_dir:
        return f"bind source path does not exist: {path} (on this machine); create it first"
    if local:
        return f"{path} does not exist on this machine; create it or point booth at another -C"
    return (
        f"{path} does not exist on the engine's host {info_host}: a remote engine mounts "
        "paths of its own machine, not this one's; copy or clone the code there (same path) "
        "or run booth on that machine"
    )


def reach_hints(info: EngineInfo, published: Iterable[str]) -> list[str]:
    """How to reach published ports (``ip:host:container/proto``) from this machine."""
    if info.local:
        return []
    tcp = sorted({_split(p) for p in published if p.endswith("/tcp")}, key=lambda item: item[1])
    if not tcp:
        return []
    url = urlsplit(info.address)
    host = url.hostname or "?"
    if url.scheme == "ssh":
        forwards = " ".join(f"-L {port}:{_target(ip)}:{port}" for ip, port in tcp)
        login = f"{url.username}@{host}" if url.username else host
        port_flag = f" -p {url.port}" if url.port else ""
        return [f"Reach the published ports from here: ssh -N {forwards}{port_flag} {login}"]
    lines = []
    for ip, port in tcp:
        if ip in ("", "0.0.0.0", "::"):
            lines.append(f"Port {port}: {host}:{port} (published on all of {host}'s addresses)")
        else:
            lines.append(
                f"Port {port}: bound to {ip} on {host}, not reachable from here directly; "
                f"tunnel it: ssh -N -L {port}:{_target(ip)}:{port} {host}"
            )
    return lines


def _split(published: str) -> tuple[str, int]:
    ip, host_port, _ = published.rsplit(":", 2)
    return ip, int(host_port)


def _target(ip: str) -> str:
    if ip in ("", "0.0.0.0", "::"):
        return "localhost"
    return f"[{ip}]" if ":" in ip else ip
