"""Conflict resolution on the local subgraph (Algorithm 2, line 7), deterministic variant.

Rules (see :mod:`modules.hippocampus.spatial.rules` for the functional groups):

* A new fact retires the subject's other edges **in the same functional group** only; newer wins, and within
  one step the better provenance wins (observed > inferred > reported). A fact older than the belief it
  contradicts goes straight to history instead.
* ``holding`` also retires the held object's location/room edges and any other holder's edge (not the
  holder's other held things: a holder may hold several, the environment enforces its own limit); a newly seen
  location of an object retires whoever was holding it.
* Clears ("hand seen empty") retire the subject's edges in that group.
* Negative evidence: a belief "X in/on C" for a container C fully in view this step while X is not perceived
  is weakened by ``weaken_factor`` (once per visit), and retired as "not seen" below ``drop_below``.
* States are one value per node; a changed value writes the old one to history.

Nothing is deleted silently: every retired edge or state becomes a :class:`HistoryRecord` with a reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from modules.hippocampus.spatial.config import SpatialConfig
from modules.hippocampus.spatial.graph import EdgeKey, SiteGraph
from modules.hippocampus.spatial.model import (
    PROVENANCE_RANK,
    EdgeData,
    HistoryRecord,
    NodeData,
    Stamp,
    StateData,
)
from modules.hippocampus.spatial.observations import Delta, Fact, NodeInfo
from modules.hippocampus.spatial.rules import HOLDING, functional_group

__all__ = (
    "Resolution",
    "apply_clears",
    "apply_fact",
    "apply_negative_evidence",
    "apply_states",
    "conflicts",
    "ensure_nodes",
    "guess_type",
    "resolve_deterministic",
    "retire",
)


@dataclass
class Resolution:
    """G_updated plus what was retired on the way, and counters for ``UpdateStats.details``."""

    graph: SiteGraph
    history: list[HistoryRecord] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    added: set[EdgeKey] = field(default_factory=set)


def guess_type(name: str) -> str:
    """``Mug_2`` → ``Mug``, ``table 2`` → ``table``: a type for a vertex nobody described."""
    base = name.rstrip("0123456789").rstrip("_ ")
    return base or name


def ensure_nodes(res: Resolution, delta: Delta, stamp: Stamp, extra: set[str] | None = None) -> None:
    """Create vertices for the endpoints of new facts (and ``extra``) that the local graph lacks."""
    needed: set[str] = set(extra or ())
    for fact in delta.new:
        needed.update((fact.subject, fact.object))
    needed.update(c.subject for c in delta.clears)
    needed.update(s.node for s in delta.state_changes)
    for name in sorted(needed):
        if name not in res.graph:
            info = delta.nodes.get(name) or NodeInfo(guess_type(name), "unknown")
            res.graph.set_node(name, NodeData(info.type, info.kind, stamp, stamp, dict(info.attributes), {}))


def retire(res: Resolution, key: EdgeKey, stamp: Stamp, reason: str, counter: str = "superseded") -> None:
    edge = res.graph.edge(*key)
    if edge is None:
        return
    res.graph.remove_edge(*key)
    res.history.append(HistoryRecord("edge", *key, at=stamp, reason=reason, data=edge.to_json()))
    res.counts[counter] += 1


def _kind(res: Resolution, delta: Delta, name: str) -> str:
    info = delta.nodes.get(name)
    if info is not None and info.kind != "unknown":
        return info.kind
    return res.graph.kind_of(name)


def _outranked(old: EdgeData, fact: Fact, stamp: Stamp) -> str | None:
    """Why ``fact`` must not replace ``old``, or ``None`` when it should."""
    if old.last_seen > stamp:
        return f"older than the current belief (seen {old.last_seen.short()})"
    if old.last_seen == stamp and PROVENANCE_RANK[old.provenance] > PROVENANCE_RANK[fact.provenance]:
        return f"outranked by {old.provenance} evidence of the same step"
    return None


def conflicts(local: SiteGraph, delta: Delta) -> list[str]:
    """What the step's new facts and clears contradict in G_local: a second value of a functional relation,
    a second holder, a held thing still placed somewhere, a placed thing still held. Empty: inserting the new
    facts is the whole resolution, so there is nothing for a model to decide (``resolve_calls:
    on_conflict``). States are not checked: they are sensor values, set by rule in every variant."""
    found: list[str] = []
    for fact in delta.new:
        group = functional_group(fact.relation, _kind(Resolution(local), delta, fact.object))
        rivals = [] if group in (None, HOLDING) else [k for k, _ in local.functional_out(fact.subject, group)]
        if fact.relation == HOLDING:
            rivals += [k for k, _ in local.in_edges(fact.object) if k[1] == HOLDING]
            rivals += [k for g in ("location", "room") for k, _ in local.functional_out(fact.object, g)]
        elif group == "location":
            rivals += [k for k, _ in local.in_edges(fact.subject) if k[1] == HOLDING]
        found += [f"{fact} vs {' '.join(k)}" for k in rivals if k != fact.key]
    for clear in delta.clears:
        rivals = [k for k, _ in local.functional_out(clear.subject, clear.group) if clear.covers(k)]
        found += [f"no {clear.group} vs {' '.join(k)}" for k in rivals]
    return found


def apply_fact(res: Resolution, delta: Delta, fact: Fact, stamp: Stamp) -> bool:
    """Insert one new fact under the functional rules; ``False`` when the fact itself went to history."""
    group = functional_group(fact.relation, _kind(res, delta, fact.object))
    rivals = (
        [] if group in (None, HOLDING) else [(k, d) for k, d in res.graph.functional_out(fact.subject, group)]
    )
    if fact.relation == HOLDING:
        rivals += [(k, d) for k, d in res.graph.in_edges(fact.object) if k[1] == HOLDING]
    rivals = [(k, d) for k, d in rivals if k != fact.key]
    for _key, old in rivals:
        why = _outranked(old, fact, stamp)
        if why is not None:
            data = EdgeData(fact.provenance, fact.confidence, stamp, stamp).to_json()
            res.history.append(HistoryRecord("edge", *fact.key, at=stamp, reason=why, data=data))
            res.counts["rejected"] += 1
            return False
    for key, _ in rivals:
        retire(res, key, stamp, f"superseded by: {fact}")
    if fact.relation == HOLDING:
        # A held object is in no container and in no room of its own.
        for group_name in ("location", "room"):
            for key, _ in res.graph.functional_out(fact.object, group_name):
                retire(res, key, stamp, f"picked up: {fact}")
    elif group == "location":
        for key, _ in [(k, d) for k, d in res.graph.in_edges(fact.subject) if k[1] == HOLDING]:
            retire(res, key, stamp, f"put down: {fact}")
    existing = res.graph.edge(*fact.key)
    first_seen = existing.first_seen if existing is not None else stamp
    res.graph.set_edge(*fact.key, EdgeData(fact.provenance, fact.confidence, first_seen, stamp))
    res.added.add(fact.key)
    res.counts["added"] += 1
    return True


def apply_clears(res: Resolution, delta: Delta, stamp: Stamp) -> None:
    for clear in delta.clears:
        for key, old in res.graph.functional_out(clear.subject, clear.group):
            if key in res.added or old.last_seen > stamp or not clear.covers(key):
                continue
            retire(res, key, stamp, clear.reason)


def apply_states(res: Resolution, delta: Delta, stamp: Stamp) -> None:
    """One value per state per node; a change sends the old value to history."""
    for obs in delta.state_changes:
        node = res.graph.get_node(obs.node)
        if node is None:
            continue
        old = node.states.get(obs.state)
        if old is not None and old.last_seen > stamp:
            continue
        if old is not None:
            res.history.append(
                HistoryRecord("state", obs.node, obs.state, str(old.value), stamp, "changed", old.to_json())
            )
        states = dict(node.states)
        states[obs.state] = StateData(obs.value, stamp, stamp, obs.provenance)
        res.graph.set_node(obs.node, replace(node, states=states, last_seen=max(node.last_seen, stamp)))
        res.counts["states_changed"] += 1


def apply_negative_evidence(res: Resolution, delta: Delta, stamp: Stamp, cfg: SpatialConfig) -> None:
    if delta.perceived is None or not delta.visible:
        return
    here = res.graph.functional_out(cfg.agent, "location")
    visit_start = here[0][1].first_seen if here else stamp
    for container in sorted(delta.visible):
        for key, edge in list(res.graph.in_edges(container)):
            if res.graph.group_of(key) != "location" or key[0] in delta.perceived or key in res.added:
                continue
            if edge.last_seen >= stamp or (edge.weakened_at is not None and edge.weakened_at >= visit_start):
                continue  # seen this step, or already weakened during this visit
            confidence = edge.confidence * cfg.weaken_factor
            if confidence < cfg.drop_below:
                retire(res, key, stamp, f"not seen at {container}", counter="retired")
            else:
                res.graph.set_edge(*key, replace(edge, confidence=confidence, weakened_at=stamp))
                res.counts["weakened"] += 1


def resolve_deterministic(local: SiteGraph, delta: Delta, stamp: Stamp, cfg: SpatialConfig) -> Resolution:
    """G_updated from G_local (a copy it may modify) and G_new (``delta``)."""
    res = Resolution(local)
    ensure_nodes(res, delta, stamp)
    apply_states(res, delta, stamp)
    # Better evidence first, so a weaker same-step fact meets it as a rival and loses.
    for fact in sorted(delta.new, key=lambda f: -PROVENANCE_RANK[f.provenance]):
        apply_fact(res, delta, fact, stamp)
    apply_clears(res, delta, stamp)
    apply_negative_evidence(res, delta, stamp, cfg)
    return res
