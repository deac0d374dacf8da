"""Lesson creation and the lessons' ADD / UPDATE / DELETE / NOOP decisions in one model call
(``semantic.decide_calls: joint``), so that an episode's consolidation costs one model latency, not two in a
row (issue #11, item 7).

The call is shown, next to the trajectory, the stored lessons closest to the episode: per level (action
lessons, and this house's task lessons) the ``n_update`` most similar to the instruction and to each failed
step. For each lesson it writes it also names what to do with it. Those decisions are handed to the
:class:`~modules.hippocampus.deciders.LLMDecider` as presets; it uses one only where the paper's own
decision call would have been shown nothing the creating call was not (the lesson's ``n_update`` nearest
stored lessons are all among those shown) and the target is one of them, and asks the model separately
otherwise (counted in ``LLMDecider.counts``). So each decision rests on at least the evidence Algorithm 1's
per-lesson call gets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from modules.hippocampus.base import EpisodeOutcome
from modules.hippocampus.deciders import LLMDecider, valid_decision
from modules.hippocampus.lessons import (
    DeterministicLessonCreator,
    StepFact,
    _lesson,
    lesson_list,
    outcome_text,
    trajectory_lines,
)
from modules.hippocampus.longterm import Candidate, Decision, LongTermIndex
from modules.hippocampus.prompting import ask_json
from robomem.llm.base import LLMClient
from robomem.llm.policy import attempt
from robomem.stores.base import Metadata, VectorItem

__all__ = ("JOINT_SCHEMA", "JointLessonCreator")

ROLE = "memory.lessons"
#: Failed steps used to find the stored lessons to show (with the instruction).
MAX_QUERIES = 8

JOINT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "lessons": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "level": {"type": "string", "enum": ["action", "task"]},
                    "text": {"type": "string"},
                    "op": {"type": "string", "enum": ["ADD", "UPDATE", "DELETE", "NOOP"]},
                    "target_id": {"type": ["string", "null"]},
                },
                "required": ["level", "text", "op", "target_id"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["lessons"],
    "additionalProperties": False,
}


class JointLessonCreator:
    """Creates an episode's lessons and decides on them in one call; a reply without usable lessons falls
    back to the deterministic creator (its lessons are then decided one call each, as before)."""

    def __init__(
        self,
        llm: LLMClient,
        fallback: DeterministicLessonCreator,
        decider: LLMDecider,
        index: LongTermIndex,
        *,
        n_update: int,
        partitions: Callable[[str], Sequence[tuple[str, Metadata]]],
    ) -> None:
        self.llm = llm
        self.fallback = fallback
        self.decider = decider
        self.index = index
        self.n_update = n_update
        #: ``site -> [(level, filter)]``: where a lesson of each level and its neighbours are stored.
        self.partitions = partitions
        self.failures = 0

    def create(self, outcome: EpisodeOutcome, facts: list[StepFact]) -> list[Candidate]:
        self.decider.preset([], ())  # nothing from an earlier episode may be taken for this one's
        site = outcome.context.site
        failed = [f"{f.action} -> {f.feedback}" for f in facts if not f.success]
        queries = [outcome.context.instruction, *dict.fromkeys(failed)][: MAX_QUERIES + 1]
        shown: dict[str, tuple[str, VectorItem]] = {}
        for level, where in self.partitions(site):
            for hit in self.index.search(queries, self.n_update, where):
                shown[hit.item.id] = (level, hit.item)
        # A failed call or unusable reply follows the role's policy, like every other memory operation.
        lessons, _ = attempt(self.llm, ROLE, lambda: self._ask(outcome, facts, site, shown))
        if lessons is None:
            self.failures += 1
            return self.fallback.create(outcome, facts)
        return self._decided(lessons, site, shown)

    def _ask(
        self,
        outcome: EpisodeOutcome,
        facts: list[StepFact],
        site: str,
        shown: dict[str, tuple[str, VectorItem]],
    ) -> tuple[list[dict[str, Any]] | None, str | None]:
        existing = "\n".join(f"- id={i} [{level}]: {item.text}" for i, (level, item) in shown.items())
        lines = trajectory_lines(facts)
        data, error = ask_json(
            self.llm,
            role=ROLE,
            prompt="semantic_lessons_update",
            schema=JOINT_SCHEMA,
            essential=("lessons",),  # a lesson without a usable decision is decided separately
            robot=outcome.context.robot,
            site=site,
            instruction=outcome.context.instruction,
            outcome=outcome_text(outcome),
            trajectory="\n".join(lines) or "(no actions)",
            existing=existing or "(none)",
        )
        lessons = lesson_list(data)
        if lessons is None:
            return None, error or "'lessons' is not a list of {level, text} objects"
        return lessons, None

    def _decided(
        self, lessons: list[dict[str, Any]], site: str, shown: dict[str, tuple[str, VectorItem]]
    ) -> list[Candidate]:
        candidates: list[Candidate] = []
        decided: list[tuple[Candidate, Decision]] = []
        for x in lessons:
            text = " ".join(x["text"].split())
            if not text:
                continue
            candidate = _lesson(x["level"], site, "", text)
            candidates.append(candidate)
            same_level = {i: item for i, (level, item) in shown.items() if level == x["level"]}
            reply = {"op": x.get("op"), "target_id": x.get("target_id"), "reason": "with the lesson"}
            decision = valid_decision(reply, same_level)
            if decision is not None:
                decided.append((candidate, decision))
        self.decider.preset(decided, list(shown))
        return candidates
