"""What the vector-store conformance checks share: the store factory contract, constants and helpers."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from robomem.embeddings.base import Vectors
from robomem.stores.base import VectorItem, VectorStore
from robomem.stores.config import VectorConfig

__all__ = (
    "DIM",
    "SCORE_TOL",
    "RegistryStoreFactory",
    "StoreFactory",
    "assert_same_items",
    "by_id",
    "fresh_store",
    "random_units",
    "stack_at",
    "unit_at",
)

#: Vector dimension used by every check.
DIM = 8
#: Scores may differ from exact cosine by float32 rounding (and an index's distance arithmetic).
SCORE_TOL = 1e-4


class StoreFactory(Protocol):
    def __call__(self, name: str, *, dim: int) -> VectorStore: ...


@dataclass(frozen=True)
class RegistryStoreFactory:
    """Opens stores through :func:`robomem.stores.factory.open_vector_store`; picklable."""

    config: VectorConfig
    memory_dir: Path
    embedder_name: str = "conformance-unit-vectors"

    def __call__(self, name: str, *, dim: int) -> VectorStore:
        from robomem.stores.factory import open_vector_store

        return open_vector_store(
            self.config, memory_dir=self.memory_dir, name=name, embedder_name=self.embedder_name, dim=dim
        )


# -- helpers --------------------------------------------------------------------------------------------


def unit_at(degrees: float, dim: int = DIM) -> Vectors:
    """A unit vector at ``degrees`` from e0 in the e0-e1 plane: its cosine with e0 is cos(degrees)."""
    vector = np.zeros((1, dim), dtype=np.float32)
    vector[0, 0], vector[0, 1] = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return vector


def stack_at(degrees: Sequence[float]) -> Vectors:
    return np.concatenate([unit_at(d) for d in degrees]) if degrees else np.zeros((0, DIM), np.float32)


def random_units(rng: np.random.Generator, n: int) -> Vectors:
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    unit: Vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    return unit


@contextlib.contextmanager
def fresh_store(factory: StoreFactory, name: str) -> Iterator[VectorStore]:
    store = factory(name, dim=DIM)
    try:
        assert store.count() == 0, f"store {name!r} is not empty: the factory must isolate fresh names"
        yield store
    finally:
        store.close()


def assert_same_items(got: Sequence[VectorItem], expected: Sequence[VectorItem]) -> None:
    assert [i.id for i in got] == [i.id for i in expected], (got, expected)
    for g, e in zip(got, expected, strict=True):
        assert g.text == e.text, (g, e)
        assert g.metadata == e.metadata, (g, e)
        for key, value in e.metadata.items():
            assert type(g.metadata[key]) is type(value), f"{g.id}.{key}: {g.metadata[key]!r} vs {value!r}"


def by_id(items: Sequence[VectorItem]) -> list[VectorItem]:
    return sorted(items, key=lambda item: item.id)
