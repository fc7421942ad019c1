"""Port dedup and parsing: order/repetition independence, idempotence, round trips."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from prop_support import port_mappings, port_spec_texts

from reconciler.errors import PortError
from reconciler.ports import (
    PROTOCOLS,
    PortMapping,
    PortSet,
    SourcedSpec,
    build_port_set,
    parse_port,
)

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
