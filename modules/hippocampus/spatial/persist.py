"""Between the spatial graph's typed values and the SQLite store's JSON rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modules.hippocampus.spatial.graph import Change, SiteGraph
from modules.hippocampus.spatial.index import NameIndex
from modules.hippocampus.spatial.model import EdgeData, HistoryRecord, NodeData
from robomem.stores.graph_sqlite import EdgeRow, HistoryRow, NodeRow, SqliteGraphStore

__all__ = ("LoadedSite", "commit_change", "history_records", "load_site")


@dataclass
class LoadedSite:
    """One site held in memory: its graph, the name index over it, and where it stands in the store."""

    graph: SiteGraph
    index: NameIndex
    revision: int
    meta: dict[str, str]
    #: Vertices whose name vectors are not stored yet (new, or stored by another embedder).
    unsaved_vectors: set[str]

    @property
    def episode(self) -> int:
        return int(self.meta.get("episode", "0"))


def load_site(store: SqliteGraphStore, site: str, index: NameIndex) -> LoadedSite:
    rows = store.load(site)
    graph = SiteGraph(site)
    known: dict[str, np.ndarray] = {}
    unsaved: set[str] = set()
    for row in rows.nodes:
        graph.set_node(row.name, NodeData.from_json(row.data))
        if row.vec is not None and row.vec_model == index.embedder.name:
            vec = np.frombuffer(row.vec, dtype=np.float32)
            if vec.shape == (index.embedder.dim,):
                known[row.name] = vec
                continue
        unsaved.add(row.name)
    for edge in rows.edges:
        if edge.subject in graph and edge.object in graph:
            graph.set_edge(edge.subject, edge.relation, edge.object, EdgeData.from_json(edge.data))
    index.add(graph.names(), known)
    return LoadedSite(graph, index, rows.revision, dict(rows.meta), unsaved)


def commit_change(
    store: SqliteGraphStore, loaded: LoadedSite, change: Change, *, expected_revision: int | None
) -> int:
    """Write one change in one transaction; returns the new revision (raises ``RevisionConflict``)."""
    index, model = loaded.index, loaded.index.embedder.name
    nodes: list[NodeRow] = []
    for name, node in change.node_upserts.items():
        vec = index.vector(name) if name in loaded.unsaved_vectors else None
        nodes.append(NodeRow(name, node.to_json(), None if vec is None else vec.tobytes(), model))
    revision = store.commit(
        loaded.graph.site,
        upsert_nodes=nodes,
        delete_nodes=sorted(change.node_deletes),
        upsert_edges=[EdgeRow(*key, edge.to_json()) for key, edge in change.edge_upserts.items()],
        delete_edges=sorted(change.edge_deletes),
        history=[HistoryRow(h.kind, h.subject, h.relation, h.object, h.to_json()) for h in change.history],
        meta=change.meta,
        expected_revision=expected_revision,
    )
    loaded.unsaved_vectors -= set(change.node_upserts)
    loaded.unsaved_vectors -= change.node_deletes
    loaded.meta.update(change.meta)
    loaded.revision = revision
    return revision


def history_records(rows: list[HistoryRow]) -> list[HistoryRecord]:
    return [HistoryRecord.from_row(r.kind, r.subject, r.relation, r.object, r.data) for r in rows]
