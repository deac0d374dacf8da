"""The SQLite property-graph store under spatial memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from robomem.errors import RobomemError
from robomem.stores.graph_sqlite import EdgeRow, HistoryRow, NodeRow, RevisionConflict, SqliteGraphStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteGraphStore]:
    s = SqliteGraphStore(tmp_path / "g.sqlite")
    yield s
    s.close()


def test_commit_and_load_round_trip(store: SqliteGraphStore) -> None:
    vec = np.arange(4, dtype=np.float32).tobytes()
    rev = store.commit(
        "house",
        upsert_nodes=[
            NodeRow("Mug", {"kind": "object", "x": 0.1}, vec, "m"),
            NodeRow("Table", {"kind": "r"}),
        ],
        upsert_edges=[EdgeRow("Mug", "on", "Table", {"confidence": 0.5})],
        meta={"episode": "3"},
    )
    assert rev == 1 == store.revision("house")
    rows = store.load("house")
    assert rows.revision == 1 and rows.meta == {"episode": "3"}
    assert [(n.name, dict(n.data)) for n in rows.nodes] == [
        ("Mug", {"kind": "object", "x": 0.1}),
        ("Table", {"kind": "r"}),
    ]
    assert rows.nodes[0].vec == vec and rows.nodes[0].vec_model == "m"
    assert [(e.subject, e.relation, e.object, dict(e.data)) for e in rows.edges] == [
        ("Mug", "on", "Table", {"confidence": 0.5})
    ]
    # An upsert without a vector keeps the stored one.
    store.commit("house", upsert_nodes=[NodeRow("Mug", {"kind": "object"})])
    assert store.load("house").nodes[0].vec == vec
    assert store.load("elsewhere").nodes == [] and store.revision("elsewhere") == 0
    assert store.sites() == ["house"]


def test_revision_conflict_writes_nothing(store: SqliteGraphStore) -> None:
    store.commit("house", upsert_nodes=[NodeRow("A", {})])
    with pytest.raises(RevisionConflict):
        store.commit("house", upsert_nodes=[NodeRow("B", {})], expected_revision=0)
    assert [n.name for n in store.load("house").nodes] == ["A"]
    assert store.commit("house", upsert_nodes=[NodeRow("B", {})], expected_revision=1) == 2


def test_node_delete_takes_its_edges_and_history_is_append_only(store: SqliteGraphStore) -> None:
    store.commit(
        "house",
        upsert_nodes=[NodeRow(n, {}) for n in "ABC"],
        upsert_edges=[EdgeRow("A", "on", "B", {}), EdgeRow("C", "in", "B", {})],
    )
    store.commit("house", delete_nodes=["B"], history=[HistoryRow("node", "B", "", "", {"why": "gone"})])
    store.commit("house", history=[HistoryRow("edge", "A", "on", "C", {"n": i}) for i in range(3)])
    assert store.load("house").edges == []
    assert [h.kind for h in store.history("house")] == ["node", "edge", "edge", "edge"]
    assert [h.data["n"] for h in store.history("house", "C", limit=2)] == [1, 2]
    assert [h.subject for h in store.history("house", "B")] == ["B"]


def test_exclusive_is_one_transaction(store: SqliteGraphStore) -> None:
    def crash_halfway() -> None:
        with store.exclusive():
            store.commit("house", upsert_nodes=[NodeRow("A", {})])
            assert [n.name for n in store.load("house").nodes] == ["A"]  # visible inside
            raise RuntimeError("killed halfway")

    with pytest.raises(RuntimeError):
        crash_halfway()
    assert store.load("house").nodes == [] and store.revision("house") == 0
    with store.exclusive():
        store.commit("house", upsert_nodes=[NodeRow("A", {})])
        store.commit("house", upsert_nodes=[NodeRow("B", {})])
    assert store.revision("house") == 2


def test_wipe_is_explicit_and_revisions_keep_counting(store: SqliteGraphStore, tmp_path: Path) -> None:
    store.commit("a", upsert_nodes=[NodeRow("X", {})], history=[HistoryRow("node", "X", "", "", {})])
    store.commit("b", upsert_nodes=[NodeRow("Y", {})])
    again = SqliteGraphStore(tmp_path / "g.sqlite")  # reopening never wipes
    assert [n.name for n in again.load("a").nodes] == ["X"]
    again.close()
    store.wipe("a")
    assert store.load("a").nodes == [] and store.history("a") == [] and store.revision("a") == 2
    assert [n.name for n in store.load("b").nodes] == ["Y"]
    store.wipe()
    assert store.load("b").nodes == [] and store.revision("b") == 2


def test_closed_store_refuses_and_close_is_idempotent(tmp_path: Path) -> None:
    store = SqliteGraphStore(tmp_path / "g.sqlite")
    store.close()
    store.close()
    with pytest.raises(RobomemError):
        store.load("house")
