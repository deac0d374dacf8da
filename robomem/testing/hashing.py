"""A hashing embedder for unit tests only: lexical (character 3–5-grams plus words), not semantic.

It is deterministic across processes and needs no model files. Never use it for real runs — the offline
MiniLM embedder is the default.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

from robomem.embeddings.base import Vectors

__all__ = ("HashingEmbedder",)


class HashingEmbedder:
    name = "hashing-ngrams-v1"

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim

    def _features(self, text: str) -> list[str]:
        lowered = text.lower()
        words = re.findall(r"[a-z0-9_]+", lowered)
        padded = f" {' '.join(words)} "
        grams = [padded[i : i + n] for n in (3, 4, 5) for i in range(len(padded) - n + 1)]
        return grams + [f"w:{w}" for w in words]

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                h = zlib.crc32(feature.encode("utf-8"))
                out[row, h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        normalised: Vectors = (out / norms).astype(np.float32)
        return normalised
