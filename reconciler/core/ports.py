"""Port specs in ``docker run -p`` grammar, parsed into canonical values and deduplicated.

Dedup is semantic: every spec is expanded into unit mappings (one host port to one
container port), which makes ``8080:8080``, ``8080:8080/tcp`` and
``127.0.0.1:8080:8080`` one value, and makes the result independent of the order and
repetition of the inputs. Consecutive units are folded back into ranges for display and
for Docker, so a range stays one line in a plan.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

import attrs

from reconciler.errors import PortError

PROTOCOLS = ("tcp", "udp", "sctp")
BOOTH_CONTAINER_PORT = 10000
DAEMON_PORT = 2375


@attrs.frozen
class PortMapping:
    """One publish rule, canonical.

    ``host_ip`` is a normalised address, or ``""`` for Docker's default address (every
    IPv4 and every IPv6 address, see ``PortSet``), which the canonical form writes as an
    empty ip (``:8080:80/tcp``), the way ``docker run -p`` itself spells it.
    ``host_start``/``host_end`` are ``None`` for an ephemeral host port (Docker picks
    one). A host range with a single container port (``8000-8010:80``) means "any free
    host port of the range"; otherwise host and container ranges have equal length.
    """

    host_ip: str
    host_start: int | None
    host_end: int | None
    container_start: int
    container_end: int
    proto: str = "tcp"

    @property
    def is_pick_from_range(self) -> bool:
        return (
            self.host_start is not None
            and self.host_start != self.host_end
            and self.container_start == self.container_end
        )

    def sort_key(self) -> tuple[str, str, int, int, int]:
        """Numeric order (ephemeral host ports first), used to fold runs into ranges."""
        host = -1 if self.host_start is None else self.host_start
        return (self.proto, self.host_ip, host, self.container_start, self.container_end)

    def units(self) -> Iterable[PortMapping]:
        """Expand into one-port mappings (a pick-from-range mapping stays whole)."""
        if self.is_pick_from_range or self.container_start == self.container_end:
            yield self
            return
        for offset in range(self.container_end - self.container_start + 1):
            host = None if self.host_start is None else self.host_start + offset
            yield PortMapping(
                self.host_ip,
                host,
                host,
                self.container_start + offset,
                self.container_start + offset,
                self.proto,
            )

    def canonical(self) -> str:
        """``ip:host:container/proto``; IPv6 in brackets, empty host when ephemeral, empty
        ip for Docker's default address."""
        ip = f"[{self.host_ip}]" if ":" in self.host_ip else self.host_ip
        host = "" if self.host_start is None else _span(self.host_start, self.host_end)
        container = _span(self.container_start, self.container_end)
        return f"{ip}:{host}:{container}/{self.proto}"

    def container_key(self) -> str:
        """Docker's key for the container side, e.g. ``8080/tcp`` or ``80-81/udp``."""
        return f"{_span(self.container_start, self.container_end)}/{self.proto}"

    def host_ports(self) -> range:
        if self.host_start is None or self.host_end is None:
            return range(0)
        return range(self.host_start, self.host_end + 1)

    def covers_container_port(self, port: int, proto: str = "tcp") -> bool:
        return self.proto == proto and self.container_start <= port <= self.container_end


def _span(start: int | None, end: int | None) -> str:
    return str(start) if start == end else f"{start}-{end}"


@attrs.frozen
class SourcedSpec:
    """A raw spec and where it came from, so errors can name both."""

    spec: str
    source: str


def parse_port(spec: str, *, default_host_ip: str = "127.0.0.1", source: str = "") -> PortMapping:
    """Parse one ``docker run -p`` spec; a spec without a host ip gets ``default_host_ip``.

    The short syntax follows go-connections nat/nat.go ``ParsePortSpec``: split at ``:``
    with the last two fields the ports, so an unbracketed IPv6 address works
    (``::1:8080:80``); ``[...]`` brackets are optional and may be empty (Docker's default
    address); ``SplitProtoPort`` takes the protocol after the first ``/`` (``80/`` is tcp);
    ports are digits (``08080`` is 8080; ``+80`` is refused, see ``_parse_number``) and no
    whitespace is allowed. A spec with ``=`` is the long syntax (see ``_long_syntax``).

    ``default_host_ip=""`` is Docker's own default: the mapping keeps ``host_ip == ""``,
    which Docker binds on every IPv4 and every IPv6 address (``0.0.0.0`` and ``[::]``).
    """
    where = f" ({source})" if source else ""

    def fail(why: str) -> PortError:
        return PortError(f"invalid port spec {spec!r}{where}: {why}")

    if not spec.strip():
        raise fail("empty")
    text = _long_syntax(spec, fail) if "=" in spec else spec
    ip_text, host_text, container_text = _split_parts(text)
    container_text, _, proto = container_text.partition("/")
    proto = proto.lower() or "tcp"
    if container_text == "":
        raise fail("container port is required")
    if proto not in PROTOCOLS:
        raise fail(f"protocol must be one of {', '.join(PROTOCOLS)}, not {proto!r}")
    host_ip = _parse_ip(ip_text, default_host_ip, fail)
    container = _parse_range(container_text, fail, what="container port", allow_zero=False)
    host = _parse_range(host_text, fail, what="host port", allow_zero=True) if host_text else None
    if host is None or host == (0, 0):
        return PortMapping(host_ip, None, None, container[0], container[1], proto)
    host_len = host[1] - host[0]
    container_len = container[1] - container[0]
    if container_len not in (host_len, 0):
        raise fail("host and container port ranges must have the same length")
    if host[0] == 0:
        raise fail("host port range cannot start at 0")
    return PortMapping(host_ip, host[0], host[1], container[0], container[1], proto)


def _split_parts(text: str) -> tuple[str, str, str]:
    """nat.go ``splitParts``: (ip, host port, container port), the ip may hold colons."""
    parts = text.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return ":".join(parts[:-2]), parts[-2], parts[-1]


LONG_SYNTAX_KEYS = ("published", "target", "protocol", "host_ip", "mode")


def _long_syntax(spec: str, fail: Callable[[str], PortError]) -> str:
    """``published=8080,target=80[,protocol=udp][,host_ip=IP][,mode=host]`` as short syntax.

    ``docker run -p`` turns this into ``published:target/protocol`` (docker CLI
    cli/command/container/opts.go ``convertToStandardNotation``; keys are case-sensitive,
    each field must be ``key=value`` with a key) and silently ignores every other key,
    ``host_ip`` and ``mode`` included. Booth refuses unknown keys instead, honours
    ``host_ip`` (dropping it would publish on every interface), and takes ``mode=host``,
    which is what publishing a container's port is; ``mode=ingress`` (the swarm routing
    mesh, opts/swarmopts/port.go) cannot apply to a container and is refused.
    """
    params = {"protocol": "tcp"}
    for field in spec.split(","):
        key, has_value, value = field.partition("=")
        if not has_value or not key:
            raise fail(f"long syntax field {field!r} is not key=value")
        if key not in LONG_SYNTAX_KEYS:
            raise fail(f"unknown key {key!r} (expected {', '.join(LONG_SYNTAX_KEYS)})")
        params[key] = value
    if params.get("mode", "host") != "host":
        raise fail(f"mode={params['mode']} is for swarm services; a container port uses mode=host")
    for key in ("published", "target", "protocol"):
        if ":" in params.get(key, "") or "/" in params.get(key, ""):
            raise fail(f"{key}={params[key]} must be a port, a range or a protocol")
    ip = params.get("host_ip", "")
    if not ip:
        ip_part = ""
    elif ":" in ip and not ip.startswith("["):
        ip_part = f"[{ip}]:"
    else:
        ip_part = f"{ip}:"
    return f"{ip_part}{params.get('published', '')}:{params.get('target', '')}/{params['protocol']}"


def _parse_ip(text: str, default: str, fail: Callable[[str], PortError]) -> str:
    """nat.go ``ParsePortSpec``: ``[...]`` is stripped as by ``net.SplitHostPort``, then
    ``net.ParseIP`` must accept the rest (no zone ids such as ``%eth0``, no names). An
    empty address, bracketed or not, is the default address."""
    raw = text
    if raw.startswith("["):
        inner = raw[1:-1]
        if not raw.endswith("]") or "[" in inner or "]" in inner:
            raise fail(f"{raw!r} is not an IP address (expected [ipv6]:hostPort:containerPort)")
        raw = inner
    if not raw:
        return _normalise_ip(default, fail)
    return _normalise_ip(raw, fail)


def _normalise_ip(raw: str, fail: Callable[[str], PortError]) -> str:
    if not raw:
        return ""
    if "%" in raw:
        raise fail(f"{raw!r} is not an IP address (zone ids are not accepted by Docker)")
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        raise fail(f"{raw!r} is not an IP address") from None


def _parse_range(
    text: str, fail: Callable[[str], PortError], *, what: str, allow_zero: bool
) -> tuple[int, int]:
    """nat.go ``parsePortRange``: ``start[-end]``; equal texts on both sides are one port."""
    start_text, dash, end_text = text.partition("-")
    start = _parse_number(start_text, fail, what)
    end = _parse_number(end_text, fail, what) if dash and end_text != start_text else start
    low = 0 if allow_zero else 1
    for value in (start, end):
        if not low <= value <= 65535:
            raise fail(f"{what} {value} is out of range {low}..65535")
    if end < start:
        raise fail(f"{what} range {start}-{end} ends before it starts")
    return start, end


def _parse_number(text: str, fail: Callable[[str], PortError], what: str) -> int:
    """ASCII digits only. go-connections up to v0.5 (``ParsePortRange``, as vendored by
    the docker CLI that refuses ``-p +31450:80``: "invalid hostPort") reads ports with
    ``strconv.ParseUint``, which takes no sign; later versions take ``+``. The stricter
    reading is the one every CLI accepts."""
    if not text.isascii() or not text.isdigit():
        raise fail(f"{what} {text!r} is not a number")
    return int(text)


@attrs.frozen
class PortSet:
    """The deduplicated, conflict-free set of host port mappings of one instance.

    A mapping on Docker's default address keeps ``host_ip == ""`` all the way to
    ``docker_bindings``, which sends ``HostIp: ""`` exactly as ``docker run -p 8080:80``
    does; the engine then binds ``0.0.0.0`` and, when the host has IPv6, ``[::]``. Sending
    ``0.0.0.0`` instead would silently drop the IPv6 binding, and sending both would fail
    on a host without IPv6, where Docker's default quietly binds IPv4 only.
    """

    mappings: tuple[PortMapping, ...]
    # Per mapping, where it was first declared (the booth's own port is 0): the order a
    # `docker run -p` list is written in (`plan --format docker`). No part of equality.
    declared: tuple[int, ...] = attrs.field(default=(), eq=False)

    def in_declared_order(self) -> list[PortMapping]:
        if len(self.declared) != len(self.mappings):
            return list(self.mappings)
        return [m for _, m in sorted(zip(self.declared, self.mappings, strict=True))]

    def canonical(self) -> list[str]:
        return [m.canonical() for m in self.mappings]

    def docker_bindings(self) -> dict[str, list[dict[str, str]]]:
        """Engine API ``PortBindings``, one key per container port.

        The engine takes no container-port ranges (the docker CLI expands them client
        side), so ranges are expanded here; a pick-from-range host span stays a string.
        """
        bindings: dict[str, list[dict[str, str]]] = {}
        for mapping in self.mappings:
            for unit in mapping.units():
                host = "" if unit.host_start is None else _span(unit.host_start, unit.host_end)
                bindings.setdefault(unit.container_key(), []).append(
                    {"HostIp": unit.host_ip, "HostPort": host}
                )
        return dict(sorted(bindings.items()))


def build_port_set(
    specs: Iterable[SourcedSpec],
    *,
    booth_port: int,
    default_host_ip: str,
    dind: bool,
    allow_daemon_port: bool,
) -> PortSet:
    """Parse, dedup and check all specs; always includes ``booth_port:10000``."""
    booth = SourcedSpec(f"{booth_port}:{BOOTH_CONTAINER_PORT}", "booth port")
    units: dict[PortMapping, SourcedSpec] = {}
    for item in [booth, *specs]:
        mapping = parse_port(item.spec, default_host_ip=default_host_ip, source=item.source)
        if dind and not allow_daemon_port and mapping.covers_container_port(DAEMON_PORT):
            raise PortError(
                f"port spec {item.spec!r} ({item.source}) publishes the inner Docker daemon "
                f"port {DAEMON_PORT}, which gives root on the host to anyone who reaches it; "
                "set allow-daemon-port = true in the config to allow it"
            )
        for unit in mapping.units():
            units.setdefault(unit, item)
    ordered = sorted(units, key=PortMapping.sort_key)
    _check_conflicts(ordered, units)
    mappings = tuple(sorted(_fold(ordered), key=PortMapping.canonical))
    rank = {unit: index for index, unit in enumerate(units)}
    declared = tuple(min(rank[unit] for unit in m.units()) for m in mappings)
    return PortSet(mappings, declared)


def _check_conflicts(ordered: list[PortMapping], sources: dict[PortMapping, SourcedSpec]) -> None:
    """Two units claiming one host (ip, port, proto) for different targets conflict."""
    claimed: dict[tuple[int, str], list[PortMapping]] = {}
    for unit in ordered:
        for port in unit.host_ports():
            for other in claimed.get((port, unit.proto), []):
                if _ips_clash(unit.host_ip, other.host_ip):
                    a, b = sources[other], sources[unit]
                    raise PortError(
                        f"port conflict on host port {port}/{unit.proto}: "
                        f"{a.spec!r} ({a.source}) and {b.spec!r} ({b.source})"
                    )
            claimed.setdefault((port, unit.proto), []).append(unit)


def _ips_clash(a: str, b: str) -> bool:
    """Whether two bindings of one host port and protocol would take the same socket.

    Docker's default address ``""`` binds ``0.0.0.0`` and ``[::]`` both. For that to work
    on Linux the ``[::]`` socket must be IPv6-only (a dual-stack ``[::]`` would already
    own ``0.0.0.0``), so Docker's ``[::]`` takes IPv6 addresses only and ``0.0.0.0`` IPv4
    addresses only. Hence a wildcard clashes with every address of its own family and
    none of the other: ``0.0.0.0`` next to ``[::1]``, or ``127.0.0.1`` next to ``[::]``,
    is fine, while ``""`` clashes with everything. Two specific addresses clash only when
    equal. An IPv4-mapped IPv6 address (``::ffff:10.0.0.1``) counts as its IPv4 address.
    """
    if a == "" or b == "":
        return True
    first, second = _host_address(a), _host_address(b)
    if first.version != second.version:
        return False
    return first == second or first.is_unspecified or second.is_unspecified


def _host_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _fold(units: list[PortMapping]) -> list[PortMapping]:
    """Merge runs of consecutive unit mappings back into ranges."""
    folded: list[PortMapping] = []
    for unit in units:
        if folded and _extends(folded[-1], unit):
            folded[-1] = attrs.evolve(
                folded[-1], host_end=unit.host_end, container_end=unit.container_end
            )
        else:
            folded.append(unit)
    return folded


def _extends(last: PortMapping, unit: PortMapping) -> bool:
    if last.is_pick_from_range or unit.is_pick_from_range:
        return False
    if (last.host_ip, last.proto) != (unit.host_ip, unit.proto):
        return False
    if unit.container_start != last.container_end + 1:
        return False
    if last.host_start is None or unit.host_start is None:
        return False  # ephemeral ports stay one mapping each: each gets its own host port
    return last.host_end is not None and unit.host_start == last.host_end + 1
