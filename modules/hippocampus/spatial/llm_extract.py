"""Relation extraction (Algorithm 2, line 1), LLM variant: the paper's "Relation Retriever" over the step
summary text, for environments without structured perception. Facts are ``reported``; what the executed
action implies is added as ``inferred`` (and wins over the text for the same thing)."""

from __future__ import annotations

from typing import Any

from modules.hippocampus.base import StepSummary
from modules.hippocampus.spatial.config import SpatialConfig
from modules.hippocampus.spatial.extract import observe_action
from modules.hippocampus.spatial.graph import SiteGraph
from modules.hippocampus.spatial.index import NameIndex
from modules.hippocampus.spatial.observations import Clear, Fact, NodeInfo, Observations, StateObs
from modules.hippocampus.spatial.prompt import ask_json, render
from modules.hippocampus.spatial.resolve import guess_type
from modules.hippocampus.spatial.rules import HOLDING, normalize_relation, normalize_state

__all__ = ("RELATIONS_SCHEMA", "ROLE", "extract_with_llm", "parse_relations")

ROLE = "memory.spatial.relations"
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
_KNOWN_NAMES = 20


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


def extract_with_llm(
    summary: StepSummary, graph: SiteGraph, index: NameIndex, cfg: SpatialConfig, llm: Any
) -> tuple[Observations | None, str | None]:
    """``(observations, None)``, or ``(None, why)`` when the reply is unusable (the caller falls back)."""
    hits = index.top([summary.text], _KNOWN_NAMES)[0] if summary.text.strip() else []
    known = [cfg.agent, *(name for name, _ in hits if name != cfg.agent)]
    prompt = render(
        "spatial_relations.txt",
        agent=cfg.agent,
        known=", ".join(known),
        step=summary.step,
        action=summary.action or "(none: initial observation)",
        feedback=summary.feedback or "",
        summary=summary.text,
    )
    reply = ask_json(llm, prompt, role=ROLE, schema=RELATIONS_SCHEMA, schema_name="spatial_relations")
    if reply.data is None:
        return None, reply.error or "no JSON object in the reply"
    try:
        told = parse_relations(reply.data, known, cfg, graph)
    except ValueError as exc:
        return None, str(exc)
    implied = observe_action(summary, graph, cfg)
    combined = Observations(
        facts=implied.facts + told.facts,
        clears=implied.clears + told.clears,
        states=implied.states + told.states,
        nodes=told.nodes,
    )
    return combined.merged(graph), None
