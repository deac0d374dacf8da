"""The embedder registry, keyed by ``memory.embedder.type``, and :func:`make_embedder`.

``minilm`` (the default) is the offline all-MiniLM-L6-v2 behind an LRU cache. ``hashing`` is the lexical
:class:`robomem.testing.hashing.HashingEmbedder`, **for tests only**: it is not semantic.
"""

from __future__ import annotations

import threading

from robomem.embeddings.base import Embedder
from robomem.embeddings.cache import CachedEmbedder
from robomem.embeddings.config import EmbedderConfig
from robomem.embeddings.minilm import MiniLMEmbedder
from robomem.registry import Registry

__all__ = ("EMBEDDERS", "make_embedder", "shared_minilm")

EMBEDDERS: Registry[Embedder] = Registry("embedder")

_minilm_lock = threading.Lock()
_minilm: dict[int, MiniLMEmbedder] = {}


def shared_minilm(batch_size: int = 32) -> MiniLMEmbedder:
    """One read-only model per process and batch size: evaluations build an agent per episode, and
    reloading the weights each time would waste ~0.2 s and 40 MB per copy."""
    with _minilm_lock:
        model = _minilm.get(batch_size)
        if model is None:
            model = _minilm[batch_size] = MiniLMEmbedder(batch_size=batch_size)
        return model


@EMBEDDERS.register("minilm", EmbedderConfig)
def _minilm_factory(config: EmbedderConfig) -> Embedder:
    model = shared_minilm(config.batch_size)
    # Each caller gets its own text cache (sized by the config); only the weights are shared.
    return CachedEmbedder(model, config.cache_size) if config.cache_size else model


@EMBEDDERS.register("hashing", EmbedderConfig)
def _hashing_factory(config: EmbedderConfig) -> Embedder:
    # Imported on use: test helpers stay out of normal runs (and robomem.testing imports this package).
    from robomem.testing.hashing import HashingEmbedder

    return HashingEmbedder()


def make_embedder(config: EmbedderConfig) -> Embedder:
    """Build the embedder ``config.type`` names. Never touches the network."""
    return EMBEDDERS.build(config)
