"""An LRU cache in front of any embedder: agents re-embed the same observations and skill names every step."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from robomem.embeddings.base import Embedder, Vectors

__all__ = ("CachedEmbedder",)


class CachedEmbedder:
    """Caches vectors by exact text, evicting the least recently used beyond ``max_items``.

    Same protocol as the wrapped embedder (``name`` and ``dim`` are the inner ones, so stores see no
    difference). Thread-safe: the lock guards only the dictionary, never the model call, so concurrent
    callers embed in parallel. Each call embeds its misses (deduplicated) in one batch. ``max_items=0``
    disables caching.
    """

    def __init__(self, inner: Embedder, max_items: int = 50_000) -> None:
        if max_items < 0:
            raise ValueError("max_items must be >= 0")
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.max_items = max_items
        self._items: OrderedDict[str, Vectors] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

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
        missing: dict[str, list[int]] = {}
        with self._lock:
            for row, text in enumerate(texts):
                vector = self._items.get(text)
                if vector is None:
                    missing.setdefault(text, []).append(row)
                else:
                    self._items.move_to_end(text)
                    out[row] = vector
            self.hits += len(texts) - sum(len(rows) for rows in missing.values())
            self.misses += len(missing)
        if not missing:
            return out
        # The model runs outside the lock; two threads may occasionally embed the same new text, which is
        # harmless (deterministic) and cheaper than serialising every call.
        fresh = np.asarray(self.inner.embed(list(missing)), dtype=np.float32)
        if fresh.shape != (len(missing), self.dim):
            raise ValueError(
                f"{self.inner.name} returned shape {fresh.shape}, expected {(len(missing), self.dim)}"
            )
        with self._lock:
            for vector, (text, rows) in zip(fresh, missing.items(), strict=True):
                out[rows] = vector
                if self.max_items:
                    stored = vector.copy()
                    stored.flags.writeable = False  # cached rows are shared; nobody may mutate them
                    self._items[text] = stored
                    self._items.move_to_end(text)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return out
