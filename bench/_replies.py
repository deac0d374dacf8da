"""Household episodes solved by the privileged oracle, and scripted replies for the memory system's LLM calls
(parallel_memory, llm_cost, vs_mem0, llm_replies)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envs.base import Observation
    from envs.task import Task
    from modules.prefrontal.base import ExecutedAction
    from robomem.testing.scripted_llm import RecordedRequest, Rule

__all__ = (
    "MEMORY_ROLE_STORES",
    "GoldEpisode",
    "GoldStep",
    "gold_episodes",
    "memory_reply_rules",
    "relations_from_summary",
    "section",
)

# ---- household episodes and scripted memory replies (parallel_memory, llm_cost) -------------------------
# Imports of the simulator and the memory modules happen inside the functions, so scripts that only need the
# statistics above do not pay for them.


@dataclass(frozen=True)
class GoldStep:
    """One step of a solved episode: the observation after it and the action that led there (``None`` for
    the reset observation, step 0)."""

    step: int
    observation: Observation
    action: ExecutedAction | None


@dataclass(frozen=True)
class GoldEpisode:
    """A household task solved by the privileged oracle, replayed so every step has its real observation."""

    profile: str
    task: Task
    steps: tuple[GoldStep, ...]
    #: The action list the agent is shown for this task (``env.skills`` after the reset).
    skills: tuple[str, ...] = ()

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(s.action.action for s in self.steps if s.action is not None)


def gold_episodes(
    profile: str, subset: str, count: int, *, start: int = 0, tasks: Sequence[Task] | None = None
) -> list[GoldEpisode]:
    """``count`` tasks of a committed household suite (from index ``start``), or the given ``tasks``, each
    solved by the oracle and replayed step by step. Deterministic: the same arguments give the same
    episodes."""
    from envs.household.config import HouseholdConfig
    from envs.household.env import HouseholdEnv
    from envs.household.oracle import solve
    from modules.prefrontal.base import ExecutedAction

    env = HouseholdEnv(HouseholdConfig(profile=profile))
    suite = env.tasks(subset)
    chosen = (
        list(tasks) if tasks is not None else [suite[i % len(suite)] for i in range(start, start + count)]
    )
    episodes = []
    for task in chosen:
        env.reset(task)
        actions = solve(env)
        steps = [GoldStep(0, env.reset(task), None)]
        skills = env.skills
        for action in actions:
            result = env.step(action)
            info = result.info
            done = ExecutedAction(action, info["env_feedback"], info["last_action_success"], info["env_step"])
            steps.append(GoldStep(info["env_step"], result.observation, done))
        episodes.append(GoldEpisode(profile, task, tuple(steps), tuple(skills)))
    env.close()
    return episodes


#: Which memory store each LLM role of the memory operations belongs to.
MEMORY_ROLE_STORES: dict[str, str] = {
    "memory.temporal": "temporal",
    "memory.spatial.relations": "spatial",
    "memory.spatial.resolve": "spatial",
    "memory.spatial.update": "spatial",
    "memory.episodic.creator": "episodic",
    "memory.episodic": "episodic",
    "memory.lessons": "semantic",
    "memory.semantic": "semantic",
}

_ROOM = re.compile(r"(Kitchen|Bathroom|Bedroom|Hallway|Garage|Office|Room)(_\d+)?$")
_INSIDE = re.compile(r"^(Cabinet|Drawer|Fridge|Microwave|Sink|SinkBasin|GarbageCan|Box|Safe|Bathtub)")
_LOCATED = frozenset({"in", "on", "at", "under"})


def section(text: str, start: str, end: str | None = None) -> str:
    """The text after the last ``start`` (up to ``end`` when given); empty when ``start`` is absent."""
    _, found, tail = text.rpartition(start)
    if not found:
        return ""
    return tail.split(end, 1)[0] if end else tail


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]


def _reply_temporal(request: RecordedRequest) -> str:
    entries = section(request.last_user_text, "oldest first:\n", "\n\nReply")
    parts = [_first_sentence(re.sub(r"^\[steps? [\d-]+\]\s*", "", line)) for line in entries.splitlines()]
    words = " ".join(p for p in parts if p).split()
    return json.dumps({"summary": " ".join(words[-60:]) or "Nothing happened yet."})


def relations_from_summary(summary: str) -> dict[str, Any]:
    """The spatial facts a first-person step summary states ("I am at X in the Y. I see A, B. I hold C.")."""
    relations: list[dict[str, str]] = []
    entities: dict[str, str] = {}
    place = None
    at = re.search(r"I am at (\S+?) in the (\S+?)[.,]", summary)
    room = (
        at.group(2) if at else (m.group(1) if (m := re.search(r"I am in the (\S+?)[.,]", summary)) else None)
    )
    if at:
        place = at.group(1)
        relations.append({"subject": "I", "relation": "at", "object": place})
        entities[place] = "receptacle"
    if room:
        relations.append({"subject": "I", "relation": "in", "object": room})
        entities[room] = "place"
    seen = re.search(r"I see ([^.]+)\.", summary)
    if seen and place:
        relation = "in" if _INSIDE.match(place) else "on"
        for name in (n.strip() for n in seen.group(1).split(",")):
            if re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
                relations.append({"subject": name, "relation": relation, "object": place})
                entities[name] = "object"
    held = re.search(r"I hold (\S+?)\.", summary)
    if held:
        relations.append({"subject": "I", "relation": "holding", "object": held.group(1)})
        entities[held.group(1)] = "object"
    return {
        "relations": relations,
        "states": [],
        "entities": [{"name": n, "kind": k} for n, k in entities.items()],
        "holding_nothing": "hand is empty" in summary,
    }


def _reply_spatial_relations(request: RecordedRequest) -> str:
    summary = section(request.last_user_text, "\nSummary:", "\n").strip()
    return json.dumps(relations_from_summary(summary))


def _supersede_edits(edges: list[tuple[str, str, str, str]], facts: list[tuple[str, str, str]]) -> list[Any]:
    """Supersede every stored belief ``(id, subject, relation, object)`` a new fact contradicts (one
    location, one room, one holder per thing, a held thing in no container) — what a careful model would
    answer."""

    def group(relation: str, obj: str) -> str:
        if relation in _LOCATED:
            return "room" if _ROOM.search(obj) else "location"
        return relation

    edits = []
    for edge_id, subject, relation, obj in edges:
        for f_subject, f_relation, f_obj in facts:
            if (subject, relation, obj) == (f_subject, f_relation, f_obj):
                continue
            same_slot = subject == f_subject and group(relation, obj) == group(f_relation, f_obj)
            now_held = f_relation == "holding" and subject == f_obj and group(relation, obj) == "location"
            put_away = relation == "holding" and obj == f_subject and group(f_relation, f_obj) == "location"
            if same_slot or now_held or put_away:
                edits.append(
                    {"op": "supersede", "edge": edge_id, "reason": f"now {f_subject} {f_relation} {f_obj}"}
                )
                break
    return edits


_TRIPLE = r"(\S+) (\S+) (\S+) \("


def _reply_spatial_resolve(request: RecordedRequest) -> str:
    text = request.last_user_text
    edges = re.findall(r"^(e\d+): " + _TRIPLE, section(text, "Existing beliefs", "New facts:"), re.M)
    facts = re.findall(r"^- " + _TRIPLE, section(text, "New facts:", "Things seen"), re.M)
    return json.dumps({"edits": _supersede_edits(edges, facts)})


def _reply_spatial_update(request: RecordedRequest) -> str:
    """The joint call: the relations of the step summary, and the edits they make to the beliefs shown."""
    text = request.last_user_text
    summary = section(text, "\nSummary:", "\n").strip()
    reply = relations_from_summary(summary)
    edges = re.findall(r"^(e\d+): " + _TRIPLE, section(text, "Stored beliefs", "A thing has"), re.M)
    facts = [(r["subject"], r["relation"], r["object"]) for r in reply["relations"]]
    edits = _supersede_edits(edges, facts)
    if reply["holding_nothing"]:  # "My hand is empty": what the robot was believed to hold is no longer held
        taken = {e["edge"] for e in edits}
        edits += [
            {"op": "supersede", "edge": e, "reason": "hand empty"}
            for e, s, r, _ in edges
            if s == "I" and r == "holding" and e not in taken
        ]
    reply["edits"] = edits
    return json.dumps(reply)


def _reply_decide(request: RecordedRequest) -> str:
    text = request.last_user_text
    candidate = section(text, "New item:\n", "\n\nStored items").strip()
    for item_id, stored in re.findall(r"^- id=(\S+): (.*)$", section(text, "Stored items"), re.M):
        if stored.strip() == candidate:
            return json.dumps({"op": "NOOP", "target_id": item_id, "text": None, "reason": "already known"})
    return json.dumps({"op": "ADD", "target_id": None, "text": None, "reason": "new"})


def _reply_lessons(request: RecordedRequest) -> str:
    text = request.last_user_text
    site = m.group(1) if (m := re.search(r"about this house \(([^)]*)\)", text)) else "this house"
    lessons: list[dict[str, str | None]] = []
    for verb, feedback in re.findall(
        r"^\d+\. (\S+ ?\S*) .*-> FAILED: (.*)$", section(text, "Trajectory:"), re.M
    ):
        lessons.append({"level": "action", "text": f"'{verb}' can fail: {_first_sentence(feedback)}"})
    for thing in re.findall(r"^\d+\. pick up the (\S+) -> ok$", section(text, "Trajectory:"), re.M):
        lessons.append({"level": "task", "text": f"In {site}, a {thing.split('_')[0]} could be picked up."})
    if "Lessons already stored" in text:  # the joint call: each lesson's decision against the lessons shown
        stored = re.findall(r"^- id=(\S+) \[(\w+)\]: (.*)$", section(text, "Lessons already stored"), re.M)
        for lesson in lessons:
            same = [i for i, level, t in stored if level == lesson["level"] and t.strip() == lesson["text"]]
            lesson["op"], lesson["target_id"] = ("NOOP", same[0]) if same else ("ADD", None)
    return json.dumps({"lessons": lessons[:4]})


def memory_reply_rules() -> list[Rule]:
    """Scripted replies for every LLM memory operation, computed from the prompt so they are valid and
    plausible: temporal compression, spatial relation extraction and conflict resolution (two calls, or one
    joint call), the long-term
    ADD/UPDATE/DELETE/NOOP decision and lesson creation."""
    from bench.llm_replies import episode_account
    from robomem.testing.scripted_llm import Rule

    return [
        Rule(role="memory.temporal", reply=_reply_temporal),
        Rule(role="memory.spatial.relations", reply=_reply_spatial_relations),
        Rule(role="memory.spatial.resolve", reply=_reply_spatial_resolve),
        Rule(role="memory.spatial.update", reply=_reply_spatial_update),
        Rule(role="memory.episodic.creator", reply=episode_account),
        Rule(role="memory.episodic", reply=_reply_decide),
        Rule(role="memory.semantic", reply=_reply_decide),
        Rule(role="memory.lessons", reply=_reply_lessons),
    ]
