"""Inspection helpers: GraphML (for Gephi / yEd / networkx), JSON (everything, history included), counts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import networkx as nx

from modules.hippocampus.spatial.graph import SiteGraph
from robomem.stores.graph_sqlite import HistoryRow

__all__ = ("stats", "write_graphml", "write_json")


def stats(graph: SiteGraph, stored: dict[str, int]) -> dict[str, int]:
    """Live nodes and edges (by kind and by relation), plus the stored row counts (history included)."""
    out: dict[str, int] = {"nodes": len(graph), "edges": graph.number_of_edges()}
    out.update({f"stored_{k}": v for k, v in stored.items()})
    kinds = Counter(node.kind for _, node in graph.nodes())
    out.update({f"kind_{k}": v for k, v in sorted(kinds.items())})
    relations = Counter(key[1] for key, _ in graph.edges())
    out.update({f"relation_{k}": v for k, v in sorted(relations.items())})
    return out


def write_json(graph: SiteGraph, history: list[HistoryRow], path: Path) -> None:
    doc: dict[str, Any] = {
        "site": graph.site,
        "nodes": [
            {"name": name, **node.to_json()} for name, node in sorted(graph.nodes(), key=lambda x: x[0])
        ],
        "edges": [
            {"subject": s, "relation": r, "object": o, **edge.to_json()}
            for (s, r, o), edge in sorted(graph.edges(), key=lambda x: x[0])
        ],
        "history": [
            {
                "id": h.id,
                "kind": h.kind,
                "subject": h.subject,
                "relation": h.relation,
                "object": h.object,
                **h.data,
            }
            for h in history
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1, sort_keys=True), encoding="utf-8")


def write_graphml(graph: SiteGraph, path: Path) -> None:
    """GraphML holds only scalars: values are flattened (``attr.color``, ``state.open``, stamps as text)."""
    flat: nx.MultiDiGraph[str] = nx.MultiDiGraph(site=graph.site)
    for name, node in graph.nodes():
        attrs: dict[str, Any] = {
            "type": node.type,
            "kind": node.kind,
            "first_seen": node.first_seen.short(),
            "last_seen": node.last_seen.short(),
        }
        attrs.update({f"attr.{k}": v for k, v in node.attributes.items()})
        attrs.update({f"state.{k}": v.value for k, v in node.states.items()})
        flat.add_node(name, **attrs)
    for (s, r, o), edge in graph.edges():
        flat.add_edge(
            s,
            o,
            key=r,
            relation=r,
            provenance=edge.provenance,
            confidence=edge.confidence,
            first_seen=edge.first_seen.short(),
            last_seen=edge.last_seen.short(),
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(flat, str(path))
