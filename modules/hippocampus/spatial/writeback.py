"""Algorithm 2, lines 8–9 and the bounds: write G_updated back in place of G_local, refresh what was
merely re-seen, prune vertices left isolated, and forget (to history) what exceeds the site's budget."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from modules.hippocampus.spatial.graph import Change, SiteGraph
from modules.hippocampus.spatial.model import PROVENANCE_RANK, EdgeData, HistoryRecord, Stamp
from modules.hippocampus.spatial.observations import Delta
from modules.hippocampus.spatial.resolve import Resolution

__all__ = (
    "diff_local",
    "evict_over_budget",
    "forget_nodes",
    "forget_stale",
    "prune_isolated",
    "refresh_seen",
)


def diff_local(before: SiteGraph, res: Resolution) -> Change:
    """The change that turns G into G' = (G \\ G_local) ∪ G_updated: only what differs is written."""
    after = res.graph
    change = Change(history=list(res.history))
    for key, _ in before.edges():
        if after.edge(*key) is None:
            change.delete_edge(key)
    for name in before.names():
        if name not in after:
            change.delete_node(name)
    for name, node in after.nodes():
        if before.get_node(name) != node:
            change.upsert_node(name, node)
    for key, edge in after.edges():
        if before.edge(*key) != edge:
            change.upsert_edge(key, edge)
    return change


def refresh_seen(graph: SiteGraph, delta: Delta, stamp: Stamp) -> Change:
    """Re-seen beliefs, vertices and states get ``last_seen = stamp`` (a re-observation also restores a
    weakened belief's confidence); nothing here can conflict, so it bypasses the resolver."""
    change = Change()
    for fact in delta.confirmed:
        edge = graph.edge(*fact.key)
        if edge is None or edge.last_seen >= stamp:
            continue
        if PROVENANCE_RANK[fact.provenance] >= PROVENANCE_RANK[edge.provenance]:
            edge = EdgeData(fact.provenance, fact.confidence, edge.first_seen, stamp)
        else:
            edge = replace(edge, last_seen=stamp)
        change.upsert_edge(fact.key, edge)
    states = {(s.node, s.state): s for s in delta.state_confirms}
    names = set(delta.nodes)
    for fact in (*delta.confirmed, *delta.new):
        names.update((fact.subject, fact.object))
    for name in sorted(names):
        node = graph.get_node(name)
        if node is None:
            continue
        updated = node
        info = delta.nodes.get(name)
        if info is not None:
            if info.attributes and dict(info.attributes) != dict(node.attributes):
                updated = replace(updated, attributes={**node.attributes, **info.attributes})
            if info.kind != "unknown" and (node.kind == "unknown" or node.kind != info.kind):
                updated = replace(updated, kind=info.kind, type=info.type)
        fresh_states = dict(updated.states)
        for node_name, state in states:
            if node_name == name and state in fresh_states and fresh_states[state].last_seen < stamp:
                fresh_states[state] = replace(fresh_states[state], last_seen=stamp)
        if fresh_states != dict(updated.states):
            updated = replace(updated, states=fresh_states)
        if updated.last_seen < stamp:
            updated = replace(updated, last_seen=stamp)
        if updated != node:
            change.upsert_node(name, updated)
    return change


def forget_nodes(graph: SiteGraph, names: Iterable[str], stamp: Stamp, reason: str, keep: str) -> Change:
    """Move vertices and their edges to history; neighbours this leaves isolated go too (still local)."""
    change = Change()
    doomed = {n for n in names if n in graph and n != keep}
    neighbours: set[str] = set()
    for name in sorted(doomed):
        for key, edge in graph.incident(name):
            if key not in change.edge_deletes:
                change.delete_edge(key)
                change.history.append(
                    HistoryRecord("edge", *key, at=stamp, reason=reason, data=edge.to_json())
                )
            neighbours.update((key[0], key[2]))
        change.history.append(HistoryRecord("node", name, "", "", stamp, reason, graph.node(name).to_json()))
        change.delete_node(name)
    for name in sorted(neighbours - doomed):
        if name == keep:
            continue
        remaining = sum(1 for key, _ in graph.incident(name) if key not in change.edge_deletes)
        if remaining == 0:
            change.history.append(
                HistoryRecord("node", name, "", "", stamp, "isolated", graph.node(name).to_json())
            )
            change.delete_node(name)
    return change


def prune_isolated(graph: SiteGraph, candidates: Iterable[str], stamp: Stamp, keep: str) -> Change:
    """Remove vertices of the local subgraph that have no edge left (Algorithm 2, line 9)."""
    change = Change()
    for name in sorted(set(candidates)):
        if name != keep and name in graph and graph.degree(name) == 0:
            change.history.append(
                HistoryRecord("node", name, "", "", stamp, "isolated", graph.node(name).to_json())
            )
            change.delete_node(name)
    return change


def _strength(graph: SiteGraph, name: str) -> float:
    return max((edge.confidence for _, edge in graph.incident(name)), default=0.0)


def evict_over_budget(
    graph: SiteGraph, max_nodes: int, batch: int, stamp: Stamp, keep: str, protect: set[str]
) -> Change:
    """Past ``max_nodes``, forget the least recently seen, least confident vertices (a batch at a time, so
    the full scan this needs is rare)."""
    excess = len(graph) - max_nodes
    if excess <= 0:
        return Change()
    ranked = sorted(
        (n for n in graph.names() if n != keep and n not in protect),
        key=lambda n: (graph.node(n).last_seen, _strength(graph, n), n),
    )
    return forget_nodes(
        graph, ranked[: excess + batch], stamp, "forgotten: over the site's node budget", keep
    )


def forget_stale(graph: SiteGraph, current_episode: int, after: int, stamp: Stamp, keep: str) -> Change:
    """Vertices not seen for ``after`` episodes of this site (run once per episode)."""
    stale = [n for n, node in graph.nodes() if current_episode - node.last_seen.episode > after]
    reason = f"forgotten: not seen for more than {after} episodes"
    return forget_nodes(graph, stale, stamp, reason, keep)
