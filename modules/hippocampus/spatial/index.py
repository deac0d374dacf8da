"""Per-site embedding matrix of vertex names, for the top-n similarity step (Algorithm 2, line 2).

Rows are appended as vertices appear and tombstoned when they go (compacted once half the rows are dead), so
no update re-embeds the graph. Names are embedded once per process (vectors also persist in SQLite).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from robomem.embeddings.base import Embedder, Vectors

__all__ = ("NameIndex",)

_CACHE_MAX_CHARS = 80


class NameIndex:
    """Cosine top-n over vertex names. Similarity = dot product (the embedder returns unit vectors)."""

    def __init__(self, embedder: Embedder, cache: dict[str, np.ndarray] | None = None) -> None:
        self.embedder = embedder
        self._buffer: Vectors = np.zeros((0, embedder.dim), dtype=np.float32)
        #: The live prefix of ``_buffer``: one row per name ever added (dead rows zeroed until compaction).
        self._matrix: Vectors = self._buffer
        self._names: list[str | None] = []
        self._row: dict[str, int] = {}
        #: Shared across reloads and sites (same embedder), so a name is embedded once per process.
        self._cache: dict[str, np.ndarray] = {} if cache is None else cache

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, name: object) -> bool:
        return name in self._row

    def vector(self, name: str) -> np.ndarray | None:
        row = self._row.get(name)
        return None if row is None else self._matrix[row]

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed with a per-process cache for short texts (names recur every step; long step summaries
        never do, so they are not kept)."""
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        fresh: dict[str, np.ndarray] = {}
        if missing:
            for text, vec in zip(missing, self.embedder.embed(missing), strict=True):
                fresh[text] = vec
                if len(text) <= _CACHE_MAX_CHARS:
                    self._cache[text] = vec
        rows = [fresh[t] if t in fresh else self._cache[t] for t in texts]
        return np.stack(rows).astype(np.float32, copy=False)

    def add(self, names: Iterable[str], known: Mapping[str, np.ndarray] | None = None) -> None:
        """Append rows for new names; ``known`` supplies stored vectors (no re-embedding on load)."""
        fresh = [n for n in dict.fromkeys(names) if n not in self._row]
        if not fresh:
            return
        known = known or {}
        for name in fresh:
            vec = known.get(name)
            if vec is not None and vec.shape == (self.embedder.dim,):
                self._cache.setdefault(name, vec.astype(np.float32))
        vectors = self.embed(fresh)
        start = len(self._names)
        self._reserve(start + len(fresh))
        self._buffer[start : start + len(fresh)] = vectors
        self._matrix = self._buffer[: start + len(fresh)]
        for offset, name in enumerate(fresh):
            self._names.append(name)
            self._row[name] = start + offset

    def _reserve(self, rows: int) -> None:
        """Grow the backing buffer geometrically, so appending a row is amortised O(dim), not O(rows)."""
        if rows > len(self._buffer):
            grown = np.zeros((max(rows, 2 * len(self._buffer), 64), self.embedder.dim), dtype=np.float32)
            grown[: len(self._names)] = self._matrix
            self._buffer = grown

    def remove(self, names: Iterable[str]) -> None:
        for name in names:
            row = self._row.pop(name, None)
            if row is not None:
                self._names[row] = None
                self._matrix[row] = 0.0
        if len(self._names) > 64 and len(self._row) < len(self._names) // 2:
            self._compact()

    def _compact(self) -> None:
        keep = [i for i, n in enumerate(self._names) if n is not None]
        self._buffer = self._matrix[keep].copy()
        self._matrix = self._buffer
        self._names = [self._names[i] for i in keep]
        self._row = {n: i for i, n in enumerate(self._names) if n is not None}

    def top(
        self, queries: Sequence[str], n: int, min_similarity: float = 0.0
    ) -> list[list[tuple[str, float]]]:
        """For each query, up to ``n`` ``(name, cosine)`` pairs, best first."""
        if not queries or not self._row:
            return [[] for _ in queries]
        scores = self.embed(list(queries)) @ self._matrix.T
        out: list[list[tuple[str, float]]] = []
        live = len(self._row)
        for row in scores:
            k = min(n + (len(self._names) - live), len(self._names))
            candidates = np.argpartition(-row, k - 1)[:k] if k < len(self._names) else np.arange(len(row))
            ranked = sorted(candidates.tolist(), key=lambda i: (-float(row[i]), i))
            hits: list[tuple[str, float]] = []
            for i in ranked:
                name = self._names[i]
                if name is None or float(row[i]) < min_similarity:
                    continue
                hits.append((name, float(row[i])))
                if len(hits) == n:
                    break
            out.append(hits)
        return out
