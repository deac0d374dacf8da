"""Lesson creation for semantic memory: turn a finished episode into candidate lessons, at action level
("picking up fails while holding something") and task level ("in this house mugs are in Cabinet_2").

The deterministic creator reads structured feedback and perception; the LLM creator reads the trajectory as
text. Both produce :class:`modules.hippocampus.longterm.Candidate` items for the ADD/UPDATE/DELETE/NOOP step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from envs.skill_language import EB_GRAMMAR, Feedback, require_grammar, strip_invalid
from modules.hippocampus.base import EpisodeOutcome
from modules.hippocampus.longterm import Candidate
from modules.hippocampus.prompting import ask_json
from robomem.llm.base import LLMClient
from robomem.llm.policy import attempt

__all__ = ("DeterministicLessonCreator", "LLMLessonCreator", "StepFact", "outcome_text")

ROLE = "memory.lessons"


@dataclass(frozen=True)
class StepFact:
    """What semantic memory keeps of each step until the episode ends."""

    action: str
    feedback: str
    success: bool
    place: str | None
    #: Type of the object in hand after the step (so a successful pick tells what was found where).
    holding_type: str | None
    #: Its perceived attributes (colour, material): a lesson per instance, not one per type that the next
    #: instance of the type would overwrite.
    holding_attributes: dict[str, str] = field(default_factory=dict)


#: (feedback pattern, lesson key, lesson text). Order matters: the first match wins.
ACTION_RULES: tuple[tuple[str, str, str], ...] = (
    (
        r"currently holding|when holding something",
        "action:pick-while-holding",
        "Picking something up fails while the robot already holds an object: put the held object down first.",
    ),
    (
        r"is not visible because it is in",
        "action:pick-inside-closed",
        "An object inside a closed receptacle cannot be picked up: open the receptacle first.",
    ),
    (
        r"Putting the object on .* failed|is closed\. Open it",
        "action:put-closed",
        "Putting an object into a closed receptacle fails: open it first, or use another instance.",
    ),
    (
        r"does not fit",
        "action:does-not-fit",
        "Large objects do not fit into small receptacles: choose a bigger receptacle.",
    ),
    (
        r"not holding any object|not holding anything",
        "action:put-empty-hand",
        "Putting down or placing needs an object in hand: pick one up first.",
    ),
    (
        r"must hold a knife",
        "action:slice-needs-knife",
        "Slicing needs a knife in hand: pick up a knife, find the object, then slice it where it lies.",
    ),
    (
        r"already (open|closed)",
        "action:open-close-state",
        "Opening an open receptacle or closing a closed one fails: check its state first.",
    ),
    (
        r"already (on|off)",
        "action:toggle-state",
        "Turning on something that is on (or off something that is off) fails: check its state first.",
    ),
    (
        r"not near the robot|is not nearby|not nearby",
        "action:act-when-far",
        "Acting on something that is not at the robot's place fails: go to it first (find / navigate).",
    ),
    (
        r"not in the skill set",
        "action:unknown-action",
        "Only actions from the skill list can be executed; invented or misspelled actions are invalid.",
    ),
)
_SUFFIX = re.compile(r"(_\d+| \d+)$")

LESSONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "lessons": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "level": {"type": "string", "enum": ["action", "task"]},
                    "text": {"type": "string"},
                },
                "required": ["level", "text"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["lessons"],
    "additionalProperties": False,
}


def _lesson(level: str, site: str, key: str, text: str, **extra: str | bool) -> Candidate:
    meta: dict[str, str | int | float | bool] = {"kind": "lesson", "level": level, "key": key, **extra}
    if level == "task":
        meta["site"] = site  # task-level lessons are about one house; action-level ones hold everywhere
    return Candidate(text=text, metadata=meta, key=key)


class DeterministicLessonCreator:
    def create(self, outcome: EpisodeOutcome, facts: list[StepFact]) -> list[Candidate]:
        require_grammar(
            outcome.context.grammar, "deterministic lesson creator", key="agent.memory.semantic.creator"
        )
        site = outcome.context.site
        found: dict[str, Candidate] = {}
        for fact in facts:
            if fact.success:
                continue
            if fact.action.startswith("open ") and Feedback.STUCK.search(fact.feedback):
                key = f"task:fails:{site}:{fact.action}"
                why = strip_invalid(fact.feedback)
                found[key] = _lesson("task", site, key, f"In {site}, '{fact.action}' fails: {why}")
                continue
            absent = Feedback.MISSING_WORD.search(fact.feedback)
            if absent:
                thing = _SUFFIX.sub("", absent.group(1))
                key = f"task:absent:{site}:{thing}"
                found[key] = _lesson("task", site, key, f"In {site} there is no {thing}.")
                continue
            for pattern, key, text in ACTION_RULES:
                if re.search(pattern, fact.feedback):
                    found[key] = _lesson("action", site, key, text)
                    break
            else:
                verb = fact.action.split(" the ")[0].split(" a ")[0]
                key = f"action:other:{verb}"
                found[key] = _lesson(
                    "action", site, key, f"'{verb}' can fail with: {_generic(fact.feedback)}"
                )
        # Where things were found: a successful pick-up means the object was at the place the robot was.
        previous_place: str | None = None
        for fact in facts:
            if fact.success and fact.action.startswith("pick up") and fact.holding_type and previous_place:
                thing = fact.holding_type
                attrs = sorted(fact.holding_attributes.items())
                key = f"task:where:{site}:{thing}" + "".join(f":{k}={v}" for k, v in attrs)
                # "an organic orange", not "an orange organic orange"
                words = dict.fromkeys(v for _, v in attrs if v.lower() != thing.lower())
                described = " ".join([*words, thing])
                instance = {"instance": True} if attrs else {}  # not a near-duplicate of another instance's
                found[key] = _lesson(
                    "task", site, key, f"In {site}, a {described} was found at {previous_place}.", **instance
                )
                retract = f"task:absent:{site}:{thing}"
                found[retract] = _lesson(
                    "task", site, retract, f"In {site} there is no {thing}.", retract=True
                )
            previous_place = fact.place
        return list(found.values())


def _generic(feedback: str) -> str:
    """Feedback without instance ids, so the same failure on Cabinet and Cabinet_2 is one lesson."""
    text = strip_invalid(feedback)
    return re.sub(r"\b([A-Z][A-Za-z]+)_\d+\b", r"\1", text)


class LLMLessonCreator:
    """Asks the LLM for lessons from the trajectory. A failure follows the role's policy
    (:mod:`robomem.llm.policy`): the run stops, or the deterministic creator writes the lessons."""

    def __init__(self, llm: LLMClient, fallback: DeterministicLessonCreator) -> None:
        self.llm = llm
        self.fallback = fallback
        self.failures = 0

    def create(self, outcome: EpisodeOutcome, facts: list[StepFact]) -> list[Candidate]:
        lessons, _ = attempt(self.llm, ROLE, lambda: self._ask(outcome, facts))
        if lessons is None:
            self.failures += 1
            if outcome.context.grammar != EB_GRAMMAR:
                return []  # the rules cannot read this env's skill texts: no lessons rather than a crash
            return self.fallback.create(outcome, facts)
        return lessons

    def _ask(
        self, outcome: EpisodeOutcome, facts: list[StepFact]
    ) -> tuple[list[Candidate] | None, str | None]:
        site = outcome.context.site
        lines = trajectory_lines(facts)
        data, error = ask_json(
            self.llm,
            role=ROLE,
            prompt="semantic_lessons",
            schema=LESSONS_SCHEMA,
            robot=outcome.context.robot,
            site=site,
            instruction=outcome.context.instruction,
            outcome=outcome_text(outcome),
            trajectory="\n".join(lines) or "(no actions)",
        )
        lessons = lesson_list(data)
        if lessons is None:
            return None, error or "'lessons' is not a list of {level, text} objects"
        return [
            _lesson(x["level"], site, "", " ".join(x["text"].split())) for x in lessons if x["text"].strip()
        ], None


def trajectory_lines(facts: list[StepFact]) -> list[str]:
    """The episode's steps as the lesson prompts number them."""
    return [
        f"{i}. {f.action} -> {'ok' if f.success else 'FAILED: ' + f.feedback}" for i, f in enumerate(facts, 1)
    ]


def lesson_list(data: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    """A reply's ``lessons`` when it is a list of ``{level, text}`` objects, else ``None``."""
    lessons = data.get("lessons") if data else None
    if not isinstance(lessons, list) or not all(
        isinstance(x, dict) and x.get("level") in ("action", "task") and isinstance(x.get("text"), str)
        for x in lessons
    ):
        return None
    return lessons


def outcome_text(outcome: EpisodeOutcome) -> str:
    """How the episode ended, as the memory prompts state it (saying who judged it)."""
    if outcome.judged_by == "agent":
        return f"{'success' if outcome.success else 'failure'} (as the agent judged it)"
    return "success" if outcome.success else f"failure (progress {outcome.progress:.0%})"
