"""Hypothesis strategies shared by the property tests (plain module, no conftest)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from booth_builders import actual_matching, config_from_table
from hypothesis import strategies as st

from reconciler.config.booth_config import BoothConfig, CliInputs
from reconciler.core.model import ActualState, DesiredGraph
from reconciler.core.ports import PROTOCOLS, PortMapping

PROJECT = "prop"


def _code_dir() -> str:
    """A code directory of this process holding a Dockerfile (not where CodingBooth looks
    by default: a config builds only when it names it) and a file of its build context."""
    code = Path(tempfile.mkdtemp(prefix="booth-prop-"))
    (code / "docker").mkdir()
    (code / "docker" / "Dockerfile").write_text("FROM booth-test/busybox:latest\nCOPY app.py /\n")
    (code / "app.py").write_text("print(1)\n")
    return str(code)


CODE = _code_dir()
DOCKERFILE = "docker/Dockerfile"

# --- port specs --------------------------------------------------------------------------

SPEC_IPS = (
    "",
    "127.0.0.1",
    "0.0.0.0",
    "10.0.0.1",
    "[::1]",
    "[::]",
    "[::ffff:10.0.0.1]",  # IPv4-mapped: the same socket as 10.0.0.1
    "[::ffff:0.0.0.0]",
)
SPEC_PROTOS = ("", "/tcp", "/udp", "/TCP", "/sctp", "/SCTP")


@st.composite
def port_spec_texts(draw: st.DrawFn) -> str:
    """``docker run -p`` specs over a small port pool, so overlaps and conflicts are common."""
    ip = draw(st.sampled_from(SPEC_IPS))
    proto = draw(st.sampled_from(SPEC_PROTOS))
    start = draw(st.integers(8000, 8006))
    length = draw(st.integers(0, 2))
    container = str(start) if length == 0 else f"{start}-{start + length}"
    shape = draw(st.sampled_from(("same", "shifted", "ephemeral", "pick")))
    if shape == "ephemeral":
        host = ""
    elif shape == "pick":
        host_start = draw(st.integers(8000, 8006))
        host = f"{host_start}-{host_start + draw(st.integers(1, 2))}"
        container = str(start)
    else:
        shift = 0 if shape == "same" else draw(st.sampled_from((1, 100)))
        host = str(start + shift) if length == 0 else f"{start + shift}-{start + shift + length}"
    if draw(st.integers(0, 4)) == 0:
        return _long_syntax(draw, ip, host, container, proto)
    if not host:
        return f"{ip}::{container}{proto}" if ip else f"{container}{proto}"
    return f"{ip}:{host}:{container}{proto}" if ip else f"{host}:{container}{proto}"


def _long_syntax(draw: st.DrawFn, ip: str, host: str, container: str, proto: str) -> str:
    """The same spec in ``published=…,target=…`` form, fields in any order (booth reads
    it as the docker CLI does: ``published:target/protocol``, ranges included)."""
    fields = {"target": container}
    if host:
        fields["published"] = host
    if proto:
        fields["protocol"] = proto[1:]
    if ip:
        fields["host_ip"] = ip.strip("[]")
    order = draw(st.permutations(sorted(fields)))
    return ",".join(f"{key}={fields[key]}" for key in order)


@st.composite
def port_mappings(draw: st.DrawFn) -> PortMapping:
    """Any canonical mapping, over every IP address and protocol."""
    ip = str(draw(st.ip_addresses()))
    proto = draw(st.sampled_from(PROTOCOLS))
    container_start = draw(st.integers(1, 65535))
    container_end = draw(st.integers(container_start, min(65535, container_start + 20)))
    shape = draw(st.sampled_from(("ephemeral", "matched", "pick")))
    if shape == "ephemeral":
        return PortMapping(ip, None, None, container_start, container_end, proto)
    length = container_end - container_start
    if shape == "pick":
        container_end = container_start
        length = draw(st.integers(1, 20))
    host_start = draw(st.integers(1, 65535 - length))
    return PortMapping(ip, host_start, host_start + length, container_start, container_end, proto)


# --- configs -----------------------------------------------------------------------------


def config_from_raw(raw: dict[str, Any], cli: CliInputs | None = None) -> BoothConfig:
    """What ``load_config`` builds from a TOML table ``raw`` in ``CODE``."""
    return config_from_table(raw, code=CODE, cli=cli)


# One port, as run-args may publish it: short and long syntax, another protocol.
PORT_FORMS = st.sampled_from(("{p}:{p}", "{p}:{p}/udp", "{p}:{p}/sctp", "published={p},target={p}"))
# Flags that configure the network namespace (the sidecar's in DinD mode).
NAMESPACE_ARGS = (
    [],
    ["-h", "box"],
    ["--dns", "1.1.1.1", "--add-host=db:10.0.0.2"],
    ["--dns-search", "example.test", "--dns-option", "ndots:1"],
)
HOST_IPS = ("127.0.0.1", "", "0.0.0.0", "10.0.0.1", "::1", "::ffff:127.0.0.1")


@st.composite
def configs(draw: st.DrawFn) -> BoothConfig:
    """Configs of one instance (``prop``): DinD on/off, data volume on/off, a few ports in
    any syntax and protocol, namespace flags, any ``host-ip`` and daemon endpoint, and a
    build of the code directory's Dockerfile or none."""
    ports = draw(st.lists(st.sampled_from((3000, 5000, 8080, 9000)), unique=True, max_size=3))
    cli_ports = draw(st.lists(st.sampled_from((5000, 7000)), unique=True, max_size=1))
    run_args = [word for port in ports for word in ("-p", draw(PORT_FORMS).format(p=port))]
    run_args += draw(st.sampled_from(([], ["-e", "A=1"], ["--privileged"], ["-v", "./data:/d"])))
    run_args += draw(st.sampled_from(NAMESPACE_ARGS))
    raw = {
        "project-name": PROJECT,
        "dind": draw(st.booleans()),
        "keep-dind-data": draw(st.booleans()),
        "variant": draw(st.sampled_from(("base", "desktop-xfce"))),
        "run-args": run_args,
        "host-ip": draw(st.sampled_from(HOST_IPS)),
        "daemon-endpoint": draw(st.sampled_from(("tls", "unix", "tcp"))),
    }
    if draw(st.booleans()):
        raw["dockerfile"] = DOCKERFILE
        raw["build-args"] = draw(st.sampled_from(([], ["--build-arg", "V=1"])))
    cmds = draw(st.sampled_from((None, ("bash", "-l"))))
    return config_from_raw(raw, CliInputs(publish=tuple(f"{p}:{p}" for p in cli_ports), cmds=cmds))


def actual_equal_to(desired: DesiredGraph) -> ActualState:
    """What the observer reports right after a successful apply of ``desired``."""
    return actual_matching(desired)
