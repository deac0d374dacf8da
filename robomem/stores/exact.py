"""Brute-force cosine search in numpy, persisted as one ``store.npz`` per collection.

Exact (no index, recall 1.0), so it is the reference the approximate backends are checked against, and the
simplest choice for small stores (hundreds to a few thousand items: one query over 10k × 384 takes well
under a millisecond).

Every mutating call rewrites the whole file atomically (temp file, fsync, ``os.replace``, fsync of the
directory): after a crash the store holds either the old or the new state, never a mix. The file holds a
float32 ``vectors`` array plus the items and header as UTF-8 JSON; it is read with ``allow_pickle=False``.
One open instance owns a directory at a time (an advisory ``flock``), because two writers would silently
overwrite each other's changes.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from robomem.embeddings.base import Vectors
from robomem.errors import StoreError
from robomem.stores._common import (
    check_items,
    check_queries,
    check_where,
    metadata_matches,
    normalise_rows,
)
from robomem.stores.base import Metadata, VectorHit, VectorItem, VectorStore
from robomem.stores.ranking import top_k_rows

try:  # POSIX only; elsewhere the single-owner check is skipped.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = ("ExactVectorStore",)

_FILE = "store.npz"
_FORMAT = "robomem-exact-v1"


def _json_array(value: object) -> npt.NDArray[np.uint8]:
    return np.frombuffer(json.dumps(value, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)


def _from_json_array(array: npt.NDArray[Any]) -> Any:
    return json.loads(array.tobytes().decode("utf-8"))


class ExactVectorStore(VectorStore):
    """Exact cosine search over a numpy matrix. ``directory=None`` keeps everything in memory.

    Ties in score are broken by insertion order. ``get`` without ids returns items in insertion order; a
    replaced item keeps its original position.
    """

    def __init__(self, directory: Path | None, *, dim: int, embedder_name: str) -> None:
        if dim < 1:
            raise StoreError(f"dim must be >= 1, got {dim}")
        self.directory = directory
        self.dim = dim
        self.embedder_name = embedder_name
        self._lock = threading.RLock()
        self._items: list[VectorItem] = []
        self._index: dict[str, int] = {}
        self._vectors: npt.NDArray[np.float32] = np.zeros((0, dim), dtype=np.float32)
        self._lock_file: IO[bytes] | None = None
        self._closed = False
        if directory is not None:
            self._open(directory)

    # -- persistence -------------------------------------------------------------------------------------

    def _open(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        lock_file = (directory / ".lock").open("ab")
        if fcntl is not None:
            try:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock_file.close()
                raise StoreError(
                    f"exact vector store {directory} is already open (in this or another process)",
                    hint="close the other instance; `chroma_http` shares memory between processes",
                ) from None
        self._lock_file = lock_file
        try:
            path = directory / _FILE
            if path.exists():
                self._load(path)
            else:
                self._write(self._items, self._vectors)  # records the embedder from the start
        except BaseException:
            self._release_lock()
            raise

    def _load(self, path: Path) -> None:
        try:
            with np.load(path, allow_pickle=False) as data:
                header = _from_json_array(data["header"])
                raw_items = _from_json_array(data["items"])
                vectors = np.ascontiguousarray(data["vectors"], dtype=np.float32)
        except (OSError, ValueError, KeyError) as exc:
            raise StoreError(f"cannot read exact vector store {path}: {exc}") from exc
        if header.get("format") != _FORMAT:
            raise StoreError(f"{path} is not a {_FORMAT} file (format {header.get('format')!r})")
        if header.get("embedder") != self.embedder_name or header.get("dim") != self.dim:
            raise StoreError(
                f"{path} holds vectors of embedder {header.get('embedder')!r} (dim {header.get('dim')}), "
                f"not {self.embedder_name!r} (dim {self.dim}); vectors of two models must never mix",
                hint="use another memory directory, or delete this store to rebuild it",
            )
        if vectors.shape != (len(raw_items), self.dim):
            raise StoreError(f"{path} is inconsistent: {len(raw_items)} items but vectors {vectors.shape}")
        self._items = [VectorItem(r["id"], r["text"], dict(r["metadata"])) for r in raw_items]
        self._index = {item.id: row for row, item in enumerate(self._items)}
        self._vectors = vectors

    def _write(self, items: list[VectorItem], vectors: npt.NDArray[np.float32]) -> None:
        if self.directory is None:
            return
        header = {"format": _FORMAT, "embedder": self.embedder_name, "dim": self.dim}
        buffer = io.BytesIO()
        np.savez(
            buffer,
            header=_json_array(header),
            items=_json_array([{"id": i.id, "text": i.text, "metadata": i.metadata} for i in items]),
            vectors=vectors,
        )
        final = self.directory / _FILE
        fd, tmp_name = tempfile.mkstemp(prefix=".store-", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(buffer.getbuffer())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp_name, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
        # Make the rename itself durable.
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()  # closing the descriptor drops the flock
            self._lock_file = None

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the vector store is closed")

    # -- VectorStore -------------------------------------------------------------------------------------

    def upsert(self, items: Sequence[VectorItem], vectors: Vectors) -> None:
        array = normalise_rows(check_items(items, vectors, self.dim))
        with self._lock:
            self._check_open()
            if not items:
                return
            new_items = list(self._items)
            index = dict(self._index)
            appended: list[int] = []
            replaced: dict[int, int] = {}
            for position, item in enumerate(items):
                stored = VectorItem(item.id, item.text, dict(item.metadata))
                row = index.get(item.id)
                if row is None:
                    index[item.id] = len(new_items)
                    new_items.append(stored)
                    appended.append(position)
                else:
                    new_items[row] = stored
                    replaced[row] = position
            new_vectors = (
                np.concatenate([self._vectors, array[appended]]) if appended else self._vectors.copy()
            )
            for row, position in replaced.items():
                new_vectors[row] = array[position]
            # Commit in memory only after the file is safely written.
            self._write(new_items, new_vectors)
            self._items, self._index, self._vectors = new_items, index, new_vectors

    def query(self, vectors: Vectors, k: int, where: Metadata | None = None) -> list[list[VectorHit]]:
        queries = normalise_rows(check_queries(vectors, k, where, self.dim))
        with self._lock:
            self._check_open()
            items, matrix = self._items, self._vectors
        if k == 0 or not items:
            return [[] for _ in range(len(queries))]
        if where:
            rows = [row for row, item in enumerate(items) if metadata_matches(item.metadata, where)]
            candidates: npt.NDArray[np.intp] | None = np.array(rows, dtype=np.intp)
            if not rows:
                return [[] for _ in range(len(queries))]
            scores = queries @ matrix[candidates].T  # (queries, candidates)
        else:
            candidates = None  # every row: no gathered copy of the matrix
            scores = queries @ matrix.T
        results: list[list[VectorHit]] = []
        for row_scores in scores:
            results.append(
                [
                    VectorHit(
                        self._copy(items[i if candidates is None else int(candidates[i])]),
                        float(np.clip(row_scores[i], -1.0, 1.0)),
                    )
                    for i in top_k_rows(row_scores, k)
                ]
            )
        return results

    def get_with_vectors(self, where: Metadata | None = None) -> tuple[list[VectorItem], Vectors]:
        check_where(where)
        with self._lock:
            self._check_open()
            items, matrix = self._items, self._vectors
        rows = [row for row, item in enumerate(items) if metadata_matches(item.metadata, where)]
        return [self._copy(items[r]) for r in rows], matrix[np.array(rows, dtype=np.intp)]

    def get(self, ids: Sequence[str] | None = None, where: Metadata | None = None) -> list[VectorItem]:
        check_where(where)
        with self._lock:
            self._check_open()
            if ids is None:
                chosen = list(self._items)
            else:
                rows = (self._index.get(i) for i in dict.fromkeys(ids))
                chosen = [self._items[r] for r in rows if r is not None]
        return [self._copy(item) for item in chosen if metadata_matches(item.metadata, where)]

    def delete(self, ids: Sequence[str]) -> None:
        with self._lock:
            self._check_open()
            doomed = {self._index[i] for i in ids if i in self._index}
            if not doomed:
                return
            keep = [row for row in range(len(self._items)) if row not in doomed]
            new_items = [self._items[row] for row in keep]
            new_vectors = self._vectors[np.array(keep, dtype=np.intp)]
            self._write(new_items, new_vectors)
            self._items, self._vectors = new_items, new_vectors
            self._index = {item.id: row for row, item in enumerate(new_items)}

    def count(self) -> int:
        with self._lock:
            self._check_open()
            return len(self._items)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._release_lock()

    @staticmethod
    def _copy(item: VectorItem) -> VectorItem:
        # Stored items are shared; callers get their own metadata dict.
        return VectorItem(item.id, item.text, dict(item.metadata))

    def __repr__(self) -> str:
        where = self.directory or "memory"
        return f"ExactVectorStore({where}, dim={self.dim}, embedder={self.embedder_name!r})"
