"""Conflict resolution, LLM variant: the paper's ResolveConflict VLM over the local subgraph.

The model sees G_local's edges (with ids) and G_new, and returns edits: ``supersede``, ``weaken``, ``modify``
or ``add``. New facts are always inserted (they are evidence); the model decides what they retire. Before
anything is applied, every edit is validated (known op, existing edge id, each edge edited once, known
names, a well-formed relation) and the result must satisfy the functional rules; otherwise the reply is
rejected as a whole and the caller falls back to the deterministic resolver. Negative evidence and state
changes are sensor rules, applied deterministically in both variants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from modules.hippocampus.spatial.config import SpatialConfig
from modules.hippocampus.spatial.graph import EdgeKey, SiteGraph
from modules.hippocampus.spatial.model import Belief, EdgeData, Stamp
from modules.hippocampus.spatial.observations import Delta
from modules.hippocampus.spatial.prompt import ask_json, render
from modules.hippocampus.spatial.resolve import (
    Resolution,
    apply_clears,
    apply_negative_evidence,
    apply_states,
    ensure_nodes,
    retire,
)
from modules.hippocampus.spatial.retrieve import format_belief
from modules.hippocampus.spatial.rules import normalize_relation

__all__ = (
    "EDITS_SCHEMA",
    "ROLE",
    "Edit",
    "apply_edits",
    "apply_proposed",
    "edge_ids",
    "format_edges",
    "parse_edits",
    "resolve_with_llm",
)

ROLE = "memory.spatial.resolve"
_OPS = ("supersede", "weaken", "modify", "add")
EDITS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "edits": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "op": {"type": "string", "enum": list(_OPS)},
                    "edge": {"type": "string"},
                    "subject": {"type": "string"},
                    "relation": {"type": "string"},
                    "object": {"type": "string"},
                    "factor": {"type": "number"},
                    "reason": {"type": "string"},
                },
                "required": ["op"],
            },
        }
    },
    "required": ["edits"],
}
_RELATION = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class Edit:
    op: str
    edge: EdgeKey | None = None
    new: EdgeKey | None = None
    factor: float = 1.0
    reason: str = ""


def _str(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"edit {item!r} needs a non-empty {key!r}")
    return value.strip()


def parse_edits(
    data: dict[str, Any], ids: dict[str, EdgeKey], names: set[str], cfg: SpatialConfig
) -> list[Edit]:
    """Validated edits, or ``ValueError`` naming the first problem."""
    raw = data.get("edits")
    if not isinstance(raw, list):
        raise ValueError("'edits' must be a list")
    edits: list[Edit] = []
    used: set[str] = set()
    for item in raw:
        if not isinstance(item, dict) or item.get("op") not in _OPS:
            raise ValueError(f"unknown edit {item!r}")
        op, reason = str(item["op"]), str(item.get("reason") or f"{item['op']} (llm resolver)")
        if op == "add":
            new = normalize_relation(_str(item, "subject"), _str(item, "relation"), _str(item, "object"))
            _check_new(new, names)
            edits.append(Edit(op, new=new, reason=reason))
            continue
        edge_id = _str(item, "edge")
        if edge_id not in ids:
            raise ValueError(f"edit refers to unknown edge {edge_id!r}")
        if edge_id in used:
            raise ValueError(f"edge {edge_id!r} edited twice")
        used.add(edge_id)
        key = ids[edge_id]
        if op == "weaken":
            factor = item.get("factor", cfg.weaken_factor)
            if not isinstance(factor, int | float) or isinstance(factor, bool) or not 0.0 < factor <= 1.0:
                raise ValueError(f"weaken factor must be in (0, 1], got {factor!r}")
            edits.append(Edit(op, edge=key, factor=float(factor), reason=reason))
        elif op == "modify":
            relation = item.get("relation") or key[1]
            obj = item.get("object") or key[2]
            if not isinstance(relation, str) or not isinstance(obj, str):
                raise ValueError(f"bad modify {item!r}")
            new = normalize_relation(key[0], relation, obj.strip())
            _check_new(new, names)
            if new == key:
                raise ValueError(f"modify of {edge_id!r} changes nothing")
            edits.append(Edit(op, edge=key, new=new, reason=reason))
        else:
            edits.append(Edit(op, edge=key, reason=reason))
    return edits


def _check_new(key: EdgeKey, names: set[str]) -> None:
    subject, relation, obj = key
    if not _RELATION.match(relation):
        raise ValueError(f"bad relation {relation!r}")
    for name in (subject, obj):
        if name not in names:
            raise ValueError(f"unknown node {name!r}")
    if subject == obj:
        raise ValueError(f"self-relation on {subject!r}")


def edge_ids(local: SiteGraph) -> dict[str, EdgeKey]:
    """Short ids (``e1``, ``e2`` ...) for the edges shown to the model, in a stable order."""
    return {f"e{i}": key for i, (key, _) in enumerate(sorted(local.edges(), key=lambda x: x[0]), start=1)}


def format_edges(local: SiteGraph, ids: dict[str, EdgeKey]) -> str:
    """``e3: Mug_2 on Table_1 (seen ep1/step4)`` per edge, or ``(none)``."""
    edges = []
    for edge_id, key in ids.items():
        data = local.edge(*key)
        assert data is not None
        belief = Belief(*key, data.confidence, data.provenance, data.first_seen, data.last_seen)
        edges.append(f"{edge_id}: {format_belief(belief)}")
    return "\n".join(edges) or "(none)"


def _but(keep: tuple[str, ...]) -> str:
    return f" but {', '.join(keep)}" if keep else ""


def _prompt(local: SiteGraph, delta: Delta, ids: dict[str, EdgeKey], names: set[str]) -> str:
    facts = [f"- {fact} ({fact.provenance})" for fact in delta.new]
    clears = [f"- {c.subject}: no {c.group}{_but(c.keep)} ({c.reason})" for c in delta.clears]
    return render(
        "spatial_resolve.txt",
        edges=format_edges(local, ids),
        facts="\n".join(facts) or "(none)",
        clears="\n".join(clears) or "(none)",
        names=", ".join(sorted(names)),
    )


def resolve_with_llm(
    local: SiteGraph, delta: Delta, stamp: Stamp, cfg: SpatialConfig, llm: Any
) -> tuple[Resolution | None, str | None]:
    """``(G_updated, None)``, or ``(None, why)`` when the reply is malformed or its edits are invalid."""
    ids = edge_ids(local)
    names = set(local.names()) | set(delta.nodes)
    for fact in delta.new:
        names.update((fact.subject, fact.object))
    reply = ask_json(
        llm, _prompt(local, delta, ids, names), role=ROLE, schema=EDITS_SCHEMA, schema_name="edits"
    )
    if reply.data is None:
        return None, f"malformed reply: {reply.error or 'no JSON object'}"
    try:
        edits = parse_edits(reply.data, ids, names, cfg)
    except ValueError as exc:
        return None, f"invalid edits: {exc}"
    return apply_edits(local, delta, stamp, cfg, edits)


def apply_proposed(
    local: SiteGraph, delta: Delta, stamp: Stamp, cfg: SpatialConfig
) -> tuple[Resolution | None, str | None]:
    """G_updated from the edits a joint extract-and-resolve reply proposed (no model call), or
    ``(None, why)`` when they are unusable."""
    proposed = delta.proposed
    assert proposed is not None
    if proposed.error is not None:
        return None, f"invalid edits: {proposed.error}"
    return apply_edits(local, delta, stamp, cfg, list(proposed.edits))


def apply_edits(
    local: SiteGraph, delta: Delta, stamp: Stamp, cfg: SpatialConfig, edits: list[Edit]
) -> tuple[Resolution | None, str | None]:
    """Insert the new facts, apply the model's edits, and check the functional rules hold where anything
    changed: ``(G_updated, None)``, or ``(None, why)`` when the edits leave the graph inconsistent."""
    res = Resolution(local)
    ensure_nodes(res, delta, stamp, extra={n for e in edits if e.new for n in (e.new[0], e.new[2])})
    apply_states(res, delta, stamp)
    for fact in delta.new:
        res.graph.set_edge(*fact.key, EdgeData(fact.provenance, fact.confidence, stamp, stamp))
        res.added.add(fact.key)
        res.counts["added"] += 1
    for edit in edits:
        _apply(res, edit, stamp, cfg)
    apply_clears(res, delta, stamp)
    touched = {k[0] for k in res.added} | {k[2] for k in res.added}
    touched |= {n for e in edits for key in (e.edge, e.new) if key is not None for n in (key[0], key[2])}
    problems = res.graph.violations(touched)
    if problems:
        return None, "edits leave the graph inconsistent: " + "; ".join(problems[:3])
    apply_negative_evidence(res, delta, stamp, cfg)
    res.counts["llm_edits"] = len(edits)
    return res, None


def _apply(res: Resolution, edit: Edit, stamp: Stamp, cfg: SpatialConfig) -> None:
    if edit.op == "add" and edit.new is not None:
        if res.graph.edge(*edit.new) is None:
            res.graph.set_edge(*edit.new, EdgeData("inferred", cfg.inferred_confidence, stamp, stamp))
            res.added.add(edit.new)
            res.counts["added"] += 1
        return
    assert edit.edge is not None
    old = res.graph.edge(*edit.edge)
    if old is None:
        return
    if edit.op == "supersede":
        retire(res, edit.edge, stamp, edit.reason)
    elif edit.op == "weaken":
        confidence = old.confidence * edit.factor
        if confidence < cfg.drop_below:
            retire(res, edit.edge, stamp, edit.reason, counter="retired")
        else:
            res.graph.set_edge(*edit.edge, replace(old, confidence=confidence, weakened_at=stamp))
            res.counts["weakened"] += 1
    elif edit.op == "modify" and edit.new is not None:
        retire(res, edit.edge, stamp, f"modified: {edit.reason}", counter="modified")
        res.graph.set_edge(
            *edit.new, EdgeData("inferred", min(old.confidence, cfg.inferred_confidence), stamp, stamp)
        )
        res.added.add(edit.new)
