"""Semantic memory: time-independent lessons, at action level (hold everywhere) and task level (about one
house, tagged with its site). Written after each episode: lesson creation → the top-N similar existing
lessons → ADD / UPDATE / DELETE / NOOP. Retrieval returns the best action-level and task-level lessons for
the step's queries (2 + 2 by default, as in the paper)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from modules.hippocampus.base import (
    EpisodeContext,
    EpisodeOutcome,
    MemoryStore,
    StepSummary,
    StoreResult,
    UpdateStats,
)
from modules.hippocampus.lessons import DeterministicLessonCreator, LLMLessonCreator, StepFact
from modules.hippocampus.longterm import (
    Candidate,
    DeterministicDecider,
    LLMDecider,
    LongTermIndex,
    PendingLog,
    stable_id,
)
from robomem.embeddings.base import Embedder
from robomem.llm.base import LLMClient
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
    creator: Literal["deterministic", "llm"] = "deterministic"
    decider: Literal["deterministic", "llm"] = "deterministic"
    #: Cosine similarity above which a new lesson counts as a near-duplicate of a stored one.
    dedup_threshold: float = Field(default=0.92, gt=0, le=1)
    #: Lessons kept; beyond it the least confirmed, oldest are archived.
    max_items: int = Field(default=20_000, ge=10)


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
        deterministic = DeterministicLessonCreator()
        decider = DeterministicDecider(config.dedup_threshold)
        if (config.creator == "llm" or config.decider == "llm") and llm is None:
            raise ValueError("semantic memory with an LLM creator/decider needs an LLM client")
        self.creator: DeterministicLessonCreator | LLMLessonCreator = (
            LLMLessonCreator(llm, deterministic) if config.creator == "llm" and llm else deterministic
        )
        self.decider: DeterministicDecider | LLMDecider = (
            LLMDecider(llm, decider, role="memory.semantic") if config.decider == "llm" and llm else decider
        )
        self.context: EpisodeContext | None = None
        self.facts: list[StepFact] = []
        self.pending = PendingLog(memory_dir / "pending" / "semantic")
        self._last_step = -1
        self._lock = threading.Lock()

    def begin_episode(self, context: EpisodeContext) -> None:
        self.context = context
        self.index.pin([ACTION_LESSONS, task_lessons(context.site)])
        logged = self.pending.load(context.episode_id)  # non-empty only when resuming a killed episode
        self.facts = [StepFact(**{k: v for k, v in r.items() if k != "step"}) for r in logged]
        self._last_step = max((int(r["step"]) for r in logged), default=-1)

    def update(self, summary: StepSummary) -> UpdateStats:
        if summary.action is None or summary.step <= self._last_step:
            return UpdateStats(self.name)
        perception = summary.perception
        holding_type = None
        if perception is not None and perception.holding is not None:
            holding_type = next((e.type for e in perception.entities if e.name == perception.holding), None)
        fact = StepFact(
            action=summary.action,
            feedback=summary.feedback or "",
            success=bool(summary.action_success),
            place=perception.location if perception is not None else None,
            holding_type=holding_type,
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
        with self._lock:
            facts, self.facts = self.facts, []
            self.pending.clear(outcome.context.episode_id)
        candidates = self.creator.create(outcome, facts)
        report = self.index.consolidate(
            candidates,
            self.decider,
            n_update=self.config.n_update,
            partition=_partition_of,
            episode_id=outcome.context.episode_id,
            now=outcome.time,
            new_id=stable_id("semantic", outcome.context.site),
        )
        self._enforce_cap()
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
