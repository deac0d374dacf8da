"""The embedder contract: text in, unit-length float32 vectors out (cosine similarity = dot product)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ("Embedder", "Vectors")

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    @property
    def dim(self) -> int:
        """Vector dimension (an endpoint embedder may learn it from its first reply)."""
        ...

    #: Stable identifier of the model (stored with collections so vectors of two models never mix).
    name: str

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Shape ``(len(texts), dim)``, each row L2-normalised. Deterministic for the same text."""
        ...
