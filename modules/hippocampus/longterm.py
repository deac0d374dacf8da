"""Shared machinery of the two long-term stores (episodic and semantic), updated the paper's way (after
Mem0): candidate items → the top-N most similar existing items → a decision per candidate, ADD / UPDATE /
DELETE / NOOP → applied.

Writes are idempotent per episode (item ids are deterministic and every item remembers which episodes
touched it), so an episode replayed after a crash never duplicates memory. Deleted and replaced texts are
appended to an archive file first: raw experience is never lost, only taken out of retrieval.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from modules.hippocampus.prompting import ask_json
from robomem.embeddings.base import Embedder, Vectors
from robomem.llm.base import LLMClient
from robomem.llm.policy import attempt
from robomem.storage import append_jsonl, read_jsonl
from robomem.stores.base import Metadata, VectorHit, VectorItem, VectorStore
from robomem.stores.ranking import top_k_rows

__all__ = (
    "Candidate",
    "Decision",
    "DeterministicDecider",
    "LLMDecider",
    "LongTermIndex",
    "Op",
    "PendingLog",
    "decide",
    "stable_id",
)

Op = Literal["ADD", "UPDATE", "DELETE", "NOOP"]


def stable_id(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=10).hexdigest()


class PendingLog:
    """What a long-term store buffers during an episode, appended to disk per step, so a process killed
    mid-episode resumes with the same buffer. Steps already logged are ignored (a re-run step)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, episode_id: str) -> Path:
        return self.folder / (re.sub(r"[^A-Za-z0-9._-]", "_", episode_id) + ".jsonl")

    def load(self, episode_id: str) -> list[dict[str, Any]]:
        return [r for r in read_jsonl(self._path(episode_id)) if isinstance(r, dict)]

    def append(self, episode_id: str, record: dict[str, Any]) -> None:
        append_jsonl(self._path(episode_id), record, durable=False)  # per-step scratch: see robomem.storage

    def clear(self, episode_id: str) -> None:
        self._path(episode_id).unlink(missing_ok=True)


@dataclass(frozen=True)
class Candidate:
    """A new item proposed by a creator. ``key`` is a structured identity when the creator knows one (two
    candidates with the same key are about the same fact); similarity is computed on ``embed_text``."""

    text: str
    metadata: dict[str, str | int | float | bool]
    key: str = ""
    embed_text: str = ""

    @property
    def similarity_text(self) -> str:
        return self.embed_text or self.text


@dataclass(frozen=True)
class Decision:
    op: Op
    #: The existing item an UPDATE/DELETE/NOOP refers to.
    target_id: str | None = None
    #: New text for ADD/UPDATE (defaults to the candidate's text).
    text: str | None = None
    reason: str = ""


@dataclass
class ApplyReport:
    counts: dict[str, int] = field(default_factory=lambda: {"ADD": 0, "UPDATE": 0, "DELETE": 0, "NOOP": 0})
    skipped_replays: int = 0


@dataclass(frozen=True)
class _Partition:
    """The items matching one filter and their vectors, held in process memory."""

    items: list[VectorItem]
    vectors: Vectors


def _filter_key(where: Metadata) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in where.items()))


class LongTermIndex:
    """One collection of long-term items plus its archive. Thread-safe for the memory system's fan-out.

    A store may *pin* filtered partitions (semantic memory pins the action-level lessons and the current
    house's task-level lessons at the start of an episode): searches with exactly that filter are then a
    small in-process matrix product instead of a filtered query, which some backends answer slowly (Chroma:
    0.1-0.4 s at 1e5 items, against ~10 ms unfiltered). Any write drops the pins (searches fall back to the
    store until the next :meth:`pin`), so a pin never serves stale items.
    """

    #: Largest partition pinned (384-d float32: 15 MB); a larger one is searched in the store.
    MAX_PINNED_ITEMS = 10_000

    def __init__(self, store: VectorStore, embedder: Embedder, archive: Path) -> None:
        self.store = store
        self.embedder = embedder
        self.archive = archive
        self._lock = threading.Lock()
        self._pins: dict[tuple[tuple[str, str], ...], _Partition] = {}

    def pin(self, filters: Sequence[Metadata]) -> int:
        """Load the partitions of ``filters`` (reloaded: another process may share the store) and drop
        every other pin. Returns the number of items pinned."""
        loaded: dict[tuple[tuple[str, str], ...], _Partition] = {}
        for where in filters:
            try:
                items, vectors = self.store.get_with_vectors(where)
            except NotImplementedError:
                break  # the backend cannot: every search goes to the store
            if len(items) <= self.MAX_PINNED_ITEMS:
                loaded[_filter_key(where)] = _Partition(items, vectors)
        with self._lock:
            self._pins = loaded
        return sum(len(p.items) for p in loaded.values())

    def similar(self, text: str, k: int, where: Metadata | None = None) -> list[VectorHit]:
        return self.search([text], k, where)

    def neighbours(self, candidate: Candidate, k: int, where: Metadata | None = None) -> list[VectorHit]:
        """The ``k`` stored items most similar to ``candidate``, plus any stored under the same key (which
        may rank below ``k`` near neighbours but is the one a decision must see)."""
        similar = self.similar(candidate.similarity_text, k, where)
        if not candidate.key:
            return similar
        known = {h.item.id for h in similar}
        keyed = self.store.get(where={"key": candidate.key})
        return [*similar, *(VectorHit(item, 1.0) for item in keyed if item.id not in known)]

    def search(self, queries: Sequence[str], k: int, where: Metadata | None = None) -> list[VectorHit]:
        """Best ``k`` items over all queries (an item's score is its best score for any query)."""
        if k <= 0 or not queries:
            return []
        vectors = self.embedder.embed(list(queries))
        with self._lock:
            pinned = self._pins.get(_filter_key(where)) if where else None
        if pinned is not None:
            return _search_partition(pinned, vectors, k)
        best: dict[str, VectorHit] = {}
        for hits in self.store.query(vectors, k, where):
            for hit in hits:
                if hit.item.id not in best or hit.score > best[hit.item.id].score:
                    best[hit.item.id] = hit
        return sorted(best.values(), key=lambda h: (-h.score, h.item.id))[:k]

    def apply(
        self,
        candidates: Sequence[Candidate],
        decisions: Sequence[Decision],
        *,
        episode_id: str,
        now: float,
        new_id: str,
    ) -> ApplyReport:
        """Apply one decision per candidate. ``new_id`` seeds the ids of added items."""
        report = ApplyReport()
        with self._lock:
            self._pins = {}
            for index, (candidate, decision) in enumerate(zip(candidates, decisions, strict=True)):
                target = self.store.get([decision.target_id])[0] if decision.target_id else None
                if target is not None and episode_id in _episodes(target):
                    report.skipped_replays += 1  # this episode already touched it (a resumed run)
                    continue
                if decision.op in ("DELETE", "NOOP") and target is None:
                    continue  # nothing to retract or to confirm
                if candidate.metadata.get("retract") and decision.op in ("ADD", "UPDATE"):
                    continue  # a retraction is never itself a memory (an LLM decider may say otherwise)
                if decision.op == "ADD" or target is None:
                    item_id = stable_id(new_id, candidate.key or candidate.text, str(index))
                    meta = {
                        **candidate.metadata,
                        "key": candidate.key,
                        "created": now,
                        "updated": now,
                        "count": 1,
                        "episodes": episode_id,
                    }
                    self._upsert(VectorItem(item_id, decision.text or candidate.text, meta), candidate)
                    report.counts["ADD"] += 1
                    continue
                assert target is not None
                touched = _touch(target, episode_id)
                count = int(target.metadata.get("count", 1)) + 1
                if decision.op == "DELETE":
                    self._archive("DELETE", target, decision.reason)
                    self.store.delete([target.id])
                elif decision.op == "UPDATE":
                    self._archive("UPDATE", target, decision.reason)
                    meta = {
                        **target.metadata,
                        **candidate.metadata,
                        "key": candidate.key,
                        "updated": now,
                        "count": count,
                        "episodes": touched,
                    }
                    self._upsert(VectorItem(target.id, decision.text or candidate.text, meta), candidate)
                else:  # NOOP: the fact is known; remember that it was seen again
                    meta = {**target.metadata, "updated": now, "count": count, "episodes": touched}
                    self.store.upsert(
                        [VectorItem(target.id, target.text, meta)], self.embedder.embed([_embed_text(target)])
                    )
                report.counts[decision.op] += 1
        return report

    def _upsert(self, item: VectorItem, candidate: Candidate) -> None:
        meta = {**item.metadata, "embed_text": candidate.similarity_text}
        self.store.upsert(
            [VectorItem(item.id, item.text, meta)], self.embedder.embed([candidate.similarity_text])
        )

    def _archive(self, op: str, item: VectorItem, reason: str) -> None:
        append_jsonl(
            self.archive,
            {"op": op, "id": item.id, "text": item.text, "metadata": item.metadata, "reason": reason},
        )

    def evict_over(self, max_items: int) -> int:
        """Archive and remove the least confirmed, least recently updated items beyond ``max_items``."""
        with self._lock:
            excess = self.store.count() - max_items
            if excess <= 0:
                return 0
            self._pins = {}
            items = self.store.get()
            items.sort(key=lambda i: (int(i.metadata.get("count", 1)), float(i.metadata.get("updated", 0.0))))
            for item in items[:excess]:
                self._archive("EVICT", item, f"over max_items={max_items}")
            self.store.delete([item.id for item in items[:excess]])
            return excess

    def items(self, where: Metadata | None = None) -> list[VectorItem]:
        return self.store.get(where=where)

    def archived(self) -> list[dict[str, Any]]:
        return [r for r in read_jsonl(self.archive) if isinstance(r, dict)]


def _search_partition(part: _Partition, queries: Vectors, k: int) -> list[VectorHit]:
    if not part.items:
        return []
    best = np.max(np.asarray(queries, dtype=np.float32) @ part.vectors.T, axis=0)
    hits = []
    for row in top_k_rows(best, k):
        item = part.items[int(row)]
        copy = VectorItem(item.id, item.text, dict(item.metadata))
        hits.append(VectorHit(copy, float(min(1.0, best[row]))))
    return sorted(hits, key=lambda h: (-h.score, h.item.id))


class Decider(Protocol):
    def decide(self, candidate: Candidate, similar: Sequence[VectorHit]) -> Decision: ...


def decide(decider: Decider, candidate: Candidate, similar: Sequence[VectorHit]) -> Decision:
    """``decider``'s decision, except that a retraction with nothing stored under its key is settled
    without asking (an LLM would be asked to retract nothing: half the episodic LLM calls were that)."""
    if candidate.metadata.get("retract") and not any(
        candidate.key and h.item.metadata.get("key") == candidate.key for h in similar
    ):
        return Decision("NOOP", None, reason="nothing to retract")
    return decider.decide(candidate, similar)


#: Episodes remembered per item: enough to recognise a replayed episode (always among the latest).
RECENT_EPISODES = 16


def _episodes(item: VectorItem) -> set[str]:
    return set(str(item.metadata.get("episodes", "")).split(","))


def _touch(item: VectorItem, episode_id: str) -> str:
    recent = [e for e in str(item.metadata.get("episodes", "")).split(",") if e]
    return ",".join([*recent, episode_id][-RECENT_EPISODES:])


def _embed_text(item: VectorItem) -> str:
    return str(item.metadata.get("embed_text", item.text))


DECISION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "op": {"type": "string", "enum": ["ADD", "UPDATE", "DELETE", "NOOP"]},
        "target_id": {"type": ["string", "null"]},
        "text": {"type": ["string", "null"]},
        "reason": {"type": "string"},
    },
    "required": ["op", "target_id", "text", "reason"],
    "additionalProperties": False,
}


class DeterministicDecider:
    """Same key and same text → NOOP; same key, new text → UPDATE (a retraction candidate → DELETE); no key
    match but a near-duplicate (cosine ≥ ``dedup_threshold``) → NOOP; otherwise ADD."""

    def __init__(self, dedup_threshold: float) -> None:
        self.dedup_threshold = dedup_threshold

    def decide(self, candidate: Candidate, similar: Sequence[VectorHit]) -> Decision:
        same_key = [h for h in similar if candidate.key and h.item.metadata.get("key") == candidate.key]
        if candidate.metadata.get("retract"):
            if same_key:
                return Decision("DELETE", same_key[0].item.id, reason="contradicted by a newer observation")
            return Decision("NOOP", None, reason="nothing to retract")
        if same_key:
            target = same_key[0].item
            if target.text == candidate.text:
                return Decision("NOOP", target.id, reason="already known")
            return Decision("UPDATE", target.id, reason="same fact, newer content")
        near = [h for h in similar if h.score >= self.dedup_threshold]
        if near:
            return Decision("NOOP", near[0].item.id, reason=f"near-duplicate (cosine {near[0].score:.2f})")
        return Decision("ADD", reason="new")


class LLMDecider:
    """The paper's LLM updater: shows the candidate and the top-N similar items, asks for one decision, and
    validates it (a target must be one of the items shown). An unusable reply or a failed call follows the
    role's policy (:mod:`robomem.llm.policy`): the run stops, or the deterministic decider decides."""

    def __init__(self, llm: LLMClient, fallback: DeterministicDecider, *, role: str) -> None:
        self.llm = llm
        self.fallback = fallback
        self.role = role
        self.failures = 0

    def decide(self, candidate: Candidate, similar: Sequence[VectorHit]) -> Decision:
        decision, _ = attempt(self.llm, self.role, lambda: self._ask(candidate, similar))
        if decision is None:
            self.failures += 1
            return self.fallback.decide(candidate, similar)
        return decision

    def _ask(self, candidate: Candidate, similar: Sequence[VectorHit]) -> tuple[Decision | None, str | None]:
        shown = {h.item.id: h.item for h in similar}
        existing = "\n".join(f"- id={i}: {item.text}" for i, item in shown.items()) or "(none)"
        data, error = ask_json(
            self.llm,
            role=self.role,
            prompt="longterm_decide",
            schema=DECISION_SCHEMA,
            essential=("op",),  # the target is checked against the op below; the reason is only a note
            candidate=candidate.text,
            existing=existing,
        )
        decision = _valid_decision(data, shown)
        if decision is None:
            return None, error or f"not a valid decision about the items shown: {data}"
        return decision, None


def _valid_decision(data: dict[str, Any] | None, shown: dict[str, VectorItem]) -> Decision | None:
    if data is None or data.get("op") not in ("ADD", "UPDATE", "DELETE", "NOOP"):
        return None
    op = data["op"]
    target = data.get("target_id")
    text = data.get("text")
    if op != "ADD" and target not in shown:
        return None
    if text is not None and not isinstance(text, str):
        return None
    reason = data.get("reason") if isinstance(data.get("reason"), str) else ""
    return Decision(op, target if op != "ADD" else None, text or None, f"llm: {reason}")
