"""Checks made before a plan touches anything, so a doomed apply creates nothing.

Host ports: Docker only finds out that a port is taken when it *starts* the container,
after the network, volume and container exist. Asking first lets ``apply`` fail with the
port and its holder named, and nothing half-created. On a remote engine the ports are
not this machine's: the engine is asked which ports its containers publish, and what
that cannot show (other processes on its host) is said, not guessed.

The engine itself (``check_engine``): a rootless engine cannot run the privileged
sidecar, Podman needs catatonit for ``--init``, and a remote engine must have the code
directory on its own host; each is reported before anything is created.
"""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from reconciler.core.model import CODE_MOUNT, ActualState, Resource
from reconciler.core.plan import Op, Plan
from reconciler.core.ports import PortSet
from reconciler.core.volumes import BINDS, split_volume
from reconciler.engine.engine import Engine
from reconciler.engine.seam import EngineInfo
from reconciler.errors import EngineNotFound, ExecutionError
from reconciler.ui.logs import get_logger

_LISTEN = "0A"
_STARTS = (Op.CREATE_CONTAINER, Op.START_CONTAINER)
# Where Podman looks for the init it runs for --init (containers.conf init_path).
CATATONIT = Path("/usr/libexec/podman/catatonit")
NOTHING_CREATED = "(nothing was created)"
IMAGE_MOUNT_API = (1, 48)  # moby api/docs: Mount type "image" since v1.48

log = get_logger()


@attrs.frozen
class BusyPort:
    ip: str
    port: int
    proto: str
    holder: str


def check_plan(engine: Engine, plan: Plan, actual: ActualState) -> None:
    """Every check before a plan's first step (``flow.Flow.converge``): what the engine
    cannot run, then the host ports the plan publishes. A plan that creates and starts
    nothing (a teardown) has nothing to check and asks the engine nothing."""
    if any(step.op in _STARTS for step in plan.steps):
        check_engine(engine, plan)
        check_host_ports(engine, plan, actual)


def check_host_ports(engine: Engine, plan: Plan, actual: ActualState) -> None:
    """Fail before creating anything when a host port this plan publishes is taken.

    Ports our own running containers hold are skipped: the plan frees them itself.
    A local engine's ports are probed here; a remote engine is asked.
    """
    ours = {_host_port(p) for o in actual if o.owned and o.running for p in o.ports}
    port_sets = [
        step.desired.ports
        for step in plan.steps
        if step.op in _STARTS and step.desired is not None and step.desired.ports is not None
    ]
    if not engine.is_local:
        _check_remote_ports(engine, port_sets, ours)
        return
    busy = busy_host_ports(port_sets, skip=ours)
    if busy:
        raise ExecutionError(describe_busy(busy, engine.published_ports()))


def _check_remote_ports(engine: Engine, port_sets: list[PortSet], ours: set[int]) -> None:
    wanted = sorted(
        {
            port
            for ports in port_sets
            for mapping in ports.mappings
            if not mapping.is_pick_from_range
            for port in mapping.host_ports()
        }
        - ours
    )
    held = engine.published_ports()
    taken = [f"{port} (held by {held[port]})" for port in wanted if port in held]
    if taken:
        raise ExecutionError(
            f"host port already in use on the engine's host: {', '.join(taken)}; free it or "
            f"change the port {NOTHING_CREATED}"
        )
    if wanted:
        log.warning(
            "ports.unchecked",
            detail=f"the engine at {engine.address} is remote: no container of it holds "
            f"{', '.join(map(str, wanted))}, but processes on its host cannot be checked "
            "from here",
        )


def check_engine(engine: Engine, plan: Plan) -> None:
    """Fail before any step when the engine cannot run what the plan creates."""
    creates = [
        step.desired
        for step in plan.steps
        if step.op == Op.CREATE_CONTAINER and step.desired is not None
    ]
    if not creates:
        return
    privileged = any(r.spec["HostConfig"].get("Privileged") for r in creates)
    if privileged and engine.privileged_allowed() is False:
        raise ExecutionError(
            f"the engine at {engine.address} runs rootless and cannot run the privileged "
            "DinD sidecar: use a rootful engine (sudo podman system service / dockerd as "
            f"root) or set dind = false {NOTHING_CREATED}"
        )
    info = engine.identity()
    wants_init = any(r.spec["HostConfig"].get("Init") for r in creates)
    if info.kind == "podman" and wants_init:
        _check_catatonit(info.local)
    if not info.local:
        _check_code_dir(engine, creates)
    check_values(engine, info, creates)


def check_plan_values(engine: Engine, plan: Plan) -> None:
    """``check_values`` for ``booth plan``: the containers it would create, with no probe
    container on a remote engine (a plan creates nothing, not even for a moment)."""
    creates = [
        step.desired
        for step in plan.steps
        if step.op == Op.CREATE_CONTAINER and step.desired is not None
    ]
    if creates:
        check_values(engine, engine.identity(), creates, probe=False)


def check_values(
    engine: Engine, info: EngineInfo, creates: list[Resource], *, probe: bool = True
) -> None:
    """What the engine refuses at create and only the engine can tell (issue: a doomed
    create used to come after the privileged sidecar was running): a CPU limit above
    its CPU count, an image mount older engines do not know, and a ``--mount`` bind
    source or ``--device`` missing on its host (on a remote host, binds are probed)."""
    hosts = [r.spec["HostConfig"] for r in creates]
    nano = max((host.get("NanoCpus") or 0 for host in hosts), default=0)
    if nano:
        cpus = int(engine.primitives.info().get("NCPU") or 0)
        if cpus and nano > cpus * 1_000_000_000:
            raise ExecutionError(
                f"run-arg --cpus {nano / 1e9:g}: the engine at {engine.address} has {cpus} "
                f"CPUs, so --cpus can be at most {cpus} {NOTHING_CREATED}"
            )
    mounts = [m for host in hosts for m in host.get("Mounts") or []]
    if any(m.get("Type") == "image" for m in mounts) and _api(info) < IMAGE_MOUNT_API:
        raise ExecutionError(
            f"run-arg --mount type=image: the engine at {engine.address} speaks API "
            f"{info.api_version}, and image mounts need API 1.48 (Docker 28) {NOTHING_CREATED}"
        )
    _check_host_paths(engine, info, creates, mounts, probe)
    _check_joined_containers(engine, creates)


def _check_joined_containers(engine: Engine, creates: list[Resource]) -> None:
    """``--pid``/``--ipc container:NAME``: the engine refuses a create that names a
    container it does not have (one this plan creates first is fine)."""
    planned = {r.name for r in creates}
    for resource in creates:
        host = resource.spec["HostConfig"]
        for flag, field in (("--pid", "PidMode"), ("--ipc", "IpcMode")):
            kind, _, name = str(host.get(field) or "").partition(":")
            if kind != "container" or name in planned:
                continue
            try:
                engine.container(name)
            except EngineNotFound:
                raise ExecutionError(
                    f"run-arg {flag} container:{name}: the engine at {engine.address} has no "
                    f"container {name} {NOTHING_CREATED}"
                ) from None


def _check_host_paths(
    engine: Engine, info: EngineInfo, creates: list[Resource], mounts: list[Any], probe: bool
) -> None:
    binds = [
        str(m["Source"])
        for m in mounts
        if m.get("Type") == "bind" and not (m.get("BindOptions") or {}).get("CreateMountpoint")
    ]
    devices = [
        str(d["PathOnHost"]) for r in creates for d in r.spec["HostConfig"].get("Devices") or []
    ]
    for source in binds:
        if info.local and not os.path.lexists(source):
            raise ExecutionError(
                f"run-arg --mount source {source}: no such file or directory on this host "
                f"(Docker does not create a --mount bind source; use -v, or "
                f"bind-create-src) {NOTHING_CREATED}"
            )
        if not info.local and probe:
            error = engine.missing_bind_source(str(creates[-1].spec["Image"]), source)
            if error:
                raise ExecutionError(f"run-arg --mount: {error} {NOTHING_CREATED}")
    for device in devices:
        if info.local and not os.path.exists(device):
            raise ExecutionError(
                f"run-arg --device {device}: no such device on this host {NOTHING_CREATED}"
            )


def _api(info: EngineInfo) -> tuple[int, ...]:
    """An API version as numbers (``?`` when the engine did not say: no check)."""
    try:
        return tuple(int(part) for part in info.api_version.split("."))
    except ValueError:
        return IMAGE_MOUNT_API


def _check_catatonit(local: bool) -> None:
    if not local:
        log.warning(
            "podman.init",
            detail=f"--init needs catatonit ({CATATONIT}) on the engine's host; it cannot "
            "be checked from here",
        )
    elif not CATATONIT.exists():
        raise ExecutionError(
            f"Podman runs --init with catatonit and {CATATONIT} is missing: apt-get install "
            f"catatonit, or --run-arg=--init=false {NOTHING_CREATED}"
        )


def _check_code_dir(engine: Engine, creates: list[Resource]) -> None:
    for resource in creates:
        for bind in resource.spec["HostConfig"].get("Binds") or []:
            spec = split_volume(bind, BINDS)
            if spec.target == CODE_MOUNT and spec.source is not None:
                error = engine.missing_bind_source(str(resource.spec["Image"]), spec.source)
                if error:
                    raise ExecutionError(f"{error} {NOTHING_CREATED}")


def _host_port(published: str) -> int:
    """Host port of an observed ``ip:host:container/proto`` string."""
    return int(published.rsplit(":", 2)[1])


def busy_host_ports(port_sets: Iterable[PortSet], skip: Iterable[int] = ()) -> list[BusyPort]:
    """The fixed host ports of ``port_sets`` that something on this host already holds
    (ports in ``skip`` aside; ephemeral and pick-from-range ports are the engine's choice)."""
    skipped = set(skip)
    wanted = {
        (mapping.host_ip, port, mapping.proto)
        for ports in port_sets
        for mapping in ports.mappings
        if not mapping.is_pick_from_range
        for port in mapping.host_ports()
        if port not in skipped
    }
    busy = []
    for ip, port, proto in sorted(wanted):
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
                try:
                    comm = Path(f"/proc/{pid}/comm").read_text().strip()
                except OSError:  # the process ended meanwhile
                    comm = "pid"
                return f"{comm}[{pid}]"
    return ""
