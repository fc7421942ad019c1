"""Port specs: the exact line each mistake gives, and the long ``-p`` syntax.

A port error is one line: ``invalid port spec '<spec>' (<source>): <why>``, the why saying
what was expected. ``test_ports.py`` checks the grammar and that errors name the spec;
these pin the whole line, bounds included (which port, which range).
"""

from __future__ import annotations

import pytest

from reconciler.core.ports import PortMapping, SourcedSpec, build_port_set, parse_port
from reconciler.errors import PortError

LONG_KEYS = "published, target, protocol, host_ip, mode"


def why(spec: str) -> str:
    """The reason part of the error ``spec`` gives, checking the line's fixed start."""
    with pytest.raises(PortError) as caught:
        parse_port(spec, source="cli")
    message = str(caught.value)
    start = f"invalid port spec {spec!r} (cli): "
    assert message.startswith(start), message
    return message.removeprefix(start)


def test_an_error_without_a_source_has_no_parentheses() -> None:
    with pytest.raises(PortError) as caught:
        parse_port("x:80")
    assert str(caught.value) == "invalid port spec 'x:80': host port 'x' is not a number"


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("", "empty"),
        (" ", "empty"),
        ("8080:", "container port is required"),
        ("8080:80/icmp", "protocol must be one of tcp, udp, sctp, not 'icmp'"),
        ("8080:0", "container port 0 is out of range 1..65535"),
        ("8080:65536", "container port 65536 is out of range 1..65535"),
        ("65536:80", "host port 65536 is out of range 0..65535"),
        ("8080:80-65536", "container port 65536 is out of range 1..65535"),
        ("90-80", "container port range 90-80 ends before it starts"),
        ("9-8:80", "host port range 9-8 ends before it starts"),
        ("8000-8002:80-81", "host and container port ranges must have the same length"),
        ("0-2:80-82", "host port range cannot start at 0"),
        ("abc", "container port 'abc' is not a number"),
        ("x:80", "host port 'x' is not a number"),
        ("1-x:80", "host port 'x' is not a number"),
        ("localhost:8080:80", "'localhost' is not an IP address"),
        (
            "fe80::1%eth0:8080:80",
            "'fe80::1%eth0' is not an IP address (zone ids are not accepted by Docker)",
        ),
        ("[::1:8080:80", "'[::1' is not an IP address (expected [ipv6]:hostPort:containerPort)"),
        (
            "[[::1]]:8080:80",
            "'[[::1]]' is not an IP address (expected [ipv6]:hostPort:containerPort)",
        ),
        ("[:]:]:8080:80", "'[:]:]' is not an IP address (expected [ipv6]:hostPort:containerPort)"),
        (
            "[[::1]:8080:80",
            "'[[::1]' is not an IP address (expected [ipv6]:hostPort:containerPort)",
        ),
    ],
)
def test_short_syntax_errors(spec: str, reason: str) -> None:
    assert why(spec) == reason


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("0:80", PortMapping("127.0.0.1", None, None, 80, 80)),
        ("65535:65535", PortMapping("127.0.0.1", 65535, 65535, 65535, 65535)),
        ("1:1", PortMapping("127.0.0.1", 1, 1, 1, 1)),
        ("8080-8080:80", PortMapping("127.0.0.1", 8080, 8080, 80, 80)),
        ("80-80", PortMapping("127.0.0.1", None, None, 80, 80)),
        ("[]:8080:80", PortMapping("127.0.0.1", 8080, 8080, 80, 80)),
    ],
)
def test_the_bounds_themselves_are_accepted(spec: str, expected: PortMapping) -> None:
    assert parse_port(spec) == expected


def test_a_default_address_that_is_not_one_is_an_error_too() -> None:
    # The config checks host-ip first; a library caller gets the same kind of error.
    with pytest.raises(PortError) as caught:
        parse_port("80", default_host_ip="nowhere", source="cli")
    assert str(caught.value) == "invalid port spec '80' (cli): 'nowhere' is not an IP address"


# -- the long syntax --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("=80", "long syntax field '=80' is not key=value"),
        ("published=8080,target", "long syntax field 'target' is not key=value"),
        ("target=80,,", "long syntax field '' is not key=value"),
        ("target=80,Target=81", f"unknown key 'Target' (expected {LONG_KEYS})"),
        (
            "target=80,mode=ingress",
            "mode=ingress is for swarm services; a container port uses mode=host",
        ),
        ("target=80,mode=", "mode= is for swarm services; a container port uses mode=host"),
        (
            "published=1.2.3.4:8080,target=80",
            "published=1.2.3.4:8080 must be a port, a range or a protocol",
        ),
        ("published=8080,target=80/udp", "target=80/udp must be a port, a range or a protocol"),
        ("target=80:81", "target=80:81 must be a port, a range or a protocol"),
        ("target=80,protocol=tcp/udp", "protocol=tcp/udp must be a port, a range or a protocol"),
        ("target=80,protocol=udp:x", "protocol=udp:x must be a port, a range or a protocol"),
        ("published=8080", "container port is required"),
        ("target=80,host_ip=nope", "'nope' is not an IP address"),
        # a value is everything after the first '='
        ("target=8=0", "container port '8=0' is not a number"),
        # an IPv6 host_ip stands for a bracketed address, and is judged as one
        (
            "target=80,host_ip=::1]",
            "'[::1]]' is not an IP address (expected [ipv6]:hostPort:containerPort)",
        ),
    ],
)
def test_long_syntax_errors(spec: str, reason: str) -> None:
    assert why(spec) == reason


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("target=80", PortMapping("127.0.0.1", None, None, 80, 80, "tcp")),
        ("target=80,mode=host", PortMapping("127.0.0.1", None, None, 80, 80, "tcp")),
        ("target=80,protocol=UDP", PortMapping("127.0.0.1", None, None, 80, 80, "udp")),
        ("published=8080,target=80,host_ip=", PortMapping("127.0.0.1", 8080, 8080, 80, 80)),
        ("published=8080,target=80,host_ip=10.0.0.1", PortMapping("10.0.0.1", 8080, 8080, 80, 80)),
        ("published=8080,target=80,host_ip=::1", PortMapping("::1", 8080, 8080, 80, 80)),
        ("published=8080,target=80,host_ip=[::1]", PortMapping("::1", 8080, 8080, 80, 80)),
        ("published=8000-8001,target=80-81", PortMapping("127.0.0.1", 8000, 8001, 80, 81)),
    ],
)
def test_long_syntax_means_the_short_one(spec: str, expected: PortMapping) -> None:
    assert parse_port(spec) == expected


def test_long_syntax_host_ip_replaces_the_default() -> None:
    assert parse_port("target=80,host_ip=::1", default_host_ip="").host_ip == "::1"
    assert parse_port("target=80", default_host_ip="").host_ip == ""


# -- whole-set errors -------------------------------------------------------------------


def build(*specs: SourcedSpec, dind: bool = True) -> list[str]:
    return build_port_set(
        specs, booth_port=10000, default_host_ip="127.0.0.1", dind=dind, allow_daemon_port=False
    ).canonical()


def test_a_conflict_is_one_line_naming_the_port_and_both_specs() -> None:
    with pytest.raises(PortError) as caught:
        build(SourcedSpec("8080:80/udp", "config run-args"), SourcedSpec("8080:81/udp", "cli -p"))
    assert str(caught.value) == (
        "port conflict on host port 8080/udp: '8080:80/udp' (config run-args) "
        "and '8080:81/udp' (cli -p)"
    )


def test_publishing_the_daemon_port_says_why_and_how_to_allow_it() -> None:
    with pytest.raises(PortError) as caught:
        build(SourcedSpec("12375:2375", "cli -p"))
    assert str(caught.value) == (
        "port spec '12375:2375' (cli -p) publishes the inner Docker daemon port 2375, which "
        "gives root on the host to anyone who reaches it; set allow-daemon-port = true in "
        "the config to allow it"
    )
