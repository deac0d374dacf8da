"""Semantic memory: time-independent lessons, at action level (hold everywhere) and task level (about one
house, tagged with its site). Written after each episode: lesson creation → the top-N similar existing
lessons → ADD / UPDATE / DELETE / NOOP. Retrieval returns the best action-level and task-level lessons for
the step's queries (2 + 2 by default, as in the paper)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modules.hippocampus.base import (
    EpisodeContext,
    EpisodeOutcome,
    MemoryStore,
    StepSummary,
    StoreResult,
    UpdateStats,
)
from modules.hippocampus.deciders import DeterministicDecider, LLMDecider
from modules.hippocampus.lessons import DeterministicLessonCreator, LLMLessonCreator, StepFact
from modules.hippocampus.lessons_joint import JointLessonCreator
from modules.hippocampus.longterm import (
    Candidate,
    Decider,
    LongTermIndex,
    stable_id,
)
from modules.hippocampus.pending import PendingLog, consolidate_once
from modules.hippocampus.prompting import tell_robot
from modules.hippocampus.variants import SEMANTIC_CREATORS, SEMANTIC_DECIDERS
from robomem.embeddings.base import Embedder
from robomem.llm.base import LLMClient
from robomem.storage import append_jsonl, read_jsonl
from robomem.stores.base import Metadata, VectorStore

#: The two partitions a step searches: lessons that hold everywhere, and those about the current house.
ACTION_LESSONS: Metadata = {"kind": "lesson", "level": "action"}


def task_lessons(site: str) -> Metadata:
    return {"kind": "lesson", "level": "task", "site": site}


__all__ = ("SemanticConfig", "SemanticMemory")


class SemanticConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    action_k: int = Field(default=2, ge=0)
    task_k: int = Field(default=2, ge=0)
    #: Existing lessons compared with each candidate (the paper's N_update).
    n_update: int = Field(default=10, ge=1)
    #: ``deterministic``, ``llm``, or a ``robomem.memory.semantic_creators`` entry point.
    creator: str = "deterministic"
    #: ``deterministic``, ``llm``, or a ``robomem.memory.semantic_deciders`` entry point.
    decider: str = "deterministic"
    #: With both the creator and the decider ``llm``: ``joint`` asks for the lessons and their decisions in
    #: one call (a lesson whose nearest stored lessons that call was not shown is still decided on its own);
    #: ``separate``: the paper's decision call per lesson after the creation call.
    decide_calls: Literal["joint", "separate"] = "joint"
    #: Cosine similarity above which a new lesson counts as a near-duplicate of a stored one.
    dedup_threshold: float = Field(default=0.92, gt=0, le=1)
    #: Lessons kept; beyond it the least confirmed, oldest are archived.
    max_items: int = Field(default=20_000, ge=10)

    @field_validator("creator")
    @classmethod
    def _known_creator(cls, value: str) -> str:
        return SEMANTIC_CREATORS.check_name(value)

    @field_validator("decider")
    @classmethod
    def _known_decider(cls, value: str) -> str:
        return SEMANTIC_DECIDERS.check_name(value)


class LessonCreator(Protocol):
    def create(self, outcome: EpisodeOutcome, facts: list[StepFact]) -> list[Candidate]: ...


@SEMANTIC_CREATORS.register("deterministic", SemanticConfig)
def _deterministic_creator(
    config: SemanticConfig, *, llm: LLMClient | None, fallback: DeterministicLessonCreator
) -> LessonCreator:
    return fallback


@SEMANTIC_CREATORS.register("llm", SemanticConfig)
def _llm_creator(
    config: SemanticConfig, *, llm: LLMClient | None, fallback: DeterministicLessonCreator
) -> LessonCreator:
    if llm is None:
        raise ValueError("semantic.creator=llm needs an LLM client")
    return LLMLessonCreator(llm, fallback)


@SEMANTIC_DECIDERS.register("deterministic", SemanticConfig)
def _deterministic_decider(
    config: SemanticConfig, *, llm: LLMClient | None, fallback: DeterministicDecider
) -> Decider:
    return fallback


@SEMANTIC_DECIDERS.register("llm", SemanticConfig)
def _llm_decider(config: SemanticConfig, *, llm: LLMClient | None, fallback: DeterministicDecider) -> Decider:
    if llm is None:
        raise ValueError("semantic.decider=llm needs an LLM client")
    return LLMDecider(llm, fallback, role="memory.semantic")


class SemanticMemory(MemoryStore):
    name = "semantic"

    def __init__(
        self,
        config: SemanticConfig,
        *,
        store: VectorStore,
        embedder: Embedder,
        memory_dir: Path,
        llm: LLMClient | None = None,
    ) -> None:
        self.config = config
        self.index = LongTermIndex(store, embedder, memory_dir / "semantic_archive.jsonl")
        make_creator = SEMANTIC_CREATORS.get(config.creator).factory
        self.creator: LessonCreator = make_creator(config, llm=llm, fallback=DeterministicLessonCreator())
        make_decider = SEMANTIC_DECIDERS.get(config.decider).factory
        self.decider: Decider = make_decider(
            config, llm=llm, fallback=DeterministicDecider(config.dedup_threshold)
        )
        if (
            config.decide_calls == "joint"
            and type(self.creator) is LLMLessonCreator
            and type(self.decider) is LLMDecider
        ):
            self.creator = JointLessonCreator(
                self.creator.llm,
                self.creator.fallback,
                self.decider,
                self.index,
                n_update=config.n_update,
                partitions=lambda site: [("action", ACTION_LESSONS), ("task", task_lessons(site))],
            )
        self.context: EpisodeContext | None = None
        self.facts: list[StepFact] = []
        self.pending = PendingLog(memory_dir / "pending" / "semantic")
        #: The episodes whose lessons are written (a resumed process must not write them twice).
        self.consolidated_log = memory_dir / "semantic_episodes.jsonl"
        self._consolidated = {
            str(r.get("episode_id")) for r in read_jsonl(self.consolidated_log) if isinstance(r, dict)
        }
        self._last_step = -1
        self._lock = threading.Lock()

    def begin_episode(self, context: EpisodeContext) -> None:
        self.context = context
        tell_robot(self.decider, context.robot)
        self.index.pin([ACTION_LESSONS, task_lessons(context.site)])
        logged = self.pending.load(context.episode_id)  # non-empty only when resuming a killed episode
        self.facts = [StepFact(**{k: v for k, v in r.items() if k != "step"}) for r in logged]
        self._last_step = max((int(r["step"]) for r in logged), default=-1)

    def update(self, summary: StepSummary) -> UpdateStats:
        if summary.action is None or summary.step <= self._last_step:
            return UpdateStats(self.name)
        perception = summary.perception
        holding_type, holding_attributes = None, {}
        if perception is not None and perception.holding:
            # The thing the step's action named if it is held (a pick), else the last one taken.
            named = next(
                (n for n in perception.holding if summary.action.endswith(n)), perception.holding[-1]
            )
            held = next((e for e in perception.entities if e.name == named), None)
            if held is not None:
                holding_type, holding_attributes = held.type, dict(held.attributes)
        fact = StepFact(
            action=summary.action,
            feedback=summary.feedback or "",
            success=bool(summary.action_success),
            place=perception.location if perception is not None else None,
            holding_type=holding_type,
            holding_attributes=holding_attributes,
        )
        with self._lock:
            self.pending.append(summary.context.episode_id, {**fact.__dict__, "step": summary.step})
            self.facts.append(fact)
            self._last_step = summary.step
        return UpdateStats(self.name, touched=0, details={"buffered": len(self.facts)})

    def retrieve(self, queries: Sequence[str]) -> StoreResult:
        site = self.context.site if self.context else ""
        actions = self.index.search(queries, self.config.action_k, ACTION_LESSONS)
        tasks = self.index.search(queries, self.config.task_k, task_lessons(site))
        hits = actions + tasks
        lines = tuple(f"[{h.item.metadata.get('level')}] {h.item.text}" for h in hits)
        data = [
            {"id": h.item.id, "level": h.item.metadata.get("level"), "text": h.item.text, "score": h.score}
            for h in hits
        ]
        return StoreResult(self.name, lines, data)

    def end_episode(self, outcome: EpisodeOutcome) -> UpdateStats:
        episode_id = outcome.context.episode_id
        tell_robot(self.decider, outcome.context.robot)  # the episode's own wording, even if none began
        if episode_id in self._consolidated:  # consolidated before the process died: only the cleanup is left
            with self._lock:
                self.facts = []
                self.pending.clear(episode_id)
            return UpdateStats(self.name, details={"already_consolidated": True})
        with self._lock:
            facts = list(self.facts)  # the step log stays until the lessons are written

        report = consolidate_once(
            self.index,
            self.pending,
            episode_id,
            lambda: list(self.creator.create(outcome, facts)),
            self.decider,
            n_update=self.config.n_update,
            partition=_partition_of,
            now=outcome.time,
            new_id=stable_id("semantic", outcome.context.site),
        )
        self._enforce_cap()
        with self._lock:
            append_jsonl(self.consolidated_log, {"episode_id": episode_id})
            self._consolidated.add(episode_id)
            self.facts = []
            self.pending.clear(episode_id)
        return UpdateStats(
            self.name,
            touched=sum(report.counts.values()),
            details={
                **report.counts,
                "replays_skipped": report.skipped_replays,
                "redecided": report.redecided,
            },
        )

    def _enforce_cap(self) -> None:
        self.index.evict_over(self.config.max_items)

    def close(self) -> None:
        self.index.store.close()


def _partition_of(candidate: Candidate) -> Metadata:
    """Where a candidate's near-duplicates can be: a house's lesson is only compared with that house's."""
    if candidate.metadata.get("level") == "task":
        return task_lessons(str(candidate.metadata.get("site", "")))
    return ACTION_LESSONS
