"""Run-arg routing does not depend on how port flags are interleaved with other flags."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from prop_support import port_spec_texts

from reconciler.config_reader import GO_SPACE, split_semicolons
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


# --- the `;` string form of run-args and cmds ---------------------------------------------

# Parts that survive CodingBooth's trimming as they are: no `;`, no edge whitespace.
PART = st.text(
    alphabet=st.characters(blacklist_characters=";", blacklist_categories=("Cs",)), min_size=1
).filter(lambda part: part == part.strip(GO_SPACE))
PADDING = st.text(alphabet=st.sampled_from(GO_SPACE), max_size=3)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(PART | st.sampled_from(OTHER_FLAGS[0] + ("-p", "8080:80"))), data=st.data())
def test_the_semicolon_string_equals_the_array_form(parts: list[str], data: st.DataObject) -> None:
    """Split on `;`, trim each part (Go's TrimSpace), drop empty parts: CodingBooth's rule."""
    padded = [data.draw(PADDING) + part + data.draw(PADDING) for part in parts]
    empties = data.draw(st.lists(st.integers(0, len(padded)), max_size=3))
    for at in sorted(empties, reverse=True):
        padded.insert(at, data.draw(PADDING))  # empty (or blank) parts are dropped
    assert split_semicolons(";".join(padded)) == tuple(parts)


def test_the_semicolon_form_keeps_what_go_does_not_trim() -> None:
    # U+001F is whitespace to Python's str.strip, not to Go's strings.TrimSpace.
    assert split_semicolons(" -e ;\x1fA=1\x1f;; \u3000-it\t;") == ("-e", "\x1fA=1\x1f", "-it")
