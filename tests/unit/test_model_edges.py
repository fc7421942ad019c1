"""The edges of ``model`` that the mutation run found untested: a graph has only the
edges whose two ends it has (a booth without DinD depends on no sidecar)."""

from __future__ import annotations

from booth_builders import desired_from_toml

from reconciler.core.model import EDGES, Edge, EdgeKind, Role, canonical_json, edges_between


def test_a_graph_has_the_edges_whose_two_ends_it_has() -> None:
    assert edges_between({Role.BOOTH}) == ()
    assert edges_between({Role.BOOTH, Role.IMAGE}) == (
        Edge(Role.IMAGE, Role.BOOTH, EdgeKind.BUILD),
    )
    assert edges_between(set(Role)) == EDGES


def test_a_booth_without_dind_depends_on_no_sidecar() -> None:
    graph = desired_from_toml('name = "demo"\nport = 10000\ndind = false\n')
    roles = {r.role for r in graph}
    assert roles == {Role.BOOTH}
    assert graph.edges == ()


def test_canonical_json_escapes_every_non_ascii_character() -> None:
    # Spec hashes are taken of this text: a booth made by an earlier version must hash
    # the same, so the escaping cannot change with the locale or a library default.
    assert canonical_json({"b": "é", "a": ["☃", 1]}) == '{"a":["\\u2603",1],"b":"\\u00e9"}'
