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

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modules.hippocampus.base import (
    EpisodeContext,
    EpisodeOutcome,
    MemoryStore,
    StepRecord,
    StepSummary,
    StoreResult,
    UpdateStats,
)
from modules.hippocampus.deciders import DeterministicDecider, LLMDecider
from modules.hippocampus.episodic_items import (
    DeterministicEpisodeCreator,
    EpisodeCreator,
    LLMEpisodeCreator,
    episode_candidates,
    render_trajectory,
)

# Importable from here too, as before the items moved out (bench.step_overhead reads it).
from modules.hippocampus.episodic_items import _norm as _norm
from modules.hippocampus.longterm import (
    Candidate,
    Decider,
    Decision,
    LongTermIndex,
    decide_all,
)
from modules.hippocampus.pending import PendingLog, consolidate_once
from modules.hippocampus.prompting import tell_robot
from modules.hippocampus.variants import EPISODIC_CREATORS, EPISODIC_DECIDERS
from robomem.embeddings.base import Embedder
from robomem.errors import StoreError
from robomem.llm.base import LLMClient
from robomem.storage import append_jsonl, scan_jsonl
from robomem.stores.base import VectorHit, VectorStore

log = logging.getLogger(__name__)

#: What every line of the raw episode log (``episodes.jsonl``) holds.
RAW_LOG_KEYS = ("episode_id", "text")

__all__ = (
    "DeterministicEpisodeCreator",
    "EpisodeCreator",
    "EpisodicConfig",
    "EpisodicDecider",
    "EpisodicMemory",
    "LLMEpisodeCreator",
    "check_raw_log",
    "episode_candidates",
    "render_trajectory",
)


class EpisodicConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    top_k: int = Field(default=5, ge=0)
    #: Besides the ``top_k`` most similar episodes of any site, up to this many of the current site's own
    #: (what happened in this house: where the mug was taken from), when they rank below other houses'.
    site_k: int = Field(default=5, ge=0)
    n_update: int = Field(default=10, ge=1)
    #: Who writes the memory item: ``deterministic`` (the trajectory itself), ``llm`` (the model's
    #: account), or a ``robomem.memory.episodic_creators`` entry point.
    creator: str = "deterministic"
    #: ``deterministic``, ``llm``, or a ``robomem.memory.episodic_deciders`` entry point.
    decider: str = "deterministic"
    #: Characters of one episode shown to the planner.
    item_chars: int = Field(default=600, ge=100)
    max_items: int = Field(default=100_000, ge=10)

    @field_validator("creator")
    @classmethod
    def _known_creator(cls, value: str) -> str:
        return EPISODIC_CREATORS.check_name(value)

    @field_validator("decider")
    @classmethod
    def _known(cls, value: str) -> str:
        return EPISODIC_DECIDERS.check_name(value)


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


def check_raw_log(path: Path) -> list[dict[str, object]]:
    """The raw episode log's records. Lines that are not records are refused (the log is append-only: robomem
    never wrote them, and appending after them would keep them for good); a last line cut short by a crash
    mid-append is cut off, so the next record starts on a line of its own."""
    scan = scan_jsonl(path, required=RAW_LOG_KEYS)
    if scan.bad_lines:
        raise StoreError(scan.describe_bad(path), hint="fix or remove those lines")
    if scan.torn_tail:
        data = path.read_bytes()
        with path.open("r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)
        log.warning("%s: cut off a last line left unfinished by a crash", path)
    return scan.records


@EPISODIC_CREATORS.register("deterministic", EpisodicConfig)
def _deterministic_creator(
    config: EpisodicConfig, *, llm: LLMClient | None, fallback: DeterministicEpisodeCreator
) -> EpisodeCreator:
    return fallback


@EPISODIC_CREATORS.register("llm", EpisodicConfig)
def _llm_creator(
    config: EpisodicConfig, *, llm: LLMClient | None, fallback: DeterministicEpisodeCreator
) -> EpisodeCreator:
    if llm is None:
        raise ValueError("episodic.creator=llm needs an LLM client")
    return LLMEpisodeCreator(llm, fallback)


@EPISODIC_DECIDERS.register("deterministic", EpisodicConfig)
def _deterministic(config: EpisodicConfig, *, llm: LLMClient | None, fallback: EpisodicDecider) -> Decider:
    return fallback


@EPISODIC_DECIDERS.register("llm", EpisodicConfig)
def _llm(config: EpisodicConfig, *, llm: LLMClient | None, fallback: EpisodicDecider) -> Decider:
    if llm is None:
        raise ValueError("episodic.decider=llm needs an LLM client")
    return LLMDecider(llm, fallback, role="memory.episodic")


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
        make_creator = EPISODIC_CREATORS.get(config.creator).factory
        self.creator: EpisodeCreator = make_creator(config, llm=llm, fallback=DeterministicEpisodeCreator())
        factory = EPISODIC_DECIDERS.get(config.decider).factory
        self.decider: Decider = factory(config, llm=llm, fallback=fallback)
        self.context: EpisodeContext | None = None
        self.steps: list[StepRecord] = []
        self.pending = PendingLog(memory_dir / "pending" / "episodic")
        self._last_step = -1
        self._lock = threading.Lock()
        self._logged = {str(r.get("episode_id")) for r in check_raw_log(self.raw_log)}

    def begin_episode(self, context: EpisodeContext) -> None:
        self.context = context
        tell_robot(self.decider, context.robot)
        if self.config.site_k:
            self.index.pin([{"site": context.site}])  # searched locally: a filtered Chroma query is slow
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
        if self.config.site_k and self.context is not None:
            known = {h.item.id for h in hits}
            own = self.index.search(queries, self.config.site_k, {"site": self.context.site})
            hits += [h for h in own if h.item.id not in known]
        limit = self.config.item_chars
        lines = tuple(
            h.item.text if len(h.item.text) <= limit else h.item.text[: limit - 3] + "..." for h in hits
        )
        data = [{"id": h.item.id, "text": h.item.text, "score": h.score, **h.item.metadata} for h in hits]
        return StoreResult(self.name, lines, data)

    def _create(self, outcome: EpisodeOutcome) -> list[Candidate]:
        """The episode's items. With the model both writing the item (Creator) and deciding on it, the two
        calls overlap instead of running in a row: the decider judges the trajectory itself (the item's
        neighbours are found by its task, whoever words it), and its decisions are taken for the Creator's
        items (:meth:`LLMDecider.preset`; a shared store still re-decides under its lock if they moved)."""
        if not (isinstance(self.creator, LLMEpisodeCreator) and isinstance(self.decider, LLMDecider)):
            return self.creator.create(outcome)
        raw = episode_candidates(outcome)
        asks = [(c, self.index.neighbours(c, self.config.n_update)) for c in raw]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="episodic-decide") as pool:
            decided = pool.submit(decide_all, self.decider, asks)
            made = self.creator.create(outcome)
            decisions = decided.result()
        self.decider.preset(
            list(zip(made, decisions, strict=True)), [h.item.id for _, hits in asks for h in hits]
        )
        return made

    def end_episode(self, outcome: EpisodeOutcome) -> UpdateStats:
        episode_id = outcome.context.episode_id
        tell_robot(self.decider, outcome.context.robot)  # the episode's own wording, even if none began
        if episode_id in self._logged:  # consolidated before the process died: only the cleanup is left
            with self._lock:
                self.steps = []
                self.pending.clear(episode_id)
            return UpdateStats(self.name, details={"already_consolidated": True})

        report = consolidate_once(
            self.index,
            self.pending,
            episode_id,
            # Only when no intent is saved: a resumed consolidation does not ask the creator again.
            lambda: self._create(outcome),
            self.decider,
            n_update=self.config.n_update,
            now=outcome.time,
            new_id=episode_id,
        )
        self.index.evict_over(self.config.max_items)
        with self._lock:
            # The raw trajectory, whatever the consolidation decided: experience is never lost. It is also
            # the record that the episode is consolidated, so it comes before the intent is cleared.
            append_jsonl(
                self.raw_log,
                {
                    "episode_id": episode_id,
                    "site": outcome.context.site,
                    "text": render_trajectory(outcome),  # the raw trajectory, whoever wrote the item
                    "success": outcome.success,
                    "time": outcome.time,
                },
            )
            self._logged.add(episode_id)
            self.steps = []
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

    def close(self) -> None:
        self.index.store.close()
