"""Port specs: parsing, canonical form, semantic dedup, conflicts, the daemon port."""

from __future__ import annotations

import pytest

from reconciler.core.ports import PortMapping, PortSet, SourcedSpec, build_port_set, parse_port
from reconciler.errors import PortError


def port_set(
    *specs: str | SourcedSpec,
    dind: bool = True,
    allow_daemon_port: bool = False,
    host_ip: str = "127.0.0.1",
    booth_port: int = 10000,
) -> PortSet:
    sourced = [s if isinstance(s, SourcedSpec) else SourcedSpec(s, "test") for s in specs]
    return build_port_set(
        sourced,
        booth_port=booth_port,
        default_host_ip=host_ip,
        dind=dind,
        allow_daemon_port=allow_daemon_port,
    )


# --- parse_port: accepted grammar ------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("8080", PortMapping("127.0.0.1", None, None, 8080, 8080, "tcp")),
        ("8080:80", PortMapping("127.0.0.1", 8080, 8080, 80, 80, "tcp")),
        ("8080:80/udp", PortMapping("127.0.0.1", 8080, 8080, 80, 80, "udp")),
        ("8080:80/SCTP", PortMapping("127.0.0.1", 8080, 8080, 80, 80, "sctp")),
        ("10.1.2.3:8080:80", PortMapping("10.1.2.3", 8080, 8080, 80, 80, "tcp")),
        ("10.1.2.3::80", PortMapping("10.1.2.3", None, None, 80, 80, "tcp")),
        ("0:80", PortMapping("127.0.0.1", None, None, 80, 80, "tcp")),
        ("[::1]:8080:80", PortMapping("::1", 8080, 8080, 80, 80, "tcp")),
        ("[0:0::1]:8080:80", PortMapping("::1", 8080, 8080, 80, 80, "tcp")),
        ("[::]::80/udp", PortMapping("::", None, None, 80, 80, "udp")),
        ("8000-8002:9000-9002", PortMapping("127.0.0.1", 8000, 8002, 9000, 9002, "tcp")),
        ("8000-8010:80", PortMapping("127.0.0.1", 8000, 8010, 80, 80, "tcp")),
        # nat.go splitParts: the last two fields are the ports, the rest is the ip
        ("::1:8080:80", PortMapping("::1", 8080, 8080, 80, 80, "tcp")),
        ("[]:8080:80", PortMapping("127.0.0.1", 8080, 8080, 80, 80, "tcp")),
        (":8080:80", PortMapping("127.0.0.1", 8080, 8080, 80, 80, "tcp")),
        ("[10.1.2.3]:8080:80", PortMapping("10.1.2.3", 8080, 8080, 80, 80, "tcp")),
        ("08080:080", PortMapping("127.0.0.1", 8080, 8080, 80, 80, "tcp")),
        ("8080:80/", PortMapping("127.0.0.1", 8080, 8080, 80, 80, "tcp")),
        ("published=8080,target=80", PortMapping("127.0.0.1", 8080, 8080, 80, 80, "tcp")),
        (
            "target=80,published=8080,protocol=udp,host_ip=::1,mode=host",
            PortMapping("::1", 8080, 8080, 80, 80, "udp"),
        ),
        ("target=80", PortMapping("127.0.0.1", None, None, 80, 80, "tcp")),
    ],
)
def test_parse_port_accepts_docker_run_grammar(spec: str, expected: PortMapping) -> None:
    assert parse_port(spec) == expected


def test_empty_default_host_ip_is_dockers_default_address() -> None:
    mapping = parse_port("8080:80", default_host_ip="")
    assert mapping.host_ip == ""
    assert mapping.canonical() == ":8080:80/tcp"
    assert parse_port(mapping.canonical(), default_host_ip="") == mapping
    assert parse_port("8080:80", default_host_ip="::1").host_ip == "::1"


@pytest.mark.parametrize(
    ("mapping", "text"),
    [
        (PortMapping("127.0.0.1", 8080, 8080, 80, 80, "tcp"), "127.0.0.1:8080:80/tcp"),
        (PortMapping("::1", 8080, 8080, 80, 80, "udp"), "[::1]:8080:80/udp"),
        (PortMapping("0.0.0.0", None, None, 80, 80, "tcp"), "0.0.0.0::80/tcp"),
        (PortMapping("::", None, None, 80, 80, "tcp"), "[::]::80/tcp"),
        (
            PortMapping("127.0.0.1", 8000, 8002, 9000, 9002, "tcp"),
            "127.0.0.1:8000-8002:9000-9002/tcp",
        ),
        (PortMapping("127.0.0.1", 8000, 8010, 80, 80, "tcp"), "127.0.0.1:8000-8010:80/tcp"),
    ],
)
def test_canonical_form(mapping: PortMapping, text: str) -> None:
    assert mapping.canonical() == text
    assert parse_port(text) == mapping


# --- parse_port: every error names the spec, its source and the reason -----------------


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (" 8080:80 ", "container port '80 ' is not a number"),  # ParseInt takes no spaces
        ("8080:80/icmp", "protocol must be one of tcp, udp, sctp"),
        ("[::1:8080:80", "expected [ipv6]:hostPort:containerPort"),
        ("[::1]8080:80", "expected [ipv6]:hostPort:containerPort"),
        ("[::1]:80", "expected [ipv6]:hostPort:containerPort"),
        ("1:2:3:4", "'1:2' is not an IP address"),
        ("fe80::1%eth0:8080:80", "zone ids are not accepted"),
        ("[fe80::1%eth0]:8080:80", "zone ids are not accepted"),
        ("80/tcp/udp", "protocol must be one of tcp, udp, sctp, not 'tcp/udp'"),
        ("published=8080", "container port is required"),
        ("published=8080,target=80,mode=ingress", "mode=ingress is for swarm services"),
        ("published=8080,target=80,hostip=::1", "unknown key 'hostip'"),
        ("published=8080,target", "long syntax field 'target' is not key=value"),
        ("published=1.2.3.4:8080,target=80", "must be a port"),
        ("localhost:8080:80", "'localhost' is not an IP address"),
        ("[fe80::zz]:8080:80", "is not an IP address"),
        ("8080:", "container port is required"),
        ("8080:0", "container port 0 is out of range 1..65535"),
        ("8080:70000", "container port 70000 is out of range"),
        ("70000:80", "host port 70000 is out of range 0..65535"),
        ("abc", "container port 'abc' is not a number"),
        ("8080:http", "container port 'http' is not a number"),
        ("x:80", "host port 'x' is not a number"),
        ("-80", "container port '' is not a number"),
        ("90-80", "container port range 90-80 ends before it starts"),
        ("8000-8002:80-81", "ranges must have the same length"),
        ("0-2:80-82", "host port range cannot start at 0"),
        ("8080:८०", "is not a number"),  # non-ASCII digits are not port numbers
    ],
)
def test_parse_port_errors_name_spec_source_and_reason(spec: str, why: str) -> None:
    with pytest.raises(PortError) as info:
        parse_port(spec, source="command line -p")
    message = str(info.value)
    assert message.startswith(f"invalid port spec {spec!r} (command line -p): ")
    assert why in message


# --- build_port_set: dedup -------------------------------------------------------------


def test_booth_port_mapping_is_always_present() -> None:
    assert port_set().canonical() == ["127.0.0.1:10000:10000/tcp"]
    assert port_set(booth_port=12345).canonical() == ["127.0.0.1:12345:10000/tcp"]
    assert port_set("10000:10000").canonical() == ["127.0.0.1:10000:10000/tcp"]


def test_semantically_equal_specs_are_one_mapping() -> None:
    result = port_set("8080:8080", "8080:8080/tcp", "127.0.0.1:8080:8080", "8080:8080/TCP")
    assert result.canonical() == ["127.0.0.1:10000:10000/tcp", "127.0.0.1:8080:8080/tcp"]


def test_dockers_default_address_is_not_the_ipv4_wildcard() -> None:
    # HostIp "" binds 0.0.0.0 and [::]; "0.0.0.0" binds IPv4 only: two different bindings
    # that both take 0.0.0.0:8080.
    assert port_set("8080:80", host_ip="").canonical() == [":10000:10000/tcp", ":8080:80/tcp"]
    with pytest.raises(PortError, match="host port 8080/tcp"):
        port_set("8080:80", "0.0.0.0:8080:80", host_ip="")


def test_dockers_default_address_reaches_docker_as_an_empty_host_ip() -> None:
    bindings = port_set("8080:80", "[::1]:9090:90", host_ip="").docker_bindings()
    assert bindings == {
        "10000/tcp": [{"HostIp": "", "HostPort": "10000"}],
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}],
        "90/tcp": [{"HostIp": "::1", "HostPort": "9090"}],
    }


def test_range_and_its_units_are_one_mapping() -> None:
    folded = port_set("8000-8002:9000-9002")
    assert folded == port_set("8000:9000", "8001:9001", "8002:9002")
    assert folded == port_set("8002:9002", "8000-8001:9000-9001", "8001:9001")
    assert "127.0.0.1:8000-8002:9000-9002/tcp" in folded.canonical()


@pytest.mark.parametrize("neighbour", ["8011:81", "7999:79"])
def test_a_pick_from_range_mapping_is_never_folded_with_its_neighbours(neighbour: str) -> None:
    # "8000-8010:80" is one host port out of eleven, not eleven ports: a next unit that
    # looks consecutive (host 8011 to 81, or host 7999 to 79) is a mapping of its own.
    result = port_set("8000-8010:80", neighbour)
    assert result.canonical() == sorted(
        ["127.0.0.1:10000:10000/tcp", "127.0.0.1:8000-8010:80/tcp", f"127.0.0.1:{neighbour}/tcp"]
    )


def test_a_range_keeps_its_protocol_through_expansion() -> None:
    result = port_set("8000-8001:9000-9001/udp", "[::1]:7000-7001:7000-7001/sctp")
    assert result.canonical() == [
        "127.0.0.1:10000:10000/tcp",
        "127.0.0.1:8000-8001:9000-9001/udp",
        "[::1]:7000-7001:7000-7001/sctp",
    ]
    assert result.docker_bindings() == {
        "10000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "10000"}],
        "7000/sctp": [{"HostIp": "::1", "HostPort": "7000"}],
        "7001/sctp": [{"HostIp": "::1", "HostPort": "7001"}],
        "9000/udp": [{"HostIp": "127.0.0.1", "HostPort": "8000"}],
        "9001/udp": [{"HostIp": "127.0.0.1", "HostPort": "8001"}],
    }


def test_an_ephemeral_mapping_never_splits_a_range() -> None:
    # Ephemeral units sort before every host port (even port 1), so the units of a range
    # stay next to each other and fold back into one line.
    assert port_set("1-2:80-81", "81").canonical() == [
        "127.0.0.1:1-2:80-81/tcp",
        "127.0.0.1:10000:10000/tcp",
        "127.0.0.1::81/tcp",
    ]


def test_different_protocols_and_ips_are_different_mappings() -> None:
    result = port_set("8080:80", "8080:80/udp", "10.0.0.1:8080:80")
    assert result.canonical() == [
        "10.0.0.1:8080:80/tcp",
        "127.0.0.1:10000:10000/tcp",
        "127.0.0.1:8080:80/tcp",
        "127.0.0.1:8080:80/udp",
    ]


def test_one_container_port_may_be_published_on_two_host_ports() -> None:
    result = port_set("8080:80", "8081:80")
    assert "127.0.0.1:8080:80/tcp" in result.canonical()
    assert "127.0.0.1:8081:80/tcp" in result.canonical()


def test_docker_bindings_expand_ranges_per_container_port() -> None:
    bindings = port_set("8000-8001:9000-9001", "5000/udp").docker_bindings()
    assert bindings == {
        "10000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "10000"}],
        "5000/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}],
        "9000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8000"}],
        "9001/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8001"}],
    }


# --- build_port_set: conflicts ---------------------------------------------------------


def test_conflict_names_both_specs_and_both_sources() -> None:
    with pytest.raises(PortError) as info:
        port_set(
            SourcedSpec("8080:80", "/code/.booth/config.toml run-args"),
            SourcedSpec("8080:81", "command line -p"),
        )
    message = str(info.value)
    assert "host port 8080/tcp" in message
    assert "'8080:80' (/code/.booth/config.toml run-args)" in message
    assert "'8080:81' (command line -p)" in message


def test_conflict_with_the_booth_port_names_it() -> None:
    with pytest.raises(PortError) as info:
        port_set(SourcedSpec("10000:80", "command line -p"))
    message = str(info.value)
    assert "'10000:10000' (booth port)" in message
    assert "'10000:80' (command line -p)" in message


def test_wildcard_and_specific_ip_on_one_port_conflict() -> None:
    with pytest.raises(PortError) as info:
        port_set(
            SourcedSpec("0.0.0.0:8080:8080", "config"), SourcedSpec("127.0.0.1:8080:8080", "cli")
        )
    assert "'0.0.0.0:8080:8080' (config)" in str(info.value)
    assert "'127.0.0.1:8080:8080' (cli)" in str(info.value)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (":8080:80", "[::1]:8080:81"),  # Docker's default takes [::] too
        (":8080:80", "127.0.0.1:8080:81"),
        ("[::]:8080:80", "[::1]:8080:81"),
        ("0.0.0.0:8080:80", "[::ffff:10.0.0.1]:8080:81"),  # IPv4-mapped is IPv4
    ],
)
def test_wildcards_clash_with_their_own_family(first: str, second: str) -> None:
    with pytest.raises(PortError, match="host port 8080/tcp"):
        port_set(first, second, host_ip="")


def test_conflict_inside_ranges_is_found() -> None:
    with pytest.raises(PortError, match="host port 8002/tcp"):
        port_set("8000-8003:9000-9003", "8002:80")


@pytest.mark.parametrize(
    "specs",
    [
        ("127.0.0.1:8080:80", "10.0.0.1:8080:81"),  # two specific ips
        ("8080:80", "8080:81/udp"),  # two protocols
        ("8080:80", "8081:80"),  # two host ports, one target
        ("0.0.0.0:8080:80", "[::1]:8080:81"),  # IPv4 wildcard, IPv6 address
        ("127.0.0.1:8080:80", "[::]:8080:81"),  # IPv4 address, IPv6 wildcard
        ("0.0.0.0:8080:80", "[::]:8080:81"),  # the two wildcards: Docker binds [::] v6-only
    ],
)
def test_no_conflict_without_a_shared_host_address(specs: tuple[str, ...]) -> None:
    assert len(port_set(*specs).mappings) == 3


# --- the inner daemon's port -----------------------------------------------------------


@pytest.mark.parametrize("spec", ["2375", "2375:2375", "0.0.0.0:12375:2375", "2370-2380:2370-2380"])
def test_daemon_port_is_refused_in_dind_mode(spec: str) -> None:
    with pytest.raises(PortError) as info:
        port_set(SourcedSpec(spec, "command line -p"))
    message = str(info.value)
    assert f"{spec!r} (command line -p)" in message
    assert "2375" in message
    assert "allow-daemon-port = true" in message


def test_daemon_port_is_allowed_when_asked_or_without_dind() -> None:
    assert "127.0.0.1:2375:2375/tcp" in port_set("2375:2375", allow_daemon_port=True).canonical()
    assert "127.0.0.1:2375:2375/tcp" in port_set("2375:2375", dind=False).canonical()


def test_daemon_port_check_is_about_the_container_side() -> None:
    # Host port 2375 forwarded to another container port does not expose the daemon.
    assert "127.0.0.1:2375:8080/tcp" in port_set("2375:8080").canonical()
    assert "127.0.0.1:2375:2375/udp" in port_set("2375:2375/udp").canonical()
