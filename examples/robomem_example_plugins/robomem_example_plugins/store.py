"""``agent.memory.vector.type: jsonfile``: brute-force cosine search over items kept in one JSON file per
collection, rewritten atomically on every change. Small and slow: an example of the vector-store contract
(:class:`robomem.stores.base.VectorStore`), checked by robomem's public conformance suite."""

from __future__ import annotations

import json
import math
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from robomem.embeddings.base import Vectors
from robomem.errors import StoreError
from robomem.stores.base import Metadata, VectorHit, VectorItem, VectorStore
from robomem.stores.config import VectorConfig


class JsonFileConfig(VectorConfig):
    """The common vector-store fields (``namespace`` ...) plus this store's own."""

    type: str = "jsonfile"
    #: Indent the file for people to read (bigger, slower).
    pretty: bool = False


class JsonFileStore(VectorStore):
    Config = JsonFileConfig

    def __init__(
        self, config: JsonFileConfig, *, memory_dir: Path, name: str, embedder_name: str, dim: int
    ) -> None:
        self._path = Path(memory_dir) / "jsonfile" / f"{config.namespace}_{name}.json"
        self._pretty = config.pretty
        self._dim = dim
        self._lock = threading.Lock()
        self._items: dict[str, tuple[VectorItem, list[float]]] = {}
        if self._path.exists():
            data = json.loads(self._path.read_text(encoding="utf-8"))
            if data["embedder"] != embedder_name or data["dim"] != dim:
                raise StoreError(f"{self._path} was written by {data['embedder']!r} ({data['dim']} dims)")
            for row in data["items"]:
                self._items[row["id"]] = (VectorItem(row["id"], row["text"], row["metadata"]), row["vector"])
        self._header = {"embedder": embedder_name, "dim": dim}

    def upsert(self, items: Sequence[VectorItem], vectors: Vectors) -> None:
        rows = self._unit_rows(vectors)
        if len(rows) != len(items):
            raise StoreError(f"{len(items)} items but {len(rows)} vectors")
        if len({i.id for i in items}) != len(items):
            raise StoreError("duplicate ids in one upsert")
        for item in items:
            if not item.id:
                raise StoreError("an item id must not be empty")
            for key, value in item.metadata.items():
                if not isinstance(value, str | int | float | bool):
                    raise StoreError(f"metadata {key!r} must be a string, number or boolean")
        with self._lock:
            for item, row in zip(items, rows, strict=True):
                self._items[item.id] = (VectorItem(item.id, item.text, dict(item.metadata)), row)
            self._save()

    def query(self, vectors: Vectors, k: int, where: Metadata | None = None) -> list[list[VectorHit]]:
        if k < 0:
            raise StoreError("k must not be negative")
        queries = self._unit_rows(vectors)
        with self._lock:
            candidates = [(item, row) for item, row in self._items.values() if _matches(item, where)]
        hits = []
        for query in queries:
            scored = [VectorHit(item, float(np.dot(query, row))) for item, row in candidates]
            scored.sort(key=lambda hit: -hit.score)
            hits.append(scored[:k])
        return hits

    def get(self, ids: Sequence[str] | None = None, where: Metadata | None = None) -> list[VectorItem]:
        with self._lock:
            chosen = list(self._items) if ids is None else [i for i in ids if i in self._items]
            return [self._items[i][0] for i in chosen if _matches(self._items[i][0], where)]

    def delete(self, ids: Sequence[str]) -> None:
        with self._lock:
            for item_id in ids:
                self._items.pop(item_id, None)
            self._save()

    def count(self) -> int:
        with self._lock:
            return len(self._items)

    def _unit_rows(self, vectors: Vectors) -> list[list[float]]:
        array = np.asarray(vectors, dtype=np.float64)
        if array.ndim != 2 or array.shape[1] != self._dim:
            raise StoreError(f"vectors must have shape (n, {self._dim}), got {array.shape}")
        rows = []
        for row in array:
            norm = math.sqrt(float(np.dot(row, row)))
            if not math.isfinite(norm) or norm == 0.0:
                raise StoreError("a vector must be finite and non-zero")
            rows.append([float(x) / norm for x in row])
        return rows

    def _save(self) -> None:
        # Temp file, fsync, rename: after a crash the file holds the old or the new state, never a mix.
        rows = [
            {"id": item.id, "text": item.text, "metadata": item.metadata, "vector": row}
            for item, row in self._items.values()
        ]
        data: dict[str, Any] = {**self._header, "items": rows}
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, ensure_ascii=False, indent=2 if self._pretty else None)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self._path)


def _matches(item: VectorItem, where: Metadata | None) -> bool:
    return not where or all(
        key in item.metadata and type(item.metadata[key]) is type(value) and item.metadata[key] == value
        for key, value in where.items()
    )
