"""Port specs in ``docker run -p`` grammar, parsed into canonical values and deduplicated.

Dedup is semantic: every spec is expanded into unit mappings (one host port to one
container port), which makes ``8080:8080``, ``8080:8080/tcp`` and
``127.0.0.1:8080:8080`` one value, and makes the result independent of the order and
repetition of the inputs. Consecutive units are folded back into ranges for display and
for Docker, so a range stays one line in a plan.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import attrs

from reconciler.errors import PortError

PROTOCOLS = ("tcp", "udp", "sctp")
BOOTH_CONTAINER_PORT = 10000
DAEMON_PORT = 2375
WILDCARD_IPS = frozenset({"0.0.0.0", "::"})


@attrs.frozen
class PortMapping:
    """One publish rule, canonical.

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
    def is_wildcard(self) -> bool:
        return self.host_ip in WILDCARD_IPS

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
        """``ip:host:container/proto``; IPv6 in brackets, empty host when ephemeral."""
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
    """Parse one ``docker run -p`` spec; an empty host ip becomes ``default_host_ip``."""
    where = f" ({source})" if source else ""

    def fail(why: str) -> PortError:
        return PortError(f"invalid port spec {spec!r}{where}: {why}")

    text = spec.strip()
    if not text:
        raise fail("empty")
    body, _, proto = text.partition("/")
    proto = proto.lower() if proto else "tcp"
    if proto not in PROTOCOLS:
        raise fail(f"protocol must be one of {', '.join(PROTOCOLS)}, not {proto!r}")

    ip_text = ""
    if body.startswith("["):
        close = body.find("]")
        if close < 0 or body[close + 1 : close + 2] != ":":
            raise fail("expected [ipv6]:hostPort:containerPort")
        ip_text = body[1:close]
        parts = body[close + 2 :].split(":")
        if len(parts) != 2:
            raise fail("expected [ipv6]:hostPort:containerPort")
        host_text, container_text = parts
        if not ip_text:
            raise fail("empty IPv6 address in brackets")
    else:
        parts = body.split(":")
        if len(parts) == 1:
            host_text, container_text = "", parts[0]
        elif len(parts) == 2:
            host_text, container_text = parts
        elif len(parts) == 3:
            ip_text, host_text, container_text = parts
        else:
            raise fail("too many ':' (write IPv6 addresses in brackets: [::1]:80:80)")

    host_ip = _normalise_ip(ip_text, default_host_ip, fail)
    container = _parse_range(container_text, fail, what="container port", allow_zero=False)
    if container is None:
        raise fail("container port is required")
    host = _parse_range(host_text, fail, what="host port", allow_zero=True)
    if host is None or host == (0, 0):
        return PortMapping(host_ip, None, None, container[0], container[1], proto)
    host_len = host[1] - host[0]
    container_len = container[1] - container[0]
    if container_len not in (host_len, 0):
        raise fail("host and container port ranges must have the same length")
    if host[0] == 0:
        raise fail("host port range cannot start at 0")
    return PortMapping(host_ip, host[0], host[1], container[0], container[1], proto)


def _normalise_ip(text: str, default: str, fail: object) -> str:
    raw = text or default
    if not raw:
        return "0.0.0.0"
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        assert callable(fail)
        raise fail(f"{raw!r} is not an IP address") from None


def _parse_range(text: str, fail: object, *, what: str, allow_zero: bool) -> tuple[int, int] | None:
    assert callable(fail)
    if text == "":
        return None
    start_text, dash, end_text = text.partition("-")
    start = _parse_number(start_text, fail, what)
    end = _parse_number(end_text, fail, what) if dash else start
    low = 0 if allow_zero else 1
    for value in (start, end):
        if not low <= value <= 65535:
            raise fail(f"{what} {value} is out of range {low}..65535")
    if end < start:
        raise fail(f"{what} range {start}-{end} ends before it starts")
    return start, end


def _parse_number(text: str, fail: object, what: str) -> int:
    assert callable(fail)
    if not text.isascii() or not text.isdigit() or len(text) > 5:
        raise fail(f"{what} {text!r} is not a number")
    return int(text)


@attrs.frozen
class PortSet:
    """The deduplicated, conflict-free set of host port mappings of one instance."""

    mappings: tuple[PortMapping, ...]

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
    return PortSet(tuple(sorted(_fold(ordered), key=PortMapping.canonical)))


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
    if a == b:
        return True
    return (a in WILDCARD_IPS) != (b in WILDCARD_IPS)


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
