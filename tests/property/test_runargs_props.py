"""Run-arg routing does not depend on how port flags are interleaved with other flags."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from prop_support import port_spec_texts

from reconciler.flags import ParseContext
from reconciler.runargs import RoutedRunArgs, route, words_from

# Non-port flags, each a group of words; their relative order is kept (it matters for
# "last one wins" flags such as -w), only the port flags move around them.
OTHER_FLAGS = (
    ("-e", "A=1"),
    ("--env=B=2",),
    ("-eC=3",),
    ("-v", "/h:/c"),
    ("--volume=/anon",),
    ("--privileged",),
    ("-it",),
    ("-t=false",),
    ("-w", "/w1"),
    ("--workdir=/w2",),
    ("-l", "k=v"),
    ("--label=k=w",),
    ("--cap-add", "NET_ADMIN"),
    ("--init",),
    ("-u", "1000"),
    ("--dns", "1.1.1.1"),
    ("-h", "box"),
    ("--add-host=db:10.0.0.2",),
    ("--network", "host"),
    ("--net=other",),
    ("--tmpfs", "/run"),
    ("-m", "1g"),
    ("--entrypoint", "-p"),  # a value that looks like a port flag is still a value
)
PORT_SPELLINGS = (
    lambda spec: ("-p", spec),
    lambda spec: (f"-p{spec}",),
    lambda spec: (f"-p={spec}",),
    lambda spec: ("--publish", spec),
    lambda spec: (f"--publish={spec}",),
)


def routed(groups: list[tuple[str, ...]], dind: bool) -> RoutedRunArgs:
    words = words_from([w for group in groups for w in group], "config run-args")
    return route(words, dind=dind, context=ParseContext(Path("/srv/demo-app"), {}))


@settings(max_examples=200, deadline=None)
@given(
    others=st.lists(st.sampled_from(OTHER_FLAGS), max_size=8),
    ports=st.lists(st.tuples(port_spec_texts(), st.sampled_from(PORT_SPELLINGS)), max_size=5),
    dind=st.booleans(),
    data=st.data(),
)
def test_routing_is_independent_of_port_flag_placement_and_spelling(
    others: list[tuple[str, ...]],
    ports: list[tuple[str, object]],
    dind: bool,
    data: st.DataObject,
) -> None:
    reference = routed([*others, *(("-p", spec) for spec, _ in ports)], dind)

    port_groups = data.draw(st.permutations([spell(spec) for spec, spell in ports]))  # type: ignore[operator]
    mixed: list[tuple[str, ...]] = list(others)
    for group in port_groups:
        mixed.insert(data.draw(st.integers(0, len(mixed))), group)
    # inserting whole groups keeps the relative order of the other flags
    result = routed(mixed, dind)

    assert sorted(p.spec for p in result.ports) == sorted(spec for spec, _ in ports)
    assert result.booth == reference.booth
    assert result.namespace == reference.namespace
    assert result.warnings == reference.warnings


@settings(max_examples=100, deadline=None)
@given(others=st.lists(st.sampled_from(OTHER_FLAGS), max_size=8), dind=st.booleans())
def test_routing_without_ports_extracts_none(others: list[tuple[str, ...]], dind: bool) -> None:
    result = routed(others, dind)
    assert result.ports == ()
    assert ("HostConfig.NetworkMode" not in result.booth) == (
        dind or not any(g[0].startswith(("--network", "--net")) for g in others)
    )
