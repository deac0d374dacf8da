"""One site's live graph (a networkx ``MultiDiGraph`` keyed by relation) and the change set that edits it.

Only current beliefs live in the graph; superseded edges, old state values and forgotten nodes are history
records in SQLite, so history never adds degree to a vertex and never costs locality.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import networkx as nx

from modules.hippocampus.spatial.model import EdgeData, HistoryRecord, NodeData
from modules.hippocampus.spatial.rules import functional_group

__all__ = ("Change", "EdgeKey", "SiteGraph")

#: ``(subject, relation, object)``.
EdgeKey = tuple[str, str, str]


class SiteGraph:
    """Typed access to one site's ``MultiDiGraph``; node data under ``"data"``, edge key = relation."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.g: nx.MultiDiGraph[str] = nx.MultiDiGraph()
        # networkx counts edges by summing all degrees (O(V)); keep the count instead.
        self._edges = 0
        # The graph's own adjacency dicts, read-only here: ``g.succ[n]`` builds networkx view objects on every
        # access, a third of a retrieval's CPU on the hot paths below (every write goes through ``g``).
        raw: Any = self.g  # networkx's stubs do not declare the adjacency dicts
        self._succ: dict[str, dict[str, dict[str, dict[str, Any]]]] = raw._succ
        self._pred: dict[str, dict[str, dict[str, dict[str, Any]]]] = raw._pred

    # ---- nodes -------------------------------------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return name in self.g

    def __len__(self) -> int:
        return int(self.g.number_of_nodes())

    def names(self) -> list[str]:
        return list(self.g.nodes)

    def node(self, name: str) -> NodeData:
        return cast(NodeData, self.g.nodes[name]["data"])

    def get_node(self, name: str) -> NodeData | None:
        return self.node(name) if name in self.g else None

    def nodes(self) -> Iterator[tuple[str, NodeData]]:
        for name, attrs in self.g.nodes(data=True):
            yield name, cast(NodeData, attrs["data"])

    def kind_of(self, name: str, default: str = "unknown") -> str:
        return self.node(name).kind if name in self.g else default

    def set_node(self, name: str, data: NodeData) -> None:
        if name in self.g:
            self.g.nodes[name]["data"] = data
        else:
            self.g.add_node(name, data=data)

    def remove_node(self, name: str) -> None:
        if name in self.g:
            self._edges -= self.degree(name) - int(self.g.number_of_edges(name, name))
            self.g.remove_node(name)

    def degree(self, name: str) -> int:
        return int(self.g.in_degree(name)) + int(self.g.out_degree(name)) if name in self.g else 0

    # ---- edges -------------------------------------------------------------------------------------------
    def number_of_edges(self) -> int:
        return self._edges

    def edge(self, subject: str, relation: str, obj: str) -> EdgeData | None:
        if subject not in self.g or obj not in self.g:
            return None
        attrs: Any = self._succ[subject].get(obj, {}).get(relation)
        return None if attrs is None else cast(EdgeData, attrs["data"])

    def set_edge(self, subject: str, relation: str, obj: str, data: EdgeData) -> None:
        if not self.g.has_edge(subject, obj, key=relation):
            self._edges += 1
        self.g.add_edge(subject, obj, key=relation, data=data)

    def remove_edge(self, subject: str, relation: str, obj: str) -> None:
        if self.g.has_edge(subject, obj, key=relation):
            self.g.remove_edge(subject, obj, key=relation)
            self._edges -= 1

    def edges(self) -> Iterator[tuple[EdgeKey, EdgeData]]:
        for s, o, r, attrs in self.g.edges(keys=True, data=True):
            yield (s, str(r), o), cast(EdgeData, attrs["data"])

    def out_edges(self, name: str) -> Iterator[tuple[EdgeKey, EdgeData]]:
        if name not in self.g:
            return
        for obj, by_key in self._succ[name].items():
            for rel, attrs in by_key.items():
                yield (name, str(rel), obj), cast(EdgeData, attrs["data"])

    def in_edges(self, name: str) -> Iterator[tuple[EdgeKey, EdgeData]]:
        if name not in self.g:
            return
        for subj, by_key in self._pred[name].items():
            for rel, attrs in by_key.items():
                yield (subj, str(rel), name), cast(EdgeData, attrs["data"])

    def incident(self, name: str) -> Iterator[tuple[EdgeKey, EdgeData]]:
        yield from self.out_edges(name)
        yield from self.in_edges(name)

    def group_of(self, key: EdgeKey) -> str | None:
        return functional_group(key[1], self.kind_of(key[2]))

    def functional_out(self, name: str, group: str) -> list[tuple[EdgeKey, EdgeData]]:
        """The subject's active edges in one functional group (normally at most one)."""
        return [(k, d) for k, d in self.out_edges(name) if self.group_of(k) == group]

    def violations(self, names: Iterable[str] | None = None) -> list[str]:
        """Broken functional rules among ``names`` (default: every vertex): two values in one group (other
        than ``holding``), a thing held twice, or a held thing that is also somewhere. Empty for a consistent
        graph."""
        found: list[str] = []
        for name in self.names() if names is None else [n for n in names if n in self.g]:
            groups: dict[str, list[str]] = {}
            for key, _ in self.out_edges(name):
                group = self.group_of(key)
                if group is not None:
                    groups.setdefault(group, []).append(f"{key[1]} {key[2]}")
            # A holder may hold several things (an inventory); every other group has one value.
            found += [
                f"{name}: {g} = {sorted(v)}"
                for g, v in sorted(groups.items())
                if len(v) > 1 and g != "holding"
            ]
            holders = [k[0] for k, _ in self.in_edges(name) if k[1] == "holding"]
            if len(holders) > 1:
                found.append(f"{name}: held by {sorted(holders)}")
            if holders and ("location" in groups or "room" in groups):
                found.append(f"{name}: held and also {groups.get('location', groups.get('room'))}")
        return found

    # ---- sub-graphs --------------------------------------------------------------------------------------
    def induced(self, names: Iterable[str]) -> SiteGraph:
        """A copy of the subgraph induced by ``names`` (values are frozen, so a shallow copy is safe)."""
        keep = {n for n in names if n in self.g}
        local = SiteGraph(self.site)
        for name in keep:
            local.set_node(name, self.node(name))
        for name in keep:
            for key, edge in self.out_edges(name):
                if key[2] in keep:
                    local.set_edge(*key, edge)
        return local


@dataclass
class Change:
    """Everything one write-back does; applied to the in-memory graph and, in one transaction, to SQLite."""

    node_upserts: dict[str, NodeData] = field(default_factory=dict)
    node_deletes: set[str] = field(default_factory=set)
    edge_upserts: dict[EdgeKey, EdgeData] = field(default_factory=dict)
    edge_deletes: set[EdgeKey] = field(default_factory=set)
    history: list[HistoryRecord] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (
            self.node_upserts
            or self.node_deletes
            or self.edge_upserts
            or self.edge_deletes
            or self.history
            or self.meta
        )

    def upsert_edge(self, key: EdgeKey, data: EdgeData) -> None:
        self.edge_deletes.discard(key)
        self.edge_upserts[key] = data

    def delete_edge(self, key: EdgeKey) -> None:
        self.edge_upserts.pop(key, None)
        self.edge_deletes.add(key)

    def upsert_node(self, name: str, data: NodeData) -> None:
        self.node_deletes.discard(name)
        self.node_upserts[name] = data

    def delete_node(self, name: str) -> None:
        self.node_upserts.pop(name, None)
        self.node_deletes.add(name)

    def extend(self, other: Change) -> None:
        for key in other.edge_deletes:
            self.delete_edge(key)
        for key, edge in other.edge_upserts.items():
            self.upsert_edge(key, edge)
        for name in other.node_deletes:
            self.delete_node(name)
        for name, node in other.node_upserts.items():
            self.upsert_node(name, node)
        self.history.extend(other.history)
        self.meta.update(other.meta)

    def apply_to(self, graph: SiteGraph) -> None:
        for s, r, o in self.edge_deletes:
            graph.remove_edge(s, r, o)
        for name in self.node_deletes:
            graph.remove_node(name)
        for name, node in self.node_upserts.items():
            graph.set_node(name, node)
        for (s, r, o), edge in self.edge_upserts.items():
            # Both ends must exist as vertices with data before an edge may point at them.
            if s in graph and o in graph:
                graph.set_edge(s, r, o, edge)
