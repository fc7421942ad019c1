"""Port dedup and parsing: order/repetition independence, idempotence, round trips, and
dedup and conflicts checked against an independent model (not the code under test)."""

from __future__ import annotations

import ipaddress
import itertools

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prop_support import port_mappings, port_spec_texts

from reconciler.core.ports import (
    PROTOCOLS,
    PortMapping,
    PortSet,
    SourcedSpec,
    build_port_set,
    parse_port,
)
from reconciler.errors import PortError

HOST_IPS = st.sampled_from(("127.0.0.1", "", "10.0.0.1", "::1"))


def outcome(specs: list[str], host_ip: str, dind: bool = False) -> PortSet | type[PortError]:
    """The port set, or PortError: a conflict must not depend on the order of the inputs."""
    sourced = [SourcedSpec(spec, f"input {i}") for i, spec in enumerate(specs)]
    try:
        return build_port_set(
            sourced, booth_port=10000, default_host_ip=host_ip, dind=dind, allow_daemon_port=False
        )
    except PortError:
        return PortError


@settings(max_examples=200, deadline=None)
@given(specs=st.lists(port_spec_texts(), max_size=6), host_ip=HOST_IPS, data=st.data())
def test_dedup_is_independent_of_order_and_repetition(
    specs: list[str], host_ip: str, data: st.DataObject
) -> None:
    repeated = specs + data.draw(st.lists(st.sampled_from(specs), max_size=4)) if specs else []
    shuffled = data.draw(st.permutations(repeated))
    assert outcome(shuffled, host_ip) == outcome(specs, host_ip)


@settings(max_examples=200, deadline=None)
@given(specs=st.lists(port_spec_texts(), max_size=6), host_ip=HOST_IPS)
def test_dedup_is_idempotent(specs: list[str], host_ip: str) -> None:
    result = outcome(specs, host_ip)
    if result is PortError:
        return
    assert isinstance(result, PortSet)
    assert outcome(result.canonical(), host_ip) == result
    canonical = result.canonical()
    assert canonical == sorted(canonical)
    assert len(set(canonical)) == len(canonical)


@settings(max_examples=200, deadline=None)
@given(specs=st.lists(port_spec_texts(), max_size=6), host_ip=HOST_IPS)
def test_result_covers_exactly_the_inputs(specs: list[str], host_ip: str) -> None:
    """Dedup neither loses nor invents a published (host, container) pair."""
    result = outcome(specs, host_ip)
    if result is PortError:
        return
    assert isinstance(result, PortSet)

    def units(mappings: list[PortMapping]) -> set[PortMapping]:
        return {unit for mapping in mappings for unit in mapping.units()}

    inputs = [parse_port(spec, default_host_ip=host_ip) for spec in ["10000:10000", *specs]]
    assert units(list(result.mappings)) == units(inputs)


@settings(max_examples=150, deadline=None)
@given(
    port=st.integers(1, 65535).filter(lambda p: p != 10000),
    spellings=st.lists(
        st.sampled_from(
            ("{p}:{p}", "{p}:{p}/tcp", "{p}:{p}/TCP", "127.0.0.1:{p}:{p}", "127.0.0.1:{p}:{p}/tcp")
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_semantically_equal_specs_dedup_to_one(port: int, spellings: list[str]) -> None:
    result = outcome([s.format(p=port) for s in spellings], "127.0.0.1")
    assert isinstance(result, PortSet)
    assert sorted(result.canonical()) == sorted(
        ["127.0.0.1:10000:10000/tcp", f"127.0.0.1:{port}:{port}/tcp"]
    )


@settings(max_examples=200, deadline=None)
@given(mapping=port_mappings(), default_ip=HOST_IPS)
def test_parse_port_round_trips_the_canonical_form(mapping: PortMapping, default_ip: str) -> None:
    # the canonical form names its ip, so the default host ip plays no part
    assert parse_port(mapping.canonical(), default_host_ip=default_ip) == mapping


@settings(max_examples=200, deadline=None)
@given(spec=port_spec_texts(), default_ip=HOST_IPS)
def test_parsed_specs_round_trip(spec: str, default_ip: str) -> None:
    mapping = parse_port(spec, default_host_ip=default_ip)
    # the canonical form names its ip, unless it is Docker's default address (empty)
    other_default = "" if mapping.host_ip == "" else "10.9.9.9"
    assert parse_port(mapping.canonical(), default_host_ip=other_default) == mapping


@settings(max_examples=200, deadline=None)
@given(
    container=st.integers(1, 65535),
    host=st.one_of(st.none(), st.integers(1, 65535)),
    proto=st.sampled_from(PROTOCOLS),
    ip=st.sampled_from(("", "127.0.0.1", "::1")),
    order=st.permutations(("published", "target", "protocol", "host_ip")),
)
def test_long_syntax_equals_short_syntax(
    container: int, host: int | None, proto: str, ip: str, order: list[str]
) -> None:
    values = {
        "published": "" if host is None else str(host),
        "target": str(container),
        "protocol": proto,
        "host_ip": ip,
    }
    long = ",".join(f"{key}={values[key]}" for key in order)
    bracketed = f"[{ip}]" if ":" in ip else ip
    short = f"{bracketed}:{values['published']}:{container}/{proto}"
    assert parse_port(long, default_host_ip="") == parse_port(short, default_host_ip="")


# --- against an independent model ----------------------------------------------------------
#
# The properties above compare build_port_set with itself (on a shuffled input), so a bug
# that the sort inside it hides (a first claimer of a host port silently winning over a
# later one) passes them. Here the expected outcome comes from a model that shares no code
# with ports.py: specs are drawn as fields, written out in any of Docker's spellings, and
# the model says which (host ip, host span, container port, protocol) units they publish
# and whether two of them take the same host socket.

Unit = tuple[object, int | None, int | None, int, str]  # ip, host start/end, container, proto
MODEL_IPS = ("", "127.0.0.1", "0.0.0.0", "10.0.0.1", "::1", "::", "::ffff:10.0.0.1")


def _model_ip(text: str) -> object:
    """An address as the model compares it ("" is Docker's default: every address)."""
    return "" if text == "" else ipaddress.ip_address(text)


def _socket_family_clash(a: object, b: object) -> bool:
    """Docker's default address takes every address; a wildcard takes its family's; an
    IPv4-mapped IPv6 address is its IPv4 address; otherwise only equal addresses clash."""
    if a == "" or b == "":
        return True
    assert isinstance(a, ipaddress.IPv4Address | ipaddress.IPv6Address)
    assert isinstance(b, ipaddress.IPv4Address | ipaddress.IPv6Address)
    a = a.ipv4_mapped or a if isinstance(a, ipaddress.IPv6Address) else a
    b = b.ipv4_mapped or b if isinstance(b, ipaddress.IPv6Address) else b
    return a.version == b.version and (a == b or a.is_unspecified or b.is_unspecified)


@attrs.frozen
class DrawnSpec:
    text: str
    units: frozenset[Unit]


@st.composite
def drawn_specs(draw: st.DrawFn, default_ip: str) -> DrawnSpec:
    """One ``-p`` value over a small pool of ports (so clashes are common), and its units."""
    ip = draw(st.sampled_from(MODEL_IPS))
    proto = draw(st.sampled_from(("tcp", "tcp", "udp", "sctp")))
    shape = draw(st.sampled_from(("single", "single", "range", "pick", "ephemeral")))
    length = draw(st.integers(1, 2)) if shape in ("range", "pick") else 0
    host = draw(st.integers(8000, 8002))
    # Mostly host 800n → container 8n: neighbours that fold into one range are common.
    container = host - 7920 + draw(st.sampled_from((0, 0, 0, 1, 2)))
    unit_ip = _model_ip(ip or default_ip)
    if shape == "ephemeral":
        host_text, container_text = "", f"{container}-{container + length}"
        units = {(unit_ip, None, None, container, proto)}
    elif shape == "pick":
        host_text, container_text = f"{host}-{host + length}", str(container)
        units = {(unit_ip, host, host + length, container, proto)}
    else:
        host_text = f"{host}-{host + length}" if length else str(host)
        container_text = f"{container}-{container + length}" if length else str(container)
        units = {(unit_ip, host + i, host + i, container + i, proto) for i in range(length + 1)}
    if shape == "ephemeral" and length == 0:
        container_text = str(container)
    text = _written(draw, ip, host_text, container_text, proto)
    return DrawnSpec(text, frozenset(units))


def _written(draw: st.DrawFn, ip: str, host: str, container: str, proto: str) -> str:
    """The spec in one of the spellings docker run accepts."""
    shown_proto = draw(st.sampled_from((proto, proto.upper()))) if proto != "tcp" else ""
    if draw(st.booleans()) and proto == "tcp":
        shown_proto = draw(st.sampled_from(("tcp", "TCP")))
    if draw(st.integers(0, 3)) == 0:
        fields = {"target": container}
        if host:
            fields["published"] = host
        if shown_proto:
            fields["protocol"] = shown_proto
        if ip:
            fields["host_ip"] = ip
        order = draw(st.permutations(sorted(fields)))
        return ",".join(f"{key}={fields[key]}" for key in order)
    suffix = f"/{shown_proto}" if shown_proto else ""
    shown_ip = f"[{ip}]" if ":" in ip else ip
    if not ip and not host:
        return f"{container}{suffix}"
    return f"{shown_ip}:{host}:{container}{suffix}" if ip else f"{host}:{container}{suffix}"


def expected_outcome(specs: list[DrawnSpec], default_ip: str) -> frozenset[Unit] | None:
    """The model's answer: every unit published, or None when two distinct units would
    take one host socket (same protocol, a common host port, clashing addresses)."""
    booth: Unit = (_model_ip(default_ip), 10000, 10000, 10000, "tcp")
    units = sorted({booth, *(u for spec in specs for u in spec.units)}, key=repr)
    for i, (ip, start, end, _, proto) in enumerate(units):
        if start is None or end is None:
            continue
        for other_ip, other_start, other_end, _, other_proto in units[i + 1 :]:
            if other_start is None or other_end is None or other_proto != proto:
                continue
            overlap = start <= other_end and other_start <= end
            if overlap and _socket_family_clash(ip, other_ip):
                return None
    return frozenset(units)


def published_units(result: PortSet) -> list[Unit]:
    """The units of a result, expanded here (not with PortMapping.units())."""
    units: list[Unit] = []
    for m in result.mappings:
        ip = _model_ip(m.host_ip)
        containers = range(m.container_start, m.container_end + 1)
        if m.host_start is None:
            units += [(ip, None, None, c, m.proto) for c in containers]
        elif m.host_end is not None and m.host_end - m.host_start == len(containers) - 1:
            units += [
                (ip, m.host_start + i, m.host_start + i, c, m.proto)
                for i, c in enumerate(containers)
            ]
        else:
            assert len(containers) == 1, m
            units.append((ip, m.host_start, m.host_end, m.container_start, m.proto))
    return units


@st.composite
def spec_lists(draw: st.DrawFn) -> tuple[str, list[DrawnSpec]]:
    default_ip = draw(st.sampled_from(("", "127.0.0.1", "::1", "0.0.0.0")))
    return default_ip, draw(st.lists(drawn_specs(default_ip), max_size=8))


@settings(max_examples=300, deadline=None)
@given(drawn=spec_lists())
def test_dedup_and_conflicts_match_an_independent_model(drawn: tuple[str, list[DrawnSpec]]) -> None:
    default_ip, specs = drawn
    expected = expected_outcome(specs, default_ip)
    result = outcome([s.text for s in specs], default_ip)
    if expected is None:
        assert result is PortError, [s.text for s in specs]
        return
    assert isinstance(result, PortSet), [s.text for s in specs]
    units = published_units(result)
    assert len(units) == len(set(units)), "a unit published twice"
    assert set(units) == expected
    assert len(result.mappings) == fewest_mappings(expected), "ranges not folded back"
    assert result.canonical() == sorted(result.canonical())


def fewest_mappings(units: frozenset[Unit]) -> int:
    """How many mappings ``units`` fold into: a run of host port n → container port m,
    n+1 → m+1, … on one address and protocol is one; a pick from a host range, or a
    container port without a host port (each gets its own), is one each."""
    matched = {(ip, h, c, proto) for ip, h, end, c, proto in units if h is not None and h == end}
    starts = [u for u in matched if (u[0], u[1] - 1, u[2] - 1, u[3]) not in matched]  # type: ignore[operator]
    return len(units) - len(matched) + len(starts)


@settings(max_examples=300, deadline=None)
@given(drawn=spec_lists(), data=st.data())
def test_every_order_gives_the_result_of_the_sorted_input(
    drawn: tuple[str, list[DrawnSpec]], data: st.DataObject
) -> None:
    """Reversing the input puts every pair in the other order; a permutation adds more."""
    default_ip, specs = drawn
    texts = [s.text for s in specs]
    reference = outcome(sorted(texts), default_ip)
    assert outcome(texts, default_ip) == reference
    assert outcome(texts[::-1], default_ip) == reference
    assert outcome(data.draw(st.permutations(texts)), default_ip) == reference


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("8000:80", "8000:81"),
        ("127.0.0.1:8000:80", "0.0.0.0:8000:80"),
        ("0.0.0.0:8000:80/udp", "10.0.0.1:8000:81/udp"),
        ("[::ffff:10.0.0.1]:8000:80", "10.0.0.1:8000:81"),
        ("8000-8002:80", "8002:81"),
        ("published=8000,target=80,protocol=sctp", "8000:81/SCTP"),
    ],
)
def test_a_host_socket_claimed_twice_is_a_conflict_in_either_order(first: str, second: str) -> None:
    assert outcome([first, second], "127.0.0.1") is PortError
    assert outcome([second, first], "127.0.0.1") is PortError


@pytest.mark.parametrize(
    "specs",
    [
        ["8001:81", "8000:80"],
        ["8002:82", "8000:80", "8001:81"],
        ["8001-8002:81-82", "8000:80"],
        ["published=8001,target=81", "8000:80/TCP"],
    ],
)
def test_neighbours_fold_into_one_range_in_any_order(specs: list[str]) -> None:
    for order in (specs, specs[::-1], sorted(specs)):
        result = outcome(order, "127.0.0.1")
        assert isinstance(result, PortSet)
        ranges = [c for c in result.canonical() if not c.startswith("127.0.0.1:10000:")]
        assert len(ranges) == 1 and ranges[0].startswith("127.0.0.1:8000-"), ranges


@pytest.mark.parametrize(
    "specs",
    [
        # The first claimer of 8000 clashes with neither; the two others clash.
        ["10.0.0.1:8000:80", "127.0.0.1:8000:81", "127.0.0.1:8000:82"],
        ["[::1]:8000:80", "0.0.0.0:8000:81", "10.0.0.1:8000:82"],
        ["8000:80/udp", "10.0.0.1:8000:81", "[::ffff:10.0.0.1]:8000:82"],
    ],
)
def test_a_clash_between_later_claimers_is_found_in_every_order(specs: list[str]) -> None:
    for order in itertools.permutations(specs):
        assert outcome(list(order), "127.0.0.1") is PortError, order
