"""Scripted replies for every LLM role of the paper preset (``configs/robomemory.yaml``), for tests and
benchmarks with :class:`robomem.testing.scripted_llm.ScriptedLLMServer`: each reply is usable, so a run that
completes under ``on_failure: stop`` shows every role working, not falling back.

The planner plans two moves from the list it is shown; the spatial resolver (and the joint
extract-and-resolve call, ``memory.spatial.update``) supersedes every stored belief a new fact displaces, as a
careful model would (over-eager, never inconsistent).
"""

from __future__ import annotations

import json
import re

from robomem.testing.scripted_llm import RecordedRequest, Rule

__all__ = (
    "PAPER_ROLES",
    "SPATIAL_TWO_CALL_ROLES",
    "careful_resolver",
    "joint_update",
    "paper_rules",
    "place_relations",
    "two_move_plan",
)

#: Every role the paper preset calls (README.md, "LLMs"). Spatial memory's extraction and conflict
#: resolution are one call there (``spatial.resolve_calls: joint``, role ``memory.spatial.update``).
PAPER_ROLES = (
    "planner",
    "critic",
    "thalamus.summary",
    "thalamus.queries",
    "memory.temporal",
    "memory.spatial.update",
    "memory.episodic.creator",
    "memory.episodic",
    "memory.lessons",
    "memory.semantic",
)

#: The spatial roles instead of ``memory.spatial.update`` with ``spatial.resolve_calls: always`` (the paper's
#: Relation Retriever, then ResolveConflict).
SPATIAL_TWO_CALL_ROLES = ("memory.spatial.relations", "memory.spatial.resolve")

_ACTION = re.compile(r"action id (\d+): ([^\n]+)\n")
_EDGE = re.compile(r"^(e\d+): (\S+) (\S+) (\S+) \(", re.MULTILINE)
_FACT = re.compile(r"^- (\S+) (\S+) (\S+) \(", re.MULTILINE)
_CLEAR = re.compile(r"^- (\S+): no (\S+) \(", re.MULTILINE)
_LOCATION = {"in", "on", "at", "under", "inside"}


def two_move_plan(request: RecordedRequest) -> str:
    """Two actions: the first two that go somewhere (``find`` / ``navigate``), else the first two listed."""
    actions = _ACTION.findall(request.all_text)
    moves = [a for a in actions if a[1].startswith(("find ", "navigate "))]
    chosen = (moves if len(moves) >= 2 else actions)[:2]
    plan = [{"action_id": int(i), "action_name": name} for i, name in chosen]
    return json.dumps(
        {"reasoning_and_reflection": "start", "language_plan": "explore", "executable_plan": plan}
    )


_TARGET = re.compile(r"^Action: (?:find an?|navigate to(?: the)?) (\S+)", re.MULTILINE)


def _relations(request: RecordedRequest) -> list[dict[str, str]]:
    found = _TARGET.search(request.all_text)
    return [{"subject": "I", "relation": "at", "object": found.group(1)}] if found else []


def place_relations(request: RecordedRequest) -> str:
    """The Relation Retriever: "I at <place>" after a move (the step's action names the place)."""
    return json.dumps(
        {"relations": _relations(request), "states": [], "entities": [], "holding_nothing": False}
    )


def _section(text: str, start: str, end: str) -> str:
    _, _, rest = text.partition(start)
    return rest.partition(end)[0] if rest else ""


def careful_resolver(request: RecordedRequest) -> str:
    """Supersede each stored belief that a new fact or a cleared group displaces."""
    text = request.all_text
    edges = _EDGE.findall(_section(text, "Existing beliefs", "New facts:"))
    facts = _FACT.findall(_section(text, "New facts:", "Things seen"))
    clears = _CLEAR.findall(_section(text, "Things seen", "Edits you may return"))
    return json.dumps({"edits": _supersede(edges, facts, clears)})


def joint_update(request: RecordedRequest) -> str:
    """The joint call (``memory.spatial.update``): the step's relations and the stored beliefs they
    displace."""
    relations = _relations(request)
    edges = _EDGE.findall(_section(request.all_text, "Stored beliefs", "A thing has"))
    facts = [(r["subject"], r["relation"], r["object"]) for r in relations]
    edits = _supersede(edges, facts, [])
    return json.dumps({"relations": relations, "states": [], "holding_nothing": False, "edits": edits})


def _supersede(
    edges: list[tuple[str, str, str, str]], facts: list[tuple[str, str, str]], clears: list[tuple[str, str]]
) -> list[dict[str, str]]:
    displaced: dict[str, str] = {}
    for edge_id, subject, relation, obj in edges:
        for new_subject, new_relation, new_obj in facts:
            same_place = subject == new_subject and {relation, new_relation} <= _LOCATION and obj != new_obj
            same_hand = subject == new_subject and relation == new_relation == "holding" and obj != new_obj
            held_elsewhere = new_relation == "holding" and subject == new_obj and relation in _LOCATION
            taken = relation == "holding" and obj == new_obj and subject != new_subject
            put_down = relation == "holding" and obj == new_subject and new_relation in _LOCATION
            if same_place or same_hand or held_elsewhere or taken or put_down:
                displaced[edge_id] = f"displaced by {new_subject} {new_relation} {new_obj}"
        for clear_subject, group in clears:
            empty_hand = group == "holding" and relation == "holding"
            nowhere = group == "location" and relation in _LOCATION
            if subject == clear_subject and (empty_hand or nowhere):
                displaced[edge_id] = f"{subject} has no {group} now"
    return [{"op": "supersede", "edge": edge_id, "reason": why} for edge_id, why in displaced.items()]


def paper_rules() -> list[Rule]:
    """A usable reply for every role in :data:`PAPER_ROLES` and :data:`SPATIAL_TWO_CALL_ROLES`."""
    return [
        Rule(role="planner", reply=two_move_plan),
        Rule(role="critic", reply='{"reasoning": "fine", "ok": true, "feedback": ""}'),
        Rule(role="thalamus.summary", reply='{"summary": "I looked around the kitchen."}'),
        Rule(role="thalamus.queries", reply='{"queries": ["mug", "cabinet", "where am I"]}'),
        Rule(role="memory.temporal", reply='{"summary": "I explored the kitchen."}'),
        Rule(role="memory.spatial.relations", reply=place_relations),
        Rule(role="memory.spatial.resolve", reply=careful_resolver),
        Rule(role="memory.spatial.update", reply=joint_update),
        Rule(role="memory.episodic.creator", reply='{"account": "I explored; next time look in cabinets."}'),
        Rule(role="memory.episodic", reply='{"op": "ADD", "target_id": null, "text": null, "reason": "new"}'),
        Rule(
            role="memory.lessons",
            reply='{"lessons": [{"level": "action", "text": "Look inside closed cabinets for mugs."}]}',
        ),
        Rule(role="memory.semantic", reply='{"op": "ADD", "target_id": null, "text": null, "reason": "new"}'),
    ]
