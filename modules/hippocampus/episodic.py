"""Episodic memory: every finished episode's trajectory — instruction, actions, feedback, outcome, steps —
successes and failures alike, in a vector store; retrieval returns the top 5 most similar past episodes.

The memory item is written by a Creator: the deterministic one renders the trajectory itself; the LLM one (the
paper's Long-term Memory Creator, ``episodic.creator: llm``) asks the model for a compact, reusable account of
what was done, what worked and what failed, under a head the model cannot alter (task, site, outcome, steps).
Either way the raw trajectory is appended to ``episodes.jsonl``.

Consolidation uses the same ADD / UPDATE / DELETE / NOOP step as semantic memory, keyed by (site,
instruction): a repeated identical trajectory is a NOOP (its count grows), a shorter success replaces a longer
one (UPDATE), and a success retires the stored failure of the same task (DELETE — its lessons live on in
semantic memory and the trajectory in the archive). Every raw trajectory is also appended to the archive.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modules.hippocampus.base import (
    EpisodeContext,
    EpisodeOutcome,
    MemoryStore,
    StepRecord,
    StepSummary,
    StoreResult,
    UpdateStats,
)
from modules.hippocampus.lessons import outcome_text
from modules.hippocampus.longterm import (
    Candidate,
    Decision,
    DeterministicDecider,
    LLMDecider,
    LongTermIndex,
    PendingLog,
    decide,
)
from modules.hippocampus.prompting import ask_json
from robomem.embeddings.base import Embedder
from robomem.llm.base import LLMClient
from robomem.llm.policy import attempt
from robomem.storage import append_jsonl, read_jsonl
from robomem.stores.base import VectorHit, VectorStore

__all__ = (
    "DeterministicEpisodeCreator",
    "EpisodicConfig",
    "EpisodicDecider",
    "EpisodicMemory",
    "LLMEpisodeCreator",
    "episode_candidates",
    "render_trajectory",
)


class EpisodicConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    top_k: int = Field(default=5, ge=0)
    n_update: int = Field(default=10, ge=1)
    #: Who writes the memory item: ``deterministic`` (the trajectory itself) or ``llm`` (the model's account).
    creator: Literal["deterministic", "llm"] = "deterministic"
    decider: Literal["deterministic", "llm"] = "deterministic"
    #: Characters of one episode shown to the planner.
    item_chars: int = Field(default=600, ge=100)
    max_items: int = Field(default=100_000, ge=10)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


def _head(outcome: EpisodeOutcome) -> str:
    ctx = outcome.context
    verdict = f"{outcome_text(outcome)} in {len(outcome.steps)} steps"
    return f"Task: {ctx.instruction} | site: {ctx.site} | outcome: {verdict}"


def render_trajectory(outcome: EpisodeOutcome) -> str:
    steps = "; ".join(
        f"{i}. {s.action} -> {'ok' if s.success else s.feedback.removeprefix('Last action is invalid. ')}"
        for i, s in enumerate(outcome.steps, 1)
    )
    return f"{_head(outcome)} | {steps}"


def episode_candidates(outcome: EpisodeOutcome, text: str | None = None) -> list[Candidate]:
    """The episode itself (its item ``text``: the rendered trajectory unless a creator wrote one), plus —
    after a success — a retraction of the stored failure of the same task."""
    ctx = outcome.context
    task_key = f"{ctx.site}:{_norm(ctx.instruction)}"
    meta: dict[str, str | int | float | bool] = {
        "kind": "episode",
        "site": ctx.site,
        "success": outcome.success,
        "steps": len(outcome.steps),
        "progress": outcome.progress,
        "task_type": ctx.task_type,
        "episode_id": ctx.episode_id,
        "actions": _norm(" | ".join(s.action for s in outcome.steps)),
    }
    embed_text = f"Task: {ctx.instruction}"
    key = f"episode:{'ok' if outcome.success else 'fail'}:{task_key}"
    item = text if text is not None else render_trajectory(outcome)
    candidates = [Candidate(item, meta, key=key, embed_text=embed_text)]
    if outcome.success:
        retract: dict[str, str | int | float | bool] = {"kind": "episode", "site": ctx.site, "retract": True}
        candidates.append(
            Candidate(
                f"retract failure of {task_key}",
                retract,
                key=f"episode:fail:{task_key}",
                embed_text=embed_text,
            )
        )
    return candidates


ACCOUNT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"account": {"type": "string"}},
    "required": ["account"],
    "additionalProperties": False,
}
CREATOR_ROLE = "memory.episodic.creator"


class DeterministicEpisodeCreator:
    """The memory item is the rendered trajectory."""

    def create(self, outcome: EpisodeOutcome) -> list[Candidate]:
        return episode_candidates(outcome)


class LLMEpisodeCreator:
    """The paper's Long-term Memory Creator for episodic memory: the model writes the account. A failure
    follows the role's policy (:mod:`robomem.llm.policy`): the run stops, or the trajectory is the item."""

    def __init__(self, llm: LLMClient, *, max_chars: int = 1200) -> None:
        self.llm = llm
        self.max_chars = max_chars
        self.failures = 0

    def create(self, outcome: EpisodeOutcome) -> list[Candidate]:
        account, _ = attempt(self.llm, CREATOR_ROLE, lambda: self._ask(outcome))
        if account is None:
            self.failures += 1
            return episode_candidates(outcome)
        return episode_candidates(outcome, f"{_head(outcome)} | {account}")

    def _ask(self, outcome: EpisodeOutcome) -> tuple[str | None, str | None]:
        lines = [
            f"{i}. {s.action} -> {'ok' if s.success else 'FAILED: ' + s.feedback}"
            for i, s in enumerate(outcome.steps, 1)
        ]
        data, error = ask_json(
            self.llm,
            role=CREATOR_ROLE,
            prompt="episodic_create",
            schema=ACCOUNT_SCHEMA,
            instruction=outcome.context.instruction,
            site=outcome.context.site,
            outcome=outcome_text(outcome),
            steps=str(len(outcome.steps)),
            trajectory="\n".join(lines) or "(no actions)",
        )
        account = data.get("account") if data else None
        if not isinstance(account, str) or not account.strip():
            return None, error or "no account in the reply"
        account = " ".join(account.split())
        return (account if len(account) <= self.max_chars else account[: self.max_chars - 3] + "..."), None


class EpisodicDecider(DeterministicDecider):
    """Same-task successes: keep the shorter demonstration; identical trajectories: NOOP."""

    def decide(self, candidate: Candidate, similar: Sequence[VectorHit]) -> Decision:
        same = [h.item for h in similar if candidate.key and h.item.metadata.get("key") == candidate.key]
        if candidate.metadata.get("retract") or not same:
            return (
                super().decide(candidate, similar) if candidate.metadata.get("retract") else Decision("ADD")
            )
        stored = same[0]
        if stored.metadata.get("actions") == candidate.metadata.get("actions"):
            return Decision("NOOP", stored.id, reason="the same trajectory again")
        if candidate.metadata.get("success") and int(candidate.metadata["steps"]) >= int(
            stored.metadata.get("steps", 0)
        ):
            return Decision("NOOP", stored.id, reason="a shorter success is already stored")
        return Decision("UPDATE", stored.id, reason="a newer failure or a shorter success of the same task")


class EpisodicMemory(MemoryStore):
    name = "episodic"

    def __init__(
        self,
        config: EpisodicConfig,
        *,
        store: VectorStore,
        embedder: Embedder,
        memory_dir: Path,
        llm: LLMClient | None = None,
    ) -> None:
        self.config = config
        self.index = LongTermIndex(store, embedder, memory_dir / "episodic_archive.jsonl")
        self.raw_log = memory_dir / "episodes.jsonl"
        fallback = EpisodicDecider(dedup_threshold=1.01)  # episodes consolidate by task key, not by wording
        if "llm" in (config.creator, config.decider) and llm is None:
            raise ValueError("episodic.creator/decider=llm needs an LLM client")
        self.creator: DeterministicEpisodeCreator | LLMEpisodeCreator = (
            LLMEpisodeCreator(llm) if config.creator == "llm" and llm else DeterministicEpisodeCreator()
        )
        self.decider: EpisodicDecider | LLMDecider = (
            LLMDecider(llm, fallback, role="memory.episodic") if config.decider == "llm" and llm else fallback
        )
        self.context: EpisodeContext | None = None
        self.steps: list[StepRecord] = []
        self.pending = PendingLog(memory_dir / "pending" / "episodic")
        self._last_step = -1
        self._lock = threading.Lock()
        self._logged = {str(r.get("episode_id")) for r in read_jsonl(self.raw_log) if isinstance(r, dict)}

    def begin_episode(self, context: EpisodeContext) -> None:
        self.context = context
        logged = self.pending.load(context.episode_id)  # non-empty only when resuming a killed episode
        self.steps = [StepRecord(r["action"], r["feedback"], r["success"]) for r in logged]
        self._last_step = max((int(r["step"]) for r in logged), default=-1)

    def update(self, summary: StepSummary) -> UpdateStats:
        if summary.action is None or summary.step <= self._last_step:
            return UpdateStats(self.name)
        record = StepRecord(summary.action, summary.feedback or "", bool(summary.action_success))
        with self._lock:
            self.pending.append(summary.context.episode_id, {**record.__dict__, "step": summary.step})
            self.steps.append(record)
            self._last_step = summary.step
        return UpdateStats(self.name, touched=1)

    def retrieve(self, queries: Sequence[str]) -> StoreResult:
        # No metadata filter: the collection holds episodes only, and a filtered query is slow in Chroma.
        hits = self.index.search(queries, self.config.top_k)
        limit = self.config.item_chars
        lines = tuple(
            h.item.text if len(h.item.text) <= limit else h.item.text[: limit - 3] + "..." for h in hits
        )
        data = [{"id": h.item.id, "text": h.item.text, "score": h.score, **h.item.metadata} for h in hits]
        return StoreResult(self.name, lines, data)

    def end_episode(self, outcome: EpisodeOutcome) -> UpdateStats:
        candidates = self.creator.create(outcome)
        decisions = [
            decide(self.decider, c, self.index.neighbours(c, self.config.n_update)) for c in candidates
        ]
        report = self.index.apply(
            candidates,
            decisions,
            episode_id=outcome.context.episode_id,
            now=outcome.time,
            new_id=outcome.context.episode_id,
        )
        self.index.evict_over(self.config.max_items)
        with self._lock:
            self.steps = []
            self.pending.clear(outcome.context.episode_id)
            if outcome.context.episode_id not in self._logged:
                # The raw trajectory, whatever the consolidation decided: experience is never lost.
                append_jsonl(
                    self.raw_log,
                    {
                        "episode_id": outcome.context.episode_id,
                        "site": outcome.context.site,
                        "text": render_trajectory(outcome),  # the raw trajectory, whoever wrote the item
                        "success": outcome.success,
                        "time": outcome.time,
                    },
                )
                self._logged.add(outcome.context.episode_id)
        return UpdateStats(
            self.name,
            touched=sum(report.counts.values()),
            details={**report.counts, "replays_skipped": report.skipped_replays},
        )

    def close(self) -> None:
        self.index.store.close()
