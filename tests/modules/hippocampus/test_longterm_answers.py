"""The long-term index keeps a store's answers while the store cannot have changed (its revision): a repeated
query is not asked again, any write — through the index, straight to the store, or through another store
object on the same collection — makes it ask again, and a store that cannot count every write (a shared
server) is always asked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from modules.hippocampus.longterm import LongTermIndex
from robomem.embeddings.base import Vectors
from robomem.stores.base import Metadata, VectorHit, VectorItem, VectorStore
from robomem.stores.chroma import ChromaVectorStore
from robomem.stores.exact import ExactVectorStore
from tests.modules.hippocampus.memory_helpers import EMBEDDER

TEXTS = [
    "Task: put a mug in the sink",
    "Task: slice the apple on the counter",
    "Task: heat a potato in the microwave",
    "Task: put two pencils in the drawer",
]
QUERIES = ["put the mug in the sink", "Mug", "slice an apple"]


class Counting(VectorStore):
    """Forwards to a real store and counts the query vectors it is asked (no behaviour of its own)."""

    def __init__(self, inner: VectorStore) -> None:
        self.inner = inner
        self.asked: list[int] = []

    def revision(self) -> int | None:
        return self.inner.revision()

    def upsert(self, items: Sequence[VectorItem], vectors: Vectors) -> None:
        self.inner.upsert(items, vectors)

    def query(self, vectors: Vectors, k: int, where: Metadata | None = None) -> list[list[VectorHit]]:
        self.asked.append(len(vectors))
        return self.inner.query(vectors, k, where)

    def get(self, ids: Sequence[str] | None = None, where: Metadata | None = None) -> list[VectorItem]:
        return self.inner.get(ids, where)

    def delete(self, ids: Sequence[str]) -> None:
        self.inner.delete(ids)

    def count(self) -> int:
        return self.inner.count()

    def close(self) -> None:
        self.inner.close()


def _chroma(path: Path) -> ChromaVectorStore:
    return ChromaVectorStore.persistent(
        path, collection="episodic", embedder_name=EMBEDDER.name, dim=EMBEDDER.dim
    )


def _fill(store: VectorStore, texts: Sequence[str], first: int = 0) -> None:
    items = [VectorItem(f"e{first + i}", text, {"site": "house_1"}) for i, text in enumerate(texts)]
    store.upsert(items, EMBEDDER.embed([i.text for i in items]))


def _ids(hits: Sequence[VectorHit]) -> list[tuple[str, float]]:
    return [(h.item.id, round(h.score, 6)) for h in hits]


def test_a_repeated_query_is_answered_without_asking_the_store_again(tmp_path: Path) -> None:
    store = Counting(_chroma(tmp_path / "db"))
    try:
        _fill(store, TEXTS)
        index = LongTermIndex(store, EMBEDDER, tmp_path / "archive.jsonl")
        first = index.search(QUERIES, 2)
        assert store.asked == [3]
        # The next step asks two of the same queries and a new one: only the new one reaches the store.
        again = index.search([*QUERIES[:2], "heat a potato"], 2)
        assert store.asked == [3, 1]
        assert _ids(index.search(QUERIES, 2)) == _ids(first)
        assert store.asked == [3, 1]
        # The same answers as a store asked afresh.
        fresh = LongTermIndex(_chroma(tmp_path / "db"), EMBEDDER, tmp_path / "other.jsonl")
        assert _ids(again) == _ids(fresh.search([*QUERIES[:2], "heat a potato"], 2))
        fresh.store.close()
    finally:
        store.close()


def test_any_write_to_the_collection_makes_the_index_ask_again(tmp_path: Path) -> None:
    store = Counting(_chroma(tmp_path / "db"))
    other = _chroma(tmp_path / "db")  # another store object on the same collection, in this process
    try:
        _fill(store, TEXTS)
        index = LongTermIndex(store, EMBEDDER, tmp_path / "archive.jsonl")
        before = index.search(QUERIES, 1)
        assert before[0].item.text == TEXTS[0]
        _fill(other, ["Task: put the mug in the sink"], first=10)  # now the best answer to the first query
        after = index.search(QUERIES, 1)
        assert store.asked == [3, 3]
        assert after[0].item.id == "e10"
        other.delete(["e10"])
        assert _ids(index.search(QUERIES, 1)) == _ids(before)
        assert store.asked == [3, 3, 3]
    finally:
        other.close()
        store.close()


def test_answers_are_copies_a_caller_cannot_change(tmp_path: Path) -> None:
    store = _chroma(tmp_path / "db")
    try:
        _fill(store, TEXTS)
        index = LongTermIndex(store, EMBEDDER, tmp_path / "archive.jsonl")
        index.search(QUERIES, 2)[0].item.metadata["site"] = "changed"
        assert {h.item.metadata["site"] for h in index.search(QUERIES, 2)} == {"house_1"}
    finally:
        store.close()


def test_a_store_that_cannot_count_its_writes_is_always_asked(tmp_path: Path) -> None:
    exact = Counting(ExactVectorStore(None, embedder_name=EMBEDDER.name, dim=EMBEDDER.dim))
    _fill(exact, TEXTS)
    index = LongTermIndex(exact, EMBEDDER, tmp_path / "archive.jsonl")
    index.search(QUERIES, 2)
    index.search(QUERIES, 2)
    assert exact.asked == [3, 3]


def test_a_shared_chroma_collection_has_no_revision(tmp_path: Path) -> None:
    local = _chroma(tmp_path / "db")
    try:
        assert local.revision() is not None
        # What `ChromaVectorStore.http` builds: a collection other writers share, with a server lock.
        shared = ChromaVectorStore(local.collection, dim=EMBEDDER.dim, lock=lambda: local.write_lock())
        assert shared.shared and shared.revision() is None
    finally:
        local.close()
