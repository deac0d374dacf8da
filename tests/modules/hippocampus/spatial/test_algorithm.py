"""Algorithm 2 step by step on small hand-built graphs."""

from __future__ import annotations

from modules.hippocampus.spatial import EdgeData, NodeData, SiteGraph, SpatialConfig, Stamp
from modules.hippocampus.spatial.index import NameIndex
from modules.hippocampus.spatial.locality import conflict_closure, evidence_nodes, expand_hops, similar_nodes
from modules.hippocampus.spatial.observations import Delta, Fact
from modules.hippocampus.spatial.resolve import resolve_deterministic
from modules.hippocampus.spatial.writeback import diff_local, prune_isolated
from robomem.testing.hashing import HashingEmbedder

T0 = Stamp(1, 0, "ep-1")


def at(step: int) -> Stamp:
    return Stamp(1, step, "ep-1")


def build(edges: list[tuple[str, str, str, int]], kinds: dict[str, str] | None = None) -> SiteGraph:
    """``(subject, relation, object, step last seen)``; kinds default to object / place for rooms."""
    kinds = kinds or {}
    graph = SiteGraph("test")
    for s, r, o, step in edges:
        for name in (s, o):
            if name not in graph:
                kind = kinds.get(name, "place" if name.endswith("Room") or name == "Kitchen" else "object")
                graph.set_node(name, NodeData(name.split("_")[0], kind, T0, at(step)))
        graph.set_edge(s, r, o, EdgeData("observed", 1.0, T0, at(step)))
    return graph


def index_of(graph: SiteGraph) -> NameIndex:
    index = NameIndex(HashingEmbedder())
    index.add(graph.names())
    return index


def test_similar_nodes_are_top_n_per_query_by_name_cosine() -> None:
    graph = build(
        [("Mug", "on", "CounterTop", 0), ("Mug_2", "in", "Cabinet", 0), ("Apple", "in", "Fridge", 0)]
    )
    index = index_of(graph)
    top1 = similar_nodes(index, ["Mug"], 1)
    assert list(top1) == ["Mug"] and abs(top1["Mug"] - 1.0) < 1e-5
    top2 = similar_nodes(index, ["Mug"], 2)
    assert list(top2) == ["Mug", "Mug_2"]
    both = similar_nodes(index, ["Mug", "Apple"], 1)
    assert set(both) == {"Mug", "Apple"}
    assert similar_nodes(index, ["Mug"], 3, min_similarity=0.99) == {"Mug": top1["Mug"]}
    # Removed vertices are never proposed again.
    index.remove(["Mug"])
    assert "Mug" not in similar_nodes(index, ["Mug"], 3)


def test_expand_follows_both_directions_for_k_hops() -> None:
    # Mug on Table in Kitchen; Chair in Kitchen; Cushion on Chair.
    graph = build(
        [
            ("Mug", "on", "Table", 0),
            ("Table", "in", "Kitchen", 0),
            ("Chair", "in", "Kitchen", 0),
            ("Cushion", "on", "Chair", 0),
        ]
    )
    hood = expand_hops(graph, ["Table"], hops=1, max_expand=10)
    assert hood.hops == {"Table": 0, "Mug": 1, "Kitchen": 1}
    hood = expand_hops(graph, ["Table"], hops=2, max_expand=10)
    assert hood.hops == {"Table": 0, "Mug": 1, "Kitchen": 1, "Chair": 2}
    assert not hood.truncated
    assert expand_hops(graph, ["Table"], hops=0, max_expand=10).hops == {"Table": 0}


def test_expand_is_bounded_and_prefers_recent_edges_at_hubs() -> None:
    edges = [(f"Thing_{i}", "in", "Kitchen", i) for i in range(10)]
    graph = build(edges)
    hood = expand_hops(graph, ["Kitchen"], hops=2, max_expand=3)
    assert hood.truncated
    assert hood.hops == {"Kitchen": 0, "Thing_9": 1, "Thing_8": 1, "Thing_7": 1}


def test_induced_subgraph_is_a_copy_of_edges_among_the_vertices() -> None:
    graph = build([("Mug", "on", "Table", 0), ("Table", "in", "Kitchen", 0), ("Fork", "on", "Table", 0)])
    local = graph.induced({"Mug", "Table", "Nowhere"})
    assert {k for k, _ in local.edges()} == {("Mug", "on", "Table")}
    local.remove_edge("Mug", "on", "Table")
    assert graph.edge("Mug", "on", "Table") is not None


def test_conflict_closure_reaches_functional_edges_whatever_the_budget() -> None:
    graph = build([("Mug", "on", "Table", 0), ("I", "holding", "Egg", 0), ("Mug", "near", "Bowl", 0)])
    assert conflict_closure(graph, {"Mug"}) == {"Table"}  # "near" is not functional
    assert conflict_closure(graph, {"Egg"}) == {"I"}
    delta = Delta(visible=frozenset({"Table"}), perceived=frozenset())
    assert evidence_nodes(graph, delta) == {"Table", "Mug"}


def test_resolve_write_back_and_prune_only_touch_the_local_subgraph() -> None:
    cfg = SpatialConfig()
    graph = build(
        [
            ("Cup", "on", "Table", 0),
            ("Table", "in", "Kitchen", 0),
            ("Sink", "in", "Kitchen", 0),
            ("Vase", "on", "Shelf", 0),
            ("Shelf", "in", "LivingRoom", 0),
        ]
    )
    graph.set_node("Lonely", NodeData("Lonely", "object", T0, T0))  # isolated, but not local
    new = Fact("Cup", "in", "Sink", "observed", 1.0)
    delta = Delta(new=[new])
    v_merged = {"Cup", "Sink"} | conflict_closure(graph, {"Cup", "Sink"})
    assert v_merged == {"Cup", "Sink", "Table", "Kitchen"}
    before = graph.induced(v_merged)
    assert before.number_of_edges() == 3
    res = resolve_deterministic(graph.induced(v_merged), delta, at(5), cfg)
    assert {k for k, _ in res.graph.edges()} == {
        ("Cup", "in", "Sink"),
        ("Table", "in", "Kitchen"),
        ("Sink", "in", "Kitchen"),
    }
    change = diff_local(before, res)
    # Only the differences are written: one edge retired, one added; history keeps the old edge.
    assert change.edge_deletes == {("Cup", "on", "Table")}
    assert set(change.edge_upserts) == {("Cup", "in", "Sink")}
    assert [(h.subject, h.relation, h.object) for h in change.history] == [("Cup", "on", "Table")]
    change.apply_to(graph)
    assert (
        graph.edge("Vase", "on", "Shelf") is not None and graph.edge("Shelf", "in", "LivingRoom") is not None
    )
    # The table keeps its room edge, so nothing local is isolated; "Lonely" is outside the local set.
    assert prune_isolated(graph, v_merged, at(5), keep="I").node_deletes == set()
    graph.remove_edge("Table", "in", "Kitchen")
    pruned = prune_isolated(graph, v_merged, at(5), keep="I")
    assert pruned.node_deletes == {"Table"}
    assert [h.reason for h in pruned.history] == ["isolated"]
    assert prune_isolated(graph, {"Lonely", "I"}, at(5), keep="Lonely").node_deletes == set()


def test_update_reports_local_subgraph_size(tmp_path: object) -> None:
    from pathlib import Path

    from tests.modules.hippocampus.spatial.helpers import KITCHEN, Driver, make_memory, perception

    memory = make_memory(Path(str(tmp_path)))
    try:
        driver = Driver(memory)
        first = driver.step(
            perception("Kitchen", furniture=KITCHEN, place="Sink", objects={"Cup": ("in", "Sink")})
        )
        # The first look is all new: 1 agent room + 1 place + 5 furniture rooms + 8 side relations + the cup.
        assert first.details["new_relations"] == 16 and first.touched == 16
        again = driver.step(
            perception("Kitchen", furniture=KITCHEN, place="Sink", objects={"Cup": ("in", "Sink")})
        )
        # Standing still: nothing new, everything confirmed, only last_seen refreshed.
        assert again.details["new_relations"] == 0 and again.details["confirmed"] == 16
        assert again.details["edges_written"] == 0 and again.details["edges_refreshed"] == 16
        assert again.touched == again.details["local_edges"] <= 16
        assert set(again.details) >= {"local_nodes", "seeds", "queries", "edges_written", "local_truncated"}
    finally:
        memory.close()
