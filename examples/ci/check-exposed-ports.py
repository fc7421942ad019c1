#!/usr/bin/env python3
"""Fail a review when a booth plan would expose a host port that is not allowed.

Reads the JSON of ``booth plan --json`` (``--offline`` is enough: it plans against an empty
state, so it lists every port the booth would publish) from a file or stdin, and checks
every port mapping in the ``desired`` spec of every resource the plan keeps or creates
against an allow-list::

    booth plan --offline --json > plan.json
    python3 check-exposed-ports.py plan.json --allow 10000 --allow 8080,3000
    booth plan --offline --json | python3 check-exposed-ports.py --allow-file allowed-ports.txt

Allow-list entries (``--allow``, repeatable and comma-separated, and/or ``--allow-file``
with one or more entries a line, ``#`` comments) are either

* a host port or range, optionally with a protocol: ``8080``, ``7000-7010``, ``5353/udp``
  (any protocol when none is given) - allows that host port on any *specific* address; or
* a canonical mapping as the plan prints it, ``ip:host:container/proto``, e.g.
  ``127.0.0.1:8080:8080/tcp`` or ``[::1]:9000:9000/udp`` - allows exactly that mapping.

A mapping that binds every interface (``0.0.0.0``, ``::``, or no address at all, written
``:8080:8080/tcp``: Docker's default, both families, what ``host-ip = ""`` gives)
is NOT ALLOWED even when its port is listed, unless ``--allow-wildcard`` is given or a
canonical entry names it with that address. A mapping with an ephemeral host port
(``127.0.0.1::5000/tcp``) is allowed only by a canonical entry. Ranges are checked port
by port (booth folds consecutive ports into one range).

The same plan also shows what else a container gets from the host, and the checker flags
what widens it unless allowed:

* an added capability (``cap_add``): ``--allow-cap NET_ADMIN`` (case and ``CAP_`` ignored);
* a host device (``devices``): ``--allow-device /dev/fuse`` (its host path);
* a writable bind mount of a host path (``mounts`` of type ``bind`` without ``read_only``;
  booth's own code mount excepted): ``--allow-writable /srv/data`` (that path or below);
* a privileged container other than the DinD sidecar: ``--allow-privileged``.

Prints one line per exposed mapping and per such grant, ``OK`` or ``NOT ALLOWED`` with the
reason, then a summary. Exit status: 0 everything is allowed, 1 something is not
allowed, 2 the input or the allow-list could not be read. Only the Python standard library is used.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_NOT_ALLOWED, EXIT_BAD_INPUT = 0, 1, 2
CODE_MOUNT = "/home/coder/code"  # booth's own, writable by design
PROTOCOLS = ("tcp", "udp", "sctp")
WILDCARDS = frozenset({"0.0.0.0", "::", ""})

_RANGE = r"\d{1,5}(?:-\d{1,5})?"
_CANONICAL = re.compile(
    rf"^(?P<ip>\[[0-9A-Fa-f:.%\w]+\]|[0-9.]*):(?P<host>{_RANGE})?:(?P<container>{_RANGE})"
    rf"/(?P<proto>[A-Za-z]+)$"
)
_BARE = re.compile(rf"^(?P<host>{_RANGE})(?:/(?P<proto>[A-Za-z]+))?$")


class InputError(Exception):
    """The plan or the allow-list cannot be used (exit 2)."""


@dataclass(frozen=True)
class Unit:
    """One host port (or an ephemeral one: ``host is None``) -> one container port."""

    ip: str
    host: int | None
    container: int
    proto: str


@dataclass(frozen=True)
class Mapping:
    spec: str
    units: tuple[Unit, ...]

    @property
    def ip(self) -> str:
        return self.units[0].ip


@dataclass(frozen=True)
class BareRule:
    low: int
    high: int
    proto: str | None  # None: any protocol

    def allows(self, unit: Unit) -> bool:
        return (
            unit.host is not None
            and self.low <= unit.host <= self.high
            and self.proto in (None, unit.proto)
        )


@dataclass
class AllowList:
    bare: list[BareRule]
    exact: set[Unit]

    def is_empty(self) -> bool:
        return not self.bare and not self.exact


def _span(text: str, what: str) -> tuple[int, int]:
    low_text, _, high_text = text.partition("-")
    low = int(low_text)
    high = int(high_text) if high_text else low
    if not (1 <= low <= high <= 65535):
        raise InputError(f"{what} {text!r} is not a port or range within 1..65535")
    return low, high


def _proto(text: str | None, spec: str) -> str:
    proto = (text or "tcp").lower()
    if proto not in PROTOCOLS:
        raise InputError(f"{spec!r}: protocol must be one of {', '.join(PROTOCOLS)}")
    return proto


def _ip(text: str, spec: str) -> str:
    raw = text[1:-1] if text.startswith("[") else text
    if not raw:
        return ""  # Docker's default address: every interface
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        raise InputError(f"{spec!r}: {raw!r} is not an IP address") from None


def parse_mapping(spec: str) -> Mapping:
    """A canonical ``ip:host:container/proto`` string (as in the plan) -> its units."""
    match = _CANONICAL.match(spec.strip())
    if not match:
        raise InputError(f"{spec!r} is not a canonical port mapping ip:host:container/proto")
    ip = _ip(match["ip"], spec)
    proto = _proto(match["proto"], spec)
    c_low, c_high = _span(match["container"], f"{spec!r}: container port")
    if match["host"] is None:  # ephemeral: Docker picks the host port
        units = [Unit(ip, None, c, proto) for c in range(c_low, c_high + 1)]
        return Mapping(spec.strip(), tuple(units))
    h_low, h_high = _span(match["host"], f"{spec!r}: host port")
    if c_low == c_high:  # one container port: any host port of the range may be picked
        units = [Unit(ip, h, c_low, proto) for h in range(h_low, h_high + 1)]
    elif h_high - h_low == c_high - c_low:
        units = [Unit(ip, h_low + i, c_low + i, proto) for i in range(h_high - h_low + 1)]
    else:
        raise InputError(f"{spec!r}: host and container ranges differ in length")
    return Mapping(spec.strip(), tuple(units))


def parse_allow_entries(entries: Iterable[str]) -> AllowList:
    allowed = AllowList([], set())
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        bare = _BARE.match(entry)
        if bare:
            low, high = _span(bare["host"], "allow-list entry: host port")
            proto = _proto(bare["proto"], entry) if bare["proto"] else None
            allowed.bare.append(BareRule(low, high, proto))
        else:
            allowed.exact.update(parse_mapping(entry).units)
    return allowed


def read_allow_file(path: str) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot read allow-list {path}: {err.strerror or err}") from None
    entries: list[str] = []
    for line in text.splitlines():
        entries += re.split(r"[\s,]+", line.split("#", 1)[0])
    return [e for e in entries if e]


def read_plan(source: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot read plan {source}: {err.strerror or err}") from None
    try:
        plan = json.loads(text)
    except json.JSONDecodeError as err:
        where = "stdin" if source == "-" else source
        raise InputError(
            f"{where} is not JSON ({err}); did you pass the output of `booth plan --json`?"
        ) from None
    if not isinstance(plan, dict) or "changes" not in plan:
        raise InputError("the input is not a booth plan (no 'changes'); use `booth plan --json`")
    if plan.get("format_version") != 1:
        raise InputError(
            f"unsupported plan format_version {plan.get('format_version')!r} (this script knows 1)"
        )
    return plan


def exposed(plan: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """``(resource, name, canonical spec)`` for every port the plan leaves published."""
    for change in plan["changes"]:
        if change.get("action") == "remove":
            continue
        desired = change.get("desired") or {}
        for spec in desired.get("ports") or ():
            yield change.get("resource", "?"), change.get("name", "?"), spec


@dataclass(frozen=True)
class Grant:
    """Something a container gets from the host besides ports."""

    resource: str
    name: str
    kind: str  # capability, device, writable-mount, privileged
    value: str


@dataclass
class HostAllowList:
    caps: set[str]
    devices: set[str]
    writable: list[str]
    privileged: bool

    def reason(self, grant: Grant) -> str | None:
        """``None`` when the grant is allowed, else why not."""
        if grant.kind == "capability" and _cap(grant.value) not in self.caps:
            return "capability not allowed (--allow-cap)"
        if grant.kind == "device" and grant.value.split(":")[0] not in self.devices:
            return "host device not allowed (--allow-device)"
        if grant.kind == "writable-mount" and not self._writable(grant.value.split(" -> ")[0]):
            return "writable host path not allowed (--allow-writable, or mount it :ro)"
        if grant.kind == "privileged" and not self.privileged:
            return "privileged: root on the host kernel (--allow-privileged)"
        return None

    def _writable(self, source: str) -> bool:
        bases = [path.rstrip("/") for path in self.writable]
        return any(source == base or source.startswith(base + "/") for base in bases)


def _cap(name: str) -> str:
    return name.strip().upper().removeprefix("CAP_")


def _listed(values: list[str]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def grants(plan: dict[str, Any]) -> Iterator[Grant]:
    """Capabilities, devices, writable host mounts and privilege of every container the
    plan keeps or creates (plans from before these fields simply have none)."""
    for change in plan["changes"]:
        if change.get("action") == "remove":
            continue
        desired = change.get("desired") or {}
        resource, name = change.get("resource", "?"), change.get("name", "?")
        for cap in desired.get("cap_add") or ():
            yield Grant(resource, name, "capability", str(cap))
        for device in desired.get("devices") or ():
            yield Grant(resource, name, "device", str(device))
        for mount in desired.get("mounts") or ():
            if _writable_host_mount(resource, mount):
                yield Grant(
                    resource, name, "writable-mount", f"{mount['source']} -> {mount['target']}"
                )
        if desired.get("privileged") and resource != "sidecar":
            yield Grant(resource, name, "privileged", "true")


def _writable_host_mount(resource: str, mount: Any) -> bool:
    if not isinstance(mount, dict) or mount.get("type") != "bind" or mount.get("read_only"):
        return False
    return not (resource == "booth" and mount.get("target") == CODE_MOUNT)


def verdict(mapping: Mapping, allowed: AllowList, allow_wildcard: bool) -> str | None:
    """``None`` when every unit of the mapping is allowed, else the reason it is not."""
    if all(unit in allowed.exact for unit in mapping.units):
        return None  # named exactly, wildcard address included
    if mapping.ip in WILDCARDS and not allow_wildcard:
        return (
            f"binds every interface ({mapping.ip or 'no address'}); bind an address "
            "(host-ip), pass "
            "--allow-wildcard, or allow this exact mapping"
        )
    if any(unit.host is None for unit in mapping.units):
        return "ephemeral host port (Docker picks one); allow this exact mapping to accept it"
    refused = [
        u
        for u in mapping.units
        if u not in allowed.exact and not any(r.allows(u) for r in allowed.bare)
    ]
    if not refused:
        return None
    ports = sorted({u.host for u in refused if u.host is not None})
    shown = ", ".join(str(p) for p in ports[:10]) + (", ..." if len(ports) > 10 else "")
    noun = "host port" if len(ports) == 1 else "host ports"
    return f"{noun} {shown} ({refused[0].proto}) not in the allow-list"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="check-exposed-ports.py",
        description="Check the ports a `booth plan --json` would expose against an allow-list.",
        epilog="Exit status: 0 all allowed, 1 some port not allowed, 2 unusable input.",
    )
    parser.add_argument(
        "plan", nargs="?", default="-", help="plan JSON file (default: - for stdin)"
    )
    parser.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="ENTRY",
        help="allowed host port, range or canonical mapping (repeatable, comma-separated)",
    )
    parser.add_argument(
        "--allow-file",
        action="append",
        default=[],
        metavar="FILE",
        help="file of allow-list entries (# comments)",
    )
    parser.add_argument(
        "--allow-wildcard",
        action="store_true",
        help="accept bindings on every interface (0.0.0.0 / ::)",
    )
    parser.add_argument(
        "--allow-cap",
        action="append",
        default=[],
        metavar="CAP",
        help="allowed added capability (repeatable, comma-separated)",
    )
    parser.add_argument(
        "--allow-device",
        action="append",
        default=[],
        metavar="PATH",
        help="allowed host device path (repeatable, comma-separated)",
    )
    parser.add_argument(
        "--allow-writable",
        action="append",
        default=[],
        metavar="PATH",
        help="host path (or directory above it) that may be mounted writable",
    )
    parser.add_argument(
        "--allow-privileged",
        action="store_true",
        help="accept privileged containers other than the DinD sidecar",
    )
    args = parser.parse_args(argv)
    host_allowed = HostAllowList(
        {_cap(c) for c in _listed(args.allow_cap)},
        set(_listed(args.allow_device)),
        _listed(args.allow_writable),
        args.allow_privileged,
    )

    try:
        entries = [e for value in args.allow for e in value.split(",")]
        for path in args.allow_file:
            entries += read_allow_file(path)
        allowed = parse_allow_entries(entries)
        if not args.allow and not args.allow_file:
            raise InputError("no allow-list: give --allow ENTRY or --allow-file FILE")
        plan = read_plan(args.plan)
        found = [(res, name, parse_mapping(spec)) for res, name, spec in exposed(plan)]
    except InputError as err:
        print(f"check-exposed-ports: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT

    instance = plan.get("instance", "?")
    ports_ok = _report_ports(found, allowed, args.allow_wildcard, instance)
    grants_ok = _report_grants(list(grants(plan)), host_allowed, instance)
    return EXIT_OK if ports_ok and grants_ok else EXIT_NOT_ALLOWED


def _report_grants(found: list[Grant], allowed: HostAllowList, instance: str) -> bool:
    if not found:
        return True
    bad = _print_verdicts(
        [(f"{g.kind} {g.value}", f"{g.resource} {g.name}", allowed.reason(g)) for g in found]
    )
    count = f"{bad} of {len(found)} are not" if bad else f"all {len(found)} are"
    print(
        f"check-exposed-ports: {count} allowed among the capabilities, devices, writable "
        f"host mounts and privileged containers of {instance}"
    )
    return bad == 0


def _report_ports(
    found: list[tuple[str, str, Mapping]], allowed: AllowList, allow_wildcard: bool, instance: str
) -> bool:
    if not found:
        print(f"check-exposed-ports: instance {instance} exposes no ports")
        return True
    bad = _print_verdicts(
        [
            (mapping.spec, f"{resource} {name}", verdict(mapping, allowed, allow_wildcard))
            for resource, name, mapping in found
        ]
    )
    if bad:
        print(
            f"check-exposed-ports: {bad} of {len(found)} exposed port mappings of "
            f"{instance} are not allowed"
        )
        return False
    print(f"check-exposed-ports: all {len(found)} exposed port mappings of {instance} are allowed")
    return True


def _print_verdicts(rows: list[tuple[str, str, str | None]]) -> int:
    """One line per (what, where, reason not to allow it or None); how many are refused."""
    width = max(len(what) for what, _, _ in rows)
    bad = 0
    for what, where, reason in rows:
        if reason is None:
            print(f"OK           {what:<{width}}  {where}")
        else:
            bad += 1
            print(f"NOT ALLOWED  {what:<{width}}  {where}: {reason}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
