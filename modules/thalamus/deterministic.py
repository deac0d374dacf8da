"""The deterministic thalamus: step summary and retrieval queries straight from structured perception and
feedback (the offline default; no model calls)."""

from __future__ import annotations

import re

from envs.base import Observation
from envs.skill_language import INVALID_PREFIX
from envs.task import Task
from modules.hippocampus.base import EpisodeContext, StepSummary
from modules.prefrontal.base import ExecutedAction
from modules.thalamus.base import Perceived

__all__ = ("DeterministicThalamus", "goal_types", "instruction_queries")

MAX_QUERIES = 6
_INVALID = f"{INVALID_PREFIX} "
#: Sentence ends, and a colon or semicolon before a new clause.
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")
#: A sentence opening with one of these carries a side clause before its first comma ("Although there is a
#: mug in the sink, put ...").
_SUBORDINATE = re.compile(r"^(although|though|even though|while|whereas|since|because|once|after)\b", re.I)


def instruction_queries(instruction: str, max_clauses: int = 2) -> list[str]:
    """The instruction, then its longest clauses when it has several: a request wrapped in unrelated context
    ("My guests are coming soon. Put a mug in the sink.") also queries memory with the request alone, so
    an episode stored under the plain wording is found (recall@5 of the complex wording, see
    ``bench.retrieval_quality``)."""
    clauses: list[str] = []
    for sentence in _SENTENCE_END.split(instruction.strip()):
        head, comma, rest = sentence.partition(", ")
        clauses.extend([head, rest] if comma and _SUBORDINATE.match(sentence) else [sentence])
    clauses = [c.strip(" .;:") for c in clauses if len(c.split()) >= 3]
    if len(clauses) < 2:
        return [instruction]
    longest = sorted(clauses, key=len, reverse=True)[:max_clauses]
    return [instruction, *(c[0].upper() + c[1:] + "." for c in clauses if c in longest)]


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
    # Only what the perception reports: an unreported hand is not an empty one.
    where = [f"at {p.location}"] if p.knows("location") and p.location else []
    where += [f"in the {p.room}"] if p.knows("room") and p.room else []
    parts = [f"I am {' '.join(where)}."] if where else []
    seen = [e.name for e in p.entities if e.kind == "object" and e.name not in p.holding]
    if seen:
        parts.append(f"I see {', '.join(seen)}.")
    if p.knows("holding"):
        parts.append(f"I hold {_and(p.holding)}." if p.holding else "My hand is empty.")
    return " ".join(parts)


def _and(names: tuple[str, ...]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


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
        # "green bowl" beside "bowl": a lesson about that very bowl outranks other bowls' lessons.
        described = [
            " ".join([*c.object.attributes.values(), c.object.type]) for c in task.goal if c.object.attributes
        ]
        queries = [*instruction_queries(task.instruction), *described, *goal_types(task)]
        perception = observation.perception
        if perception is not None:
            queries += perception.holding
            if perception.location:
                queries.append(perception.location)
        if last is not None and not last.success:
            queries.append(re.sub(r"\s+", " ", f"{last.action}: {last.feedback.removeprefix(_INVALID)}"))
        unique = list(dict.fromkeys(q for q in queries if q))
        return tuple(unique[:MAX_QUERIES])
