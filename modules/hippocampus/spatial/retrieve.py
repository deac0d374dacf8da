"""Retrieval for the planner: top-n similar vertices per query, their k-hop neighbourhood, serialized as short
lines and cut at the token budget.

Ranking: lines touching a seed come first (the agent's own relations among them), then by hop, then the most
recently seen, then the most confident. Tokens are estimated as ``ceil(len(line) / 4)`` (+1 for the newline):
close enough for English-like text and free of a tokenizer on the hot path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from modules.hippocampus.spatial.config import SpatialConfig
from modules.hippocampus.spatial.graph import SiteGraph
from modules.hippocampus.spatial.index import NameIndex
from modules.hippocampus.spatial.locality import expand_hops, similar_nodes
from modules.hippocampus.spatial.model import Belief, NodeData, NodeState, SpatialRecall

__all__ = ("estimate_tokens", "format_belief", "format_states", "retrieve_local")

_STATE_WORDS: dict[str, tuple[str, str | None]] = {
    "open": ("open", "closed"),
    "on": ("on", "off"),
    "sliced": ("sliced", None),
}


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4) + 1


def format_belief(belief: Belief) -> str:
    """``Mug_2 in Cabinet_2 (seen ep3/step12, conf 0.50)``; full confidence is not spelled out."""
    note = f"seen {belief.last_seen.short()}"
    if belief.confidence < 0.995:
        note += f", conf {belief.confidence:.2f}"
    if belief.provenance != "observed":
        note += f", {belief.provenance}"
    return f"{belief.subject} {belief.relation} {belief.object} ({note})"


def format_states(name: str, node: NodeData) -> str | None:
    """``Fridge: closed`` / ``Microwave: closed, off`` / ``Apple: sliced``; ``None`` when nothing to say."""
    words: list[str] = []
    for state in sorted(node.states):
        value = node.states[state].value
        positive, negative = _STATE_WORDS.get(state, (state, f"not {state}"))
        word = positive if value else negative
        if word is not None:
            words.append(word)
    return f"{name}: {', '.join(words)}" if words else None


def retrieve_local(
    graph: SiteGraph, index: NameIndex, queries: Sequence[str], cfg: SpatialConfig
) -> tuple[tuple[str, ...], SpatialRecall]:
    seeds = list(similar_nodes(index, queries, cfg.top_n, cfg.min_similarity))
    if cfg.retrieve_agent and cfg.agent in graph and cfg.agent not in seeds:
        seeds.append(cfg.agent)  # after the query's own seeds: "where am I" is context, not the answer
    rank = {name: i for i, name in enumerate(seeds)}
    hood = expand_hops(graph, seeds, cfg.hops, cfg.max_expand)
    hops = hood.hops
    beliefs: list[Belief] = []
    for name in hops:
        for key, edge in graph.out_edges(name):
            if key[2] in hops:
                hop = min(hops[key[0]], hops[key[2]])
                beliefs.append(
                    Belief(*key, edge.confidence, edge.provenance, edge.first_seen, edge.last_seen, hop)
                )

    def seed_rank(*names: str) -> int:
        return min((rank[n] for n in names if n in rank), default=len(rank))

    # Sort key: hop, then (at hop 0) the best-ranked seed involved, then state line before relations,
    # then the most recently seen, then the most confident.
    keyed: list[tuple[tuple[int, int, int, int, int, float], str, Belief | None]] = []
    for b in beliefs:
        at_seed = seed_rank(b.subject, b.object) if b.hop == 0 else 0
        when = (-b.last_seen.episode, -b.last_seen.step)
        keyed.append(((b.hop, at_seed, 1, *when, -b.confidence), format_belief(b), b))
    states: list[NodeState] = []
    for name in sorted(hops, key=lambda n: (hops[n], n)):
        node = graph.node(name)
        line = format_states(name, node) if node.states else None
        # Every retrieved node, stateless ones too: a planner needs their types, kinds and attributes.
        values = {k: v.value for k, v in node.states.items()}
        states.append(NodeState(name, node.type, node.kind, values, node.last_seen, dict(node.attributes)))
        if line is not None:
            at_seed = seed_rank(name) if hops[name] == 0 else 0
            when = (-node.last_seen.episode, -node.last_seen.step)
            keyed.append(((hops[name], at_seed, 0, *when, 0.0), line, None))
    keyed.sort(key=lambda item: (item[0], item[1]))
    beliefs = [b for _, _, b in keyed if b is not None]
    ranked = [(key, line) for key, line, _ in keyed]
    lines: list[str] = []
    spent = 0
    for _, line in ranked:
        cost = estimate_tokens(line)
        if spent + cost > cfg.token_budget:
            break
        lines.append(line)
        spent += cost
    recall = SpatialRecall(graph.site, tuple(seeds), tuple(beliefs), tuple(states))
    return tuple(lines), recall
