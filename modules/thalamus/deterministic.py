"""The deterministic thalamus: step summary and retrieval queries straight from structured perception and
feedback (the offline default; no model calls)."""

from __future__ import annotations

import re

from envs.base import Observation
from envs.task import Task
from modules.hippocampus.base import EpisodeContext, StepSummary
from modules.prefrontal.base import ExecutedAction
from modules.thalamus.base import Perceived

__all__ = ("DeterministicThalamus", "goal_types")

MAX_QUERIES = 5
_INVALID = "Last action is invalid. "


def goal_types(task: Task) -> list[str]:
    """Types the goal talks about, in order of first mention (objects, then where they must go)."""
    seen: list[str] = []
    for condition in task.goal:
        for ref in (condition.object, condition.inside):
            while ref is not None:
                if ref.type not in seen:
                    seen.append(ref.type)
                ref = ref.relation.target if ref.relation else None
    return seen


def _where(observation: Observation) -> str:
    p = observation.perception
    if p is None:
        return ""
    place = f"at {p.location} in the {p.room}" if p.location else f"in the {p.room}"
    seen = [e.name for e in p.entities if e.kind == "object" and e.name != p.holding]
    parts = [f"I am {place}."]
    if seen:
        parts.append(f"I see {', '.join(seen)}.")
    parts.append(f"I hold {p.holding}." if p.holding else "My hand is empty.")
    return " ".join(parts)


class DeterministicThalamus:
    def perceive(
        self,
        context: EpisodeContext,
        task: Task,
        step: int,
        observation: Observation,
        last: ExecutedAction | None,
        *,
        time: float = 0.0,
    ) -> Perceived:
        if last is None:
            text = f"Started the task '{task.instruction}'. {_where(observation)}"
        else:
            outcome = "it worked" if last.success else "it failed: " + last.feedback.removeprefix(_INVALID)
            text = f"I tried '{last.action}' and {outcome}. {_where(observation)}"
        summary = StepSummary(
            context=context,
            step=step,
            text=" ".join(text.split()),
            action=last.action if last else None,
            feedback=last.feedback if last else None,
            action_success=last.success if last else None,
            perception=observation.perception,
            time=time,
        )
        return Perceived(summary, self._queries(task, observation, last))

    @staticmethod
    def _queries(task: Task, observation: Observation, last: ExecutedAction | None) -> tuple[str, ...]:
        queries = [task.instruction, *goal_types(task)]
        perception = observation.perception
        if perception is not None:
            if perception.holding:
                queries.append(perception.holding)
            if perception.location:
                queries.append(perception.location)
        if last is not None and not last.success:
            queries.append(re.sub(r"\s+", " ", f"{last.action}: {last.feedback.removeprefix(_INVALID)}"))
        unique = list(dict.fromkeys(q for q in queries if q))
        return tuple(unique[:MAX_QUERIES])
