"""The vector-store contract used by episodic and semantic memory.

Scores: higher = more similar, cosine similarity in [-1, 1] (vectors are unit length). Stores hold the
vectors robomem computed: no store ever embeds text itself (Chroma's default embedder would download a
model at run time).
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from robomem.embeddings.base import Vectors

__all__ = ("Metadata", "VectorHit", "VectorItem", "VectorStore")

Metadata = Mapping[str, str | int | float | bool]


@dataclass(frozen=True)
class VectorItem:
    id: str
    text: str
    metadata: dict[str, str | int | float | bool] = field(default_factory=dict)


@dataclass(frozen=True)
class VectorHit:
    item: VectorItem
    score: float


class VectorStore(ABC):
    """One collection. ``where`` filters are equality on metadata keys (``{"kind": "action"}``)."""

    #: Other processes, possibly on other hosts, may write this collection at the same time (a Chroma
    #: server): what a reader saw may be stale by the time it writes.
    shared: bool = False

    def write_lock(self) -> AbstractContextManager[object]:
        """Exclusive right to read, decide and write this collection, for every writer that shares it
        (processes and hosts): hold it around each read-modify-write. Single-owner backends need none."""
        return contextlib.nullcontext()

    def revision(self) -> int | None:
        """A number that changes with every write to this collection, or ``None`` when the backend cannot
        know every write (other processes write a shared server; a backend that does not count them). A
        reader may keep query results while it stays the same (long-term memory does, within an episode);
        with ``None`` it must not."""
        return None

    @abstractmethod
    def upsert(self, items: Sequence[VectorItem], vectors: Vectors) -> None:
        """Insert or replace items by id, atomically per call as far as the backend allows."""

    @abstractmethod
    def query(self, vectors: Vectors, k: int, where: Metadata | None = None) -> list[list[VectorHit]]:
        """The ``k`` nearest items for each query vector, best first."""

    @abstractmethod
    def get(self, ids: Sequence[str] | None = None, where: Metadata | None = None) -> list[VectorItem]:
        """Items by id and/or filter; all items when both are ``None``."""

    def get_with_vectors(self, where: Metadata | None = None) -> tuple[list[VectorItem], Vectors]:
        """Items matching ``where`` and their stored (unit) vectors, row for row.

        Optional: long-term memory uses it to keep a small filtered partition (one house's lessons) in
        process memory, because filtered nearest-neighbour search is slow in some backends (a Chroma query
        with a metadata filter costs 0.1-0.4 s at 1e5 items). Backends without it are queried directly.
        """
        raise NotImplementedError(f"{type(self).__name__} does not return stored vectors")

    @abstractmethod
    def delete(self, ids: Sequence[str]) -> None: ...

    @abstractmethod
    def count(self) -> int: ...

    def close(self) -> None:
        """Release the backend (files, connections). Safe to call twice."""
