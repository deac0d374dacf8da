from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest

from robomem.embeddings.base import Embedder, Vectors
from robomem.embeddings.cache import CachedEmbedder
from robomem.testing.hashing import HashingEmbedder


class CountingEmbedder:
    """Hashing vectors, recording every batch it is asked to embed."""

    name = "counting"
    dim = 384

    def __init__(self) -> None:
        self.inner = HashingEmbedder()
        self.calls: list[list[str]] = []
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> Vectors:
        with self._lock:
            self.calls.append(list(texts))
        return self.inner.embed(texts)


def test_embeds_only_misses_in_one_batch() -> None:
    inner = CountingEmbedder()
    cache = CachedEmbedder(inner, max_items=10)
    assert isinstance(cache, Embedder)
    assert (cache.name, cache.dim) == ("counting", 384)

    first = cache.embed(["a", "b", "a"])
    assert inner.calls == [["a", "b"]], "duplicates within a call are embedded once"
    np.testing.assert_array_equal(first, HashingEmbedder().embed(["a", "b", "a"]))

    second = cache.embed(["b", "c", "a", "d"])
    assert inner.calls[-1] == ["c", "d"]
    np.testing.assert_array_equal(second, HashingEmbedder().embed(["b", "c", "a", "d"]))
    assert (cache.hits, cache.misses, len(cache)) == (2, 4, 4)

    cache.embed(["a", "b"])
    assert len(inner.calls) == 2, "all hits: the model is not called"
    assert cache.embed([]).shape == (0, 384)


def test_evicts_least_recently_used() -> None:
    inner = CountingEmbedder()
    cache = CachedEmbedder(inner, max_items=2)
    cache.embed(["a", "b"])
    cache.embed(["a"])  # a is now more recent than b
    cache.embed(["c"])  # evicts b
    assert len(cache) == 2
    cache.embed(["a", "c"])
    assert inner.calls[-1] == ["c"]
    cache.embed(["b"])
    assert inner.calls[-1] == ["b"]


def test_zero_size_disables_caching() -> None:
    inner = CountingEmbedder()
    cache = CachedEmbedder(inner, max_items=0)
    cache.embed(["a"])
    cache.embed(["a"])
    assert inner.calls == [["a"], ["a"]]
    assert len(cache) == 0
    with pytest.raises(ValueError, match="max_items"):
        CachedEmbedder(inner, max_items=-1)


def test_returned_arrays_are_independent_of_the_cache() -> None:
    cache = CachedEmbedder(CountingEmbedder(), max_items=10)
    out = cache.embed(["a"])
    out[:] = 0.0
    assert np.linalg.norm(cache.embed(["a"])[0]) == pytest.approx(1.0, abs=1e-5)


def test_threads_share_one_cache_safely() -> None:
    inner = CountingEmbedder()
    cache = CachedEmbedder(inner, max_items=40)
    texts = [f"text {i}" for i in range(60)]
    reference = HashingEmbedder().embed(texts)
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def work(seed: int) -> None:
        rng = np.random.default_rng(seed)
        barrier.wait(timeout=10)
        try:
            for _ in range(200):
                picks = rng.choice(len(texts), size=5)
                np.testing.assert_array_equal(cache.embed([texts[i] for i in picks]), reference[picks])
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures
    assert len(cache) <= 40
    assert cache.hits > 0


class GatedEmbedder(CountingEmbedder):
    """Blocks inside ``embed`` until released, so a second caller arrives while the first is embedding."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def embed(self, texts: Sequence[str]) -> Vectors:
        vectors = super().embed(texts)
        self.entered.set()
        assert self.release.wait(10), "the test never released the embedder"
        return vectors


def test_a_text_being_embedded_is_waited_for_not_embedded_again() -> None:
    inner = GatedEmbedder()
    cache = CachedEmbedder(inner, max_items=10)
    results: dict[str, Vectors] = {}
    first = threading.Thread(target=lambda: results.__setitem__("first", cache.embed(["q1", "q2"])))
    first.start()
    assert inner.entered.wait(10)
    second = threading.Thread(target=lambda: results.__setitem__("second", cache.embed(["q2", "q3"])))
    second.start()
    # The second caller embeds only what nobody is embedding yet, then waits for "q2".
    for _ in range(1000):  # at most ~10 s
        if len(inner.calls) == 2:
            break
        threading.Event().wait(0.01)
    inner.release.set()
    first.join(10)
    second.join(10)
    assert sorted(map(sorted, inner.calls)) == [["q1", "q2"], ["q3"]]
    np.testing.assert_array_equal(results["second"], HashingEmbedder().embed(["q2", "q3"]))


def test_a_failed_embedding_fails_its_waiters_and_is_retried_later() -> None:
    class Failing(GatedEmbedder):
        fail = True

        def embed(self, texts: Sequence[str]) -> Vectors:
            vectors = super().embed(texts)
            if self.fail:
                raise RuntimeError("model crashed")
            return vectors

    inner = Failing()
    cache = CachedEmbedder(inner, max_items=10)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            cache.embed(["q"])
        except RuntimeError as exc:
            errors.append(exc)

    first = threading.Thread(target=call)
    first.start()
    assert inner.entered.wait(10)
    second = threading.Thread(target=call)
    second.start()
    inner.release.set()
    first.join(10)
    second.join(10)
    assert len(errors) == 2, "the waiter gets the same error"
    inner.fail = False
    np.testing.assert_array_equal(cache.embed(["q"]), HashingEmbedder().embed(["q"]))
