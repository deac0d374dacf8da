"""Shared machinery of the two long-term stores (episodic and semantic), updated the paper's way (after
Mem0): candidate items → the top-N most similar existing items → a decision per candidate, ADD / UPDATE /
DELETE / NOOP → applied.

Writes are idempotent per episode (item ids are deterministic and every item remembers which episodes
touched it), so an episode replayed after a crash never duplicates memory. Deleted and replaced texts are
appended to an archive file first: raw experience is never lost, only taken out of retrieval.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from robomem.embeddings.base import Embedder, Vectors
from robomem.storage import append_jsonl, read_jsonl
from robomem.stores.base import Metadata, VectorHit, VectorItem, VectorStore
from robomem.stores.ranking import top_k_rows

__all__ = (
    "EVICT_SLACK",
    "Candidate",
    "Decision",
    "LongTermIndex",
    "Op",
    "decide",
    "decide_all",
    "stable_id",
)

Op = Literal["ADD", "UPDATE", "DELETE", "NOOP"]


def stable_id(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=10).hexdigest()


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
    #: LLM decisions taken again because another writer changed the candidate's neighbours meanwhile.
    redecided: int = 0


@dataclass(frozen=True)
class _Partition:
    """The items matching one filter and their vectors, held in process memory."""

    items: list[VectorItem]
    vectors: Vectors


def _filter_key(where: Metadata) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in where.items()))


#: Eviction goes this fraction of ``max_items`` below the cap (see :meth:`LongTermIndex.evict_over`).
EVICT_SLACK = 0.01


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
    #: Store answers kept for an unchanged store (a step asks a handful of queries).
    MAX_ANSWERS = 4096

    def __init__(self, store: VectorStore, embedder: Embedder, archive: Path) -> None:
        self.store = store
        self.embedder = embedder
        self.archive = archive
        self._lock = threading.Lock()
        self._pins: dict[tuple[tuple[str, str], ...], _Partition] = {}
        #: Store answers per (query text, (k, filter)), valid while the store's revision is
        #: :attr:`_answers_revision` (:meth:`_query`).
        self._answers: dict[tuple[str, tuple[int, tuple[tuple[str, str], ...]]], list[VectorHit]] = {}
        self._answers_revision: int | None = None

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
        for hits in self._query(queries, vectors, k, where):
            for hit in hits:
                if hit.item.id not in best or hit.score > best[hit.item.id].score:
                    best[hit.item.id] = hit
        return sorted(best.values(), key=lambda h: (-h.score, h.item.id))[:k]

    def _query(
        self, queries: Sequence[str], vectors: Vectors, k: int, where: Metadata | None
    ) -> list[list[VectorHit]]:
        """The store's hits for each query, from :attr:`_answers` where the store has not changed since (a
        step asks mostly what the step before asked: the instruction, the goal's objects). Each query's
        hits are the store's own for that query alone, so the merged result is the same either way."""
        revision = self.store.revision()
        if revision is None:
            return self.store.query(vectors, k, where)
        scope = (k, _filter_key(where) if where else ())
        with self._lock:
            if self._answers_revision != revision:
                self._answers, self._answers_revision = {}, revision
            known = {q: self._answers.get((q, scope)) for q in queries}
        missing = [i for i, q in enumerate(queries) if known[q] is None]
        if missing:
            asked = self.store.query(vectors[missing], k, where)
            with self._lock:
                keep = self._answers_revision == revision and self.store.revision() == revision
                if len(self._answers) > self.MAX_ANSWERS:
                    self._answers = {}
                for i, hits in zip(missing, asked, strict=True):
                    known[queries[i]] = hits
                    if keep:
                        self._answers[(queries[i], scope)] = hits
        # Copies: a caller may change an item's metadata, the kept answer must not change with it.
        return [[_copy(h) for h in known[q] or ()] for q in queries]

    def unpin(self) -> None:
        with self._lock:
            self._pins = {}

    def consolidate(
        self,
        candidates: Sequence[Candidate],
        decider: Decider,
        *,
        n_update: int,
        partition: Callable[[Candidate], Metadata | None] = lambda _: None,
        episode_id: str,
        now: float,
        new_id: str,
        on_decided: Callable[[list[Decision]], None] | None = None,
    ) -> ApplyReport:
        """Decide on each candidate (against its ``n_update`` neighbours in its ``partition``) and apply the
        decisions, as one read-modify-write under the store's write lock: writers sharing the store (robots
        on one Chroma server) take turns, and each decides on what the others wrote. Without it, two robots
        learning one lesson at once both added it and the store kept one, with count 1.

        An LLM decider first decides outside the lock, all candidates in parallel (the fleet does not wait
        for LLM calls); under the lock a candidate whose neighbours another writer changed meanwhile is
        decided again on what is there now. ``on_decided`` sees the final decisions before anything is
        applied (the store's pending log records them, so a killed process re-applies them)."""

        def neighbours(candidate: Candidate) -> list[VectorHit]:
            return self.neighbours(candidate, n_update, partition(candidate))

        shared = self.store.shared
        if shared:
            self.unpin()  # pinned partitions predate the other robots' latest writes
        early: list[tuple[list[VectorHit], Decision]] = []
        if getattr(decider, "asks_model", False):
            seen = [neighbours(candidate) for candidate in candidates]
            early = list(
                zip(seen, decide_all(decider, list(zip(candidates, seen, strict=True))), strict=True)
            )
        with self.store.write_lock():
            if shared:
                self.unpin()
            decisions: list[Decision] = []
            redecided = 0
            for index, candidate in enumerate(candidates):
                if early and not shared:
                    decisions.append(early[index][1])  # nobody else writes this store
                    continue
                fresh = neighbours(candidate)
                if early and _state(fresh) == _state(early[index][0]):
                    decisions.append(early[index][1])
                    continue
                redecided += bool(early)
                decisions.append(decide(decider, candidate, fresh))
            if on_decided is not None:
                on_decided(decisions)
            report = self.apply(candidates, decisions, episode_id=episode_id, now=now, new_id=new_id)
        report.redecided = redecided
        return report

    def apply(
        self,
        candidates: Sequence[Candidate],
        decisions: Sequence[Decision],
        *,
        episode_id: str,
        now: float,
        new_id: str,
    ) -> ApplyReport:
        """Apply one decision per candidate. ``new_id`` seeds the ids of added items. On a shared store,
        call it under :meth:`VectorStore.write_lock` with decisions taken under it (:meth:`consolidate`)."""
        report = ApplyReport()
        with self._lock:
            self._pins = {}
            for index, (candidate, decision) in enumerate(zip(candidates, decisions, strict=True)):
                found = self.store.get([decision.target_id]) if decision.target_id else []
                target = found[0] if found else None  # gone: deleted (maybe by this very episode, replayed)
                if target is not None and episode_id in _episodes(target):
                    report.skipped_replays += 1  # this episode already touched it (a resumed run)
                    continue
                if decision.op in ("DELETE", "NOOP") and target is None:
                    continue  # nothing to retract or to confirm
                if candidate.metadata.get("retract") and decision.op in ("ADD", "UPDATE"):
                    continue  # a retraction is never itself a memory (an LLM decider may say otherwise)
                if decision.op == "ADD" or target is None:
                    item_id = stable_id(new_id, candidate.key or candidate.text, str(index))
                    stored = self.store.get([item_id])
                    if stored:
                        # The same fact under the same id, written meanwhile: an ADD never overwrites (it
                        # would drop the stored count and episodes), it confirms what is there.
                        target = stored[0]
                        if episode_id in _episodes(target):
                            report.skipped_replays += 1
                            continue
                        self._confirm(target, episode_id, now)
                        report.counts["NOOP"] += 1
                        continue
                    meta = {
                        **candidate.metadata,
                        "key": candidate.key,
                        "created": now,
                        "updated": now,
                        "count": 1,
                        "episodes": _touch(None, episode_id),
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
                    self._confirm(target, episode_id, now)
                report.counts[decision.op] += 1
        return report

    def _confirm(self, target: VectorItem, episode_id: str, now: float) -> None:
        count = int(target.metadata.get("count", 1)) + 1
        meta = {**target.metadata, "updated": now, "count": count, "episodes": _touch(target, episode_id)}
        self.store.upsert(
            [VectorItem(target.id, target.text, meta)], self.embedder.embed([_embed_text(target)])
        )

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
        """Archive and remove the least confirmed, least recently updated items beyond ``max_items``, and
        ``EVICT_SLACK`` of ``max_items`` more: choosing them reads every item (~1 s of CPU at the 20k-lesson
        cap, beside the episode's last step), so a full memory pays it every ~200 new lessons rather than
        after every episode (the spatial graph's ``evict_batch``, for long-term memory)."""
        if self.store.count() <= max_items:
            return 0
        with self.store.write_lock(), self._lock:  # two robots evicting at once would evict twice
            count = self.store.count()
            if count <= max_items:
                return 0
            excess = min(count, count - max_items + int(max_items * EVICT_SLACK))
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


def _copy(hit: VectorHit) -> VectorHit:
    return VectorHit(VectorItem(hit.item.id, hit.item.text, dict(hit.item.metadata)), hit.score)


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


def decide_all(decider: Decider, asks: Sequence[tuple[Candidate, Sequence[VectorHit]]]) -> list[Decision]:
    """:func:`decide` for each ``(candidate, similar)``, in order. Each is judged against the store as it was
    before any of them is applied, so they are independent: with more than one they run in parallel (an LLM
    decider's calls overlap, so an episode's consolidation costs one decision latency, not one each)."""
    if len(asks) < 2:
        return [decide(decider, c, similar) for c, similar in asks]
    with ThreadPoolExecutor(max_workers=min(8, len(asks)), thread_name_prefix="decide") as pool:
        return list(pool.map(lambda ask: decide(decider, *ask), asks))


#: Episodes remembered per item: enough to recognise a replayed episode (always among the latest).
RECENT_EPISODES = 16


def _state(hits: Sequence[VectorHit]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """What a decision saw of its neighbours (not their scores, which differ between a pinned partition
    and the store)."""
    return sorted(
        (h.item.id, h.item.text, sorted((k, repr(v)) for k, v in h.item.metadata.items())) for h in hits
    )


def _episodes(item: VectorItem) -> list[str]:
    """The ids in an item's ``episodes`` field: comma-separated, with ``%`` and ``,`` inside an id escaped
    (a run folder may be named ``a,b``)."""
    raw = str(item.metadata.get("episodes", ""))
    return [e.replace("%2C", ",").replace("%25", "%") for e in raw.split(",") if e]


def _touch(item: VectorItem | None, episode_id: str) -> str:
    recent = [*(_episodes(item) if item is not None else []), episode_id][-RECENT_EPISODES:]
    return ",".join(e.replace("%", "%25").replace(",", "%2C") for e in recent)


def _embed_text(item: VectorItem) -> str:
    return str(item.metadata.get("embed_text", item.text))
