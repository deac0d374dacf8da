"""``agent.memory.embedder.type: letters``: a text's letter counts as its vector. A toy — it knows no
meaning — but a real embedder: deterministic, unit-length rows, a name and a dimension that memory records in
its manifest (another embedder cannot silently reopen the memory)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from robomem.embeddings.base import Vectors
from robomem.embeddings.config import EmbedderConfig


class LetterEmbedderConfig(EmbedderConfig):
    type: Literal["letters"] = "letters"
    alphabet: str = "abcdefghijklmnopqrstuvwxyz"


class LetterEmbedder:
    Config = LetterEmbedderConfig

    def __init__(self, config: LetterEmbedderConfig, *, accounting: object = None) -> None:
        self.alphabet = config.alphabet
        self.name = f"letters-{len(self.alphabet)}"
        self.dim = len(self.alphabet)

    def embed(self, texts: Sequence[str]) -> Vectors:
        counts = np.array([[t.lower().count(c) for c in self.alphabet] for t in texts], dtype=np.float32)
        counts = counts.reshape(len(texts), self.dim) + 1e-3  # never a zero vector
        unit: Vectors = counts / np.linalg.norm(counts, axis=1, keepdims=True)
        return unit
