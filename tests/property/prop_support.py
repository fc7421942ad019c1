"""Hypothesis strategies shared by the property tests (plain module, no conftest)."""

from __future__ import annotations

from typing import Any

from booth_builders import actual_matching, config_from_table
from hypothesis import strategies as st

from reconciler.config import BoothConfig, CliInputs
from reconciler.model import ActualState, DesiredGraph
from reconciler.ports import PROTOCOLS, PortMapping

CODE = "/srv/prop"  # never touched: build_config only reads files named by --env-file
PROJECT = "prop"

# --- port specs --------------------------------------------------------------------------

SPEC_IPS = ("", "127.0.0.1", "0.0.0.0", "10.0.0.1", "[::1]", "[::]")
SPEC_PROTOS = ("", "/tcp", "/udp", "/TCP")


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
        return f"{ip}::{container}{proto}" if ip else f"{container}{proto}"
    if shape == "pick":
        host_start = draw(st.integers(8000, 8006))
        host = f"{host_start}-{host_start + draw(st.integers(1, 2))}"
        container = str(start)
    else:
        shift = 0 if shape == "same" else draw(st.sampled_from((1, 100)))
        host = str(start + shift) if length == 0 else f"{start + shift}-{start + shift + length}"
    return f"{ip}:{host}:{container}{proto}" if ip else f"{host}:{container}{proto}"


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


@st.composite
def configs(draw: st.DrawFn) -> BoothConfig:
    """Configs of one instance (``prop-10000``): DinD on/off, data volume on/off, a few ports."""
    ports = draw(st.lists(st.sampled_from((3000, 5000, 8080, 9000)), unique=True, max_size=3))
    cli_ports = draw(st.lists(st.sampled_from((5000, 7000)), unique=True, max_size=1))
    run_args = [word for port in ports for word in ("-p", f"{port}:{port}")]
    run_args += draw(st.sampled_from(([], ["-e", "A=1"], ["--privileged"], ["-v", "./data:/d"])))
    raw = {
        "project-name": PROJECT,
        "dind": draw(st.booleans()),
        "keep-dind-data": draw(st.booleans()),
        "variant": draw(st.sampled_from(("base", "desktop-xfce"))),
        "run-args": run_args,
    }
    cmds = draw(st.sampled_from((None, ("bash", "-l"))))
    return config_from_raw(raw, CliInputs(publish=tuple(f"{p}:{p}" for p in cli_ports), cmds=cmds))


def actual_equal_to(desired: DesiredGraph) -> ActualState:
    """What the observer reports right after a successful apply of ``desired``."""
    return actual_matching(desired)
