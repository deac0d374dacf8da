"""SiteGraph's edge accessors read networkx's adjacency dicts directly (a hot path): they must always agree
with the graph as networkx itself reports it, through every kind of edit."""

from __future__ import annotations

import random

from modules.hippocampus.spatial import EdgeData, NodeData, SiteGraph, Stamp

T0 = Stamp(1, 0, "ep-1")
RELATIONS = ("in", "on", "left_of", "holding")


def _edge(step: int) -> EdgeData:
    return EdgeData("observed", 1.0, T0, Stamp(1, step, "ep-1"))


def _expected_out(graph: SiteGraph, name: str) -> set[tuple[tuple[str, str, str], EdgeData]]:
    if name not in graph:
        return set()
    return {((name, str(r), o), a["data"]) for _, o, r, a in graph.g.out_edges(name, keys=True, data=True)}


def _expected_in(graph: SiteGraph, name: str) -> set[tuple[tuple[str, str, str], EdgeData]]:
    if name not in graph:
        return set()
    return {((s, str(r), name), a["data"]) for s, _, r, a in graph.g.in_edges(name, keys=True, data=True)}


def test_edge_accessors_agree_with_networkx_through_random_edits() -> None:
    rng = random.Random(7)
    graph = SiteGraph("home")
    names = [f"thing_{i}" for i in range(12)]
    for step in range(600):
        op = rng.random()
        s, o, r = rng.choice(names), rng.choice(names), rng.choice(RELATIONS)
        if op < 0.5:
            for n in (s, o):
                if n not in graph:
                    graph.set_node(n, NodeData("thing", "object", T0, T0))
            graph.set_edge(s, r, o, _edge(step))
        elif op < 0.8:
            graph.remove_edge(s, r, o)
        elif op < 0.95:
            graph.remove_node(s)
        else:
            graph.set_node(s, NodeData("thing", "receptacle", T0, Stamp(1, step)))
        for name in names:
            assert set(graph.out_edges(name)) == _expected_out(graph, name)
            assert set(graph.in_edges(name)) == _expected_in(graph, name)
        for name in names:
            for other in names:
                for rel in RELATIONS:
                    has = name in graph and graph.g.has_edge(name, other, key=rel)
                    found = graph.edge(name, rel, other)
                    assert (found is not None) == has
                    if has:
                        assert found is graph.g.edges[name, other, rel]["data"]
        assert graph.number_of_edges() == graph.g.number_of_edges()


def test_induced_copy_has_its_own_adjacency() -> None:
    graph = SiteGraph("home")
    for n in ("a", "b", "c"):
        graph.set_node(n, NodeData("thing", "object", T0, T0))
    graph.set_edge("a", "in", "b", _edge(1))
    graph.set_edge("b", "on", "c", _edge(2))
    local = graph.induced(["a", "b"])
    local.set_edge("b", "left_of", "a", _edge(3))
    assert {k for k, _ in local.out_edges("b")} == {("b", "left_of", "a")}
    assert {k for k, _ in graph.out_edges("b")} == {("b", "on", "c")}
    assert {k for k, _ in local.in_edges("a")} == {("b", "left_of", "a")}
