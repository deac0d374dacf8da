"""Builders shared by the hippocampus tests: episode contexts, step summaries, outcomes, in-memory stores."""

from __future__ import annotations

from envs.base import PerceivedEntity, Perception
from modules.hippocampus.base import EpisodeContext, EpisodeOutcome, StepRecord, StepSummary
from robomem.stores.exact import ExactVectorStore
from robomem.testing.hashing import HashingEmbedder

EMBEDDER = HashingEmbedder()


def context(
    episode: str = "ep1", site: str = "house_1", instruction: str = "Put a mug in a cabinet."
) -> EpisodeContext:
    return EpisodeContext(
        site=site, episode_id=episode, instruction=instruction, task_type="pick_and_place_simple"
    )


def summary(
    step: int,
    text: str,
    *,
    ctx: EpisodeContext | None = None,
    action: str | None = None,
    feedback: str = "Last action executed successfully.",
    success: bool = True,
    place: str | None = None,
    holding: tuple[str, str] | None = None,
    attributes: dict[str, str] | None = None,
) -> StepSummary:
    entities = (
        (PerceivedEntity(name=holding[0], type=holding[1], kind="object", attributes=attributes or {}),)
        if holding
        else ()
    )
    perception = Perception(
        location=place, room="Kitchen", holding=holding[0] if holding else None, entities=entities
    )
    return StepSummary(
        context=ctx or context(),
        step=step,
        text=text,
        action=action,
        feedback=feedback if action else None,
        action_success=success if action else None,
        perception=perception,
        time=float(step),
    )


def outcome(
    steps: list[tuple[str, str, bool]],
    *,
    success: bool,
    ctx: EpisodeContext | None = None,
    progress: float = 0.0,
) -> EpisodeOutcome:
    return EpisodeOutcome(
        context=ctx or context(),
        success=success,
        progress=1.0 if success else progress,
        steps=tuple(StepRecord(a, f, ok) for a, f, ok in steps),
        time=100.0,
    )


def memory_store() -> ExactVectorStore:
    return ExactVectorStore(None, dim=EMBEDDER.dim, embedder_name=EMBEDDER.name)
