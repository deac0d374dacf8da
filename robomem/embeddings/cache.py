"""An LRU cache in front of any embedder: agents re-embed the same observations and skill names every step."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Future

import numpy as np

from robomem.embeddings.base import Embedder, Vectors

__all__ = ("CachedEmbedder",)


class CachedEmbedder:
    """Caches vectors by exact text, evicting the least recently used beyond ``max_items``.

    Same protocol as the wrapped embedder (``name`` and ``dim`` are the inner ones, so stores see no
    difference). Thread-safe: the lock guards only the dictionaries, never the model call, so concurrent
    callers embed different texts in parallel, while a text already being embedded by another thread is
    waited for, not embedded twice. Each call embeds its misses (deduplicated) in one batch.
    ``max_items=0`` disables caching (but still shares in-flight work).
    """

    def __init__(self, inner: Embedder, max_items: int = 50_000) -> None:
        if max_items < 0:
            raise ValueError("max_items must be >= 0")
        self.inner = inner
        self.name = inner.name
        self.max_items = max_items
        self._items: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()
        #: Texts being embedded by some thread, so a concurrent caller waits instead of embedding them again.
        self._inflight: dict[str, Future[Vectors]] = {}
        self.hits = 0
        self.misses = 0

    @property
    def dim(self) -> int:
        # Read through: an endpoint embedder learns its dimension from its first reply.
        return self.inner.dim

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.hits = self.misses = 0

    def embed(self, texts: Sequence[str]) -> Vectors:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single str")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        mine: dict[str, list[int]] = {}
        theirs: dict[str, tuple[Future[Vectors], list[int]]] = {}
        with self._lock:
            for row, text in enumerate(texts):
                vector = self._items.get(text)
                if vector is not None:
                    self._items.move_to_end(text)
                    out[row] = vector
                elif text in mine:
                    mine[text].append(row)
                elif text in self._inflight:
                    # Another thread is embedding it right now (the memory fan-out retrieves the same
                    # queries in three stores at once): wait for its vector instead of computing it again.
                    theirs.setdefault(text, (self._inflight[text], []))[1].append(row)
                else:
                    mine[text] = [row]
                    self._inflight[text] = Future()
            waited = sum(len(rows) for _, rows in theirs.values())
            self.hits += len(texts) - sum(len(rows) for rows in mine.values()) - waited
            self.misses += len(mine)
        if mine:
            self._embed_mine(mine, out)
        for future, rows in theirs.values():
            out[rows] = future.result()
        return out

    def _embed_mine(self, mine: dict[str, list[int]], out: Vectors) -> None:
        """Embed this call's misses outside the lock, publish them to waiting threads and the cache."""
        try:
            fresh = np.asarray(self.inner.embed(list(mine)), dtype=np.float32)
            if fresh.shape != (len(mine), self.dim):
                raise ValueError(
                    f"{self.inner.name} returned shape {fresh.shape}, expected {(len(mine), self.dim)}"
                )
        except BaseException as exc:
            with self._lock:
                for text in mine:
                    self._inflight.pop(text).set_exception(exc)
            raise
        with self._lock:
            for vector, (text, rows) in zip(fresh, mine.items(), strict=True):
                out[rows] = vector
                stored = vector.copy()
                stored.flags.writeable = False  # cached rows are shared; nobody may mutate them
                self._inflight.pop(text).set_result(stored)
                if self.max_items:
                    self._items[text] = stored
                    self._items.move_to_end(text)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
