"""Relation extraction (Algorithm 2, line 1), LLM variant: the paper's "Relation Retriever" over the step
summary text, for environments without structured perception. Facts are ``reported``; what the executed
action implies is added as ``inferred`` (and wins over the text for the same thing).

:func:`extract_and_resolve_with_llm` folds line 7 (ResolveConflict) into the same call (``resolve_calls:
joint``): the model is also shown the stored beliefs about what the step mentions (the names in the summary,
its nearest vertices by name embedding, their neighbours and functional edges) and returns, with the
relations, the edits those relations make to them. The edits travel with the observations to the resolver,
which validates and applies them like a ResolveConflict reply, without another call.
"""

from __future__ import annotations

import contextlib
import re
import threading
from typing import Any

from modules.hippocampus.base import StepSummary
from modules.hippocampus.spatial.config import SpatialConfig
from modules.hippocampus.spatial.extract import observe_action
from modules.hippocampus.spatial.graph import SiteGraph
from modules.hippocampus.spatial.index import NameIndex
from modules.hippocampus.spatial.llm_resolve import EDITS_SCHEMA, edge_ids, format_edges, parse_edits
from modules.hippocampus.spatial.locality import conflict_closure, expand_hops
from modules.hippocampus.spatial.observations import (
    Clear,
    Fact,
    NodeInfo,
    Observations,
    ProposedEdits,
    StateObs,
)
from modules.hippocampus.spatial.prompt import ask_json, render
from modules.hippocampus.spatial.resolve import guess_type
from modules.hippocampus.spatial.rules import HOLDING, normalize_relation, normalize_state

__all__ = (
    "JOINT_ROLE",
    "RELATIONS_SCHEMA",
    "ROLE",
    "UPDATE_SCHEMA",
    "extract_and_resolve_with_llm",
    "extract_with_llm",
    "parse_relations",
    "shown_beliefs",
)

ROLE = "memory.spatial.relations"
#: The role of the joint extract-and-resolve call.
JOINT_ROLE = "memory.spatial.update"
_KINDS = ["object", "receptacle", "appliance", "place", "agent"]
_STR = {"type": "string", "minLength": 1}
RELATIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "relations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"subject": _STR, "relation": _STR, "object": _STR},
                "required": ["subject", "relation", "object"],
            },
        },
        "states": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"entity": _STR, "state": _STR, "value": {"type": "boolean"}},
                "required": ["entity", "state", "value"],
            },
        },
        "entities": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": _STR, "kind": {"type": "string", "enum": _KINDS}},
                "required": ["name", "kind"],
            },
        },
        "holding_nothing": {"type": "boolean"},
    },
    "required": ["relations"],
}
UPDATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {**RELATIONS_SCHEMA["properties"], "edits": EDITS_SCHEMA["properties"]["edits"]},
    "required": ["relations", "edits"],
}
_KNOWN_NAMES = 20
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def parse_relations(
    data: dict[str, Any], known: list[str], cfg: SpatialConfig, graph: SiteGraph | None = None
) -> Observations:
    """Observations from a reply that matched the schema; raises ``ValueError`` on anything else. Names are
    mapped onto existing vertices (exact, else a known name written with other case or spacing)."""
    lookup = {n.lower().replace(" ", "_"): n for n in known}

    def _canonical(name: str, lookup: dict[str, str]) -> str:
        cleaned = name.strip()
        if graph is not None and cleaned in graph:
            return cleaned
        return lookup.get(cleaned.lower().replace(" ", "_"), cleaned)

    lookup.setdefault(cfg.agent.lower(), cfg.agent)
    for alias in ("i", "me", "robot", "the_robot", "agent"):
        lookup.setdefault(alias, cfg.agent)
    obs = Observations()
    relations = data.get("relations")
    if not isinstance(relations, list):
        raise ValueError("'relations' must be a list")
    for item in relations:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) and item[k].strip() for k in ("subject", "relation", "object")
        ):
            raise ValueError(f"bad relation {item!r}")
        s, r, o = normalize_relation(
            _canonical(item["subject"], lookup), item["relation"], _canonical(item["object"], lookup)
        )
        if s != o and r:
            obs.facts.append(Fact(s, r, o, "reported", cfg.reported_confidence))
    for item in data.get("states") or []:
        if not isinstance(item, dict) or not isinstance(item.get("value"), bool):
            raise ValueError(f"bad state {item!r}")
        state, value = normalize_state(str(item.get("state", "")), item["value"])
        if state:
            obs.states.append(
                StateObs(_canonical(str(item.get("entity", "")), lookup), state, value, "reported")
            )
    for item in data.get("entities") or []:
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item.get("kind") in _KINDS:
            name = _canonical(item["name"], lookup)
            obs.nodes[name] = NodeInfo(guess_type(name), str(item["kind"]))
    if data.get("holding_nothing") is True:
        obs.clears.append(Clear(cfg.agent, HOLDING, "said to hold nothing", "reported"))
    return obs


def _known(summary: StepSummary, index: NameIndex, cfg: SpatialConfig) -> list[str]:
    hits = index.top([summary.text], _KNOWN_NAMES)[0] if summary.text.strip() else []
    return [cfg.agent, *(name for name, _ in hits if name != cfg.agent)]


def _step_slots(summary: StepSummary, cfg: SpatialConfig, known: list[str]) -> dict[str, object]:
    return {
        "agent": cfg.agent,
        "known": ", ".join(known),
        "step": summary.step,
        "action": summary.action or "(none: initial observation)",
        "feedback": summary.feedback or "",
        "summary": summary.text,
    }


def _with_action(
    told: Observations, summary: StepSummary, graph: SiteGraph, cfg: SpatialConfig
) -> Observations:
    implied = observe_action(summary, graph, cfg)
    combined = Observations(
        facts=implied.facts + told.facts,
        clears=implied.clears + told.clears,
        states=implied.states + told.states,
        nodes=told.nodes,
    )
    return combined.merged(graph)


def extract_with_llm(
    summary: StepSummary, graph: SiteGraph, index: NameIndex, cfg: SpatialConfig, llm: Any
) -> tuple[Observations | None, str | None]:
    """``(observations, None)``, or ``(None, why)`` when the reply is unusable (the caller falls back)."""
    known = _known(summary, index, cfg)
    prompt = render("spatial_relations.txt", **_step_slots(summary, cfg, known))
    reply = ask_json(llm, prompt, role=ROLE, schema=RELATIONS_SCHEMA, schema_name="spatial_relations")
    if reply.data is None:
        return None, reply.error or "no JSON object in the reply"
    try:
        told = parse_relations(reply.data, known, cfg, graph)
    except ValueError as exc:
        return None, str(exc)
    return _with_action(told, summary, graph, cfg), None


def _named(summary: StepSummary, graph: SiteGraph, cfg: SpatialConfig) -> list[str]:
    """Vertices the step names, found without an embedding: names written in the summary or the action,
    and vertices whose type is a word of them ("the mug" names ``Mug_1`` and ``Mug_2``), agent first."""
    words = _NAME.findall(f"{summary.text} {summary.action or ''}")
    lowered = {w.lower() for w in words}
    named = [w for w in dict.fromkeys(words) if w in graph and w != cfg.agent]
    typed = [n for n, data in graph.nodes() if data.type.lower() in lowered and n not in named]
    return [cfg.agent, *named, *sorted(typed)[:_KNOWN_NAMES]]


def shown_beliefs(summary: StepSummary, graph: SiteGraph, named: list[str], cfg: SpatialConfig) -> SiteGraph:
    """The stored beliefs a joint call shows the model, before it has said what the step brings: around
    the vertices the step names, ``hops`` hops out (at most ``update_max_expand`` vertices), plus the
    targets of their functional edges and their holders — what a new location, room or holder of them
    can contradict."""
    seeds = [n for n in named if n in graph]
    hood = expand_hops(graph, seeds, cfg.hops, cfg.update_max_expand)
    return graph.induced(hood.nodes | conflict_closure(graph, hood.nodes))


def extract_and_resolve_with_llm(
    summary: StepSummary, graph: SiteGraph, index: NameIndex, cfg: SpatialConfig, llm: Any
) -> tuple[Observations | None, str | None]:
    """Relations and the edits they make, in one call: ``(observations carrying ProposedEdits, None)``, or
    ``(None, why)`` when the relations are unusable. Unusable edits alone keep the relations: the resolver
    then applies the rules (a resolve fallback), and no second call is made.

    The prompt's names come from the text itself (no embedding before the call); the summary's embedding,
    which the update's similarity seeds need after the reply, is computed while the model answers."""
    if summary.text.strip():
        # The embedder's cache hands the vector to the update's seed search; a failure surfaces there.
        threading.Thread(target=_prefetch, args=(index, summary.text), daemon=True).start()
    named = _named(summary, graph, cfg)
    shown = shown_beliefs(summary, graph, named, cfg)
    known = list(dict.fromkeys([*named, *(n for n in shown.names() if n not in named)]))[:_KNOWN_NAMES]
    ids = edge_ids(shown)
    prompt = render("spatial_update.txt", **_step_slots(summary, cfg, known), edges=format_edges(shown, ids))
    reply = ask_json(llm, prompt, role=JOINT_ROLE, schema=UPDATE_SCHEMA, schema_name="spatial_update")
    if reply.data is None:
        return None, reply.error or "no JSON object in the reply"
    try:
        told = parse_relations(reply.data, known, cfg, graph)
    except ValueError as exc:
        return None, str(exc)
    names = set(shown.names()) | set(told.nodes)
    for fact in told.facts:
        names.update((fact.subject, fact.object))
    try:
        # No "edits" at all reads as "nothing to change"; the resolver still checks the functional rules.
        edits = parse_edits({"edits": reply.data.get("edits", [])}, ids, names, cfg)
        proposed = ProposedEdits(tuple(edits), _edited_nodes(edits))
    except ValueError as exc:
        proposed = ProposedEdits(error=str(exc))
    obs = _with_action(told, summary, graph, cfg)
    obs.proposed = proposed
    return obs, None


def _prefetch(index: NameIndex, text: str) -> None:
    with contextlib.suppress(Exception):  # the seed search makes the same call, and fails visibly
        index.embedder.embed([text])


def _edited_nodes(edits: list[Any]) -> frozenset[str]:
    return frozenset(n for e in edits for key in (e.edge, e.new) if key is not None for n in (key[0], key[2]))
