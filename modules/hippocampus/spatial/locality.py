"""Algorithm 2, lines 2–6: similar vertices, bounded k-hop expansion and the induced local subgraph.

Every function here costs in proportion to the vertices it returns (and their degrees), never to the size of
the graph, except the similarity scan, which is one matrix product over the name embeddings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from modules.hippocampus.spatial.graph import SiteGraph
from modules.hippocampus.spatial.index import NameIndex
from modules.hippocampus.spatial.model import Stamp
from modules.hippocampus.spatial.observations import Delta
from modules.hippocampus.spatial.rules import HOLDING

__all__ = ("Neighbourhood", "conflict_closure", "evidence_nodes", "expand_hops", "similar_nodes")


def similar_nodes(
    index: NameIndex, queries: Sequence[str], n: int, min_similarity: float = 0.0
) -> dict[str, float]:
    """V_similar: the union over queries of the top-``n`` vertices by cosine similarity of their names,
    each with its best similarity (insertion order = query order, best first)."""
    seeds: dict[str, float] = {}
    for hits in index.top(list(dict.fromkeys(q for q in queries if q.strip())), n, min_similarity):
        for name, score in hits:
            if score > seeds.get(name, -2.0):
                seeds[name] = score
    return seeds


@dataclass(frozen=True)
class Neighbourhood:
    """Vertices reached from the seeds with their hop distance (seeds at 0)."""

    hops: dict[str, int]
    #: True when ``max_expand`` cut the expansion short.
    truncated: bool = False

    @property
    def nodes(self) -> set[str]:
        return set(self.hops)


def _recency(stamp: Stamp) -> tuple[int, int]:
    return (stamp.episode, stamp.step)


def expand_hops(graph: SiteGraph, seeds: Iterable[str], hops: int, max_expand: int) -> Neighbourhood:
    """V_retrieved = seeds ∪ every vertex within ``hops`` of them, following edges in both directions,
    adding at most ``max_expand`` vertices. Within a hop, neighbours reached through the most recently seen
    edges (then the most confident) come first, so a hub contributes what was seen last, not everything."""
    distance = {s: 0 for s in seeds if s in graph}
    frontier = list(distance)
    budget = max_expand
    truncated = False
    for hop in range(1, hops + 1):
        if not frontier:
            break
        best: dict[str, tuple[tuple[int, int], float]] = {}
        for name in frontier:
            for (s, _r, o), edge in graph.incident(name):
                other = o if s == name else s
                if other in distance:
                    continue
                score = (_recency(edge.last_seen), edge.confidence)
                if other not in best or score > best[other]:
                    best[other] = score
        ranked = sorted(best, key=lambda n: (best[n], n), reverse=True)
        if len(ranked) > budget:
            truncated = True
            ranked = ranked[:budget]
        for name in ranked:
            distance[name] = hop
        budget -= len(ranked)
        frontier = ranked
    return Neighbourhood(distance, truncated)


def conflict_closure(graph: SiteGraph, names: Iterable[str]) -> set[str]:
    """Vertices the resolver must see to apply the functional rules to ``names`` whatever the expansion
    budget cut: the targets of their functional edges and whoever holds them. At most a handful per name."""
    extra: set[str] = set()
    for name in names:
        for key, _ in graph.out_edges(name):
            if graph.group_of(key) is not None:
                extra.add(key[2])
        for key, _ in graph.in_edges(name):
            if key[1] == HOLDING:
                extra.add(key[0])
    return extra


def evidence_nodes(graph: SiteGraph, delta: Delta) -> set[str]:
    """Visible containers and everything believed to be in/on them: the vertices negative evidence needs.
    Bounded by what a container holds, not by the graph."""
    extra: set[str] = set()
    for container in delta.visible:
        if container not in graph:
            continue
        extra.add(container)
        for (s, r, _o), _ in graph.in_edges(container):
            if graph.group_of((s, r, container)) == "location":
                extra.add(s)
    return extra
