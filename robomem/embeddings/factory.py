"""The embedder registry, keyed by ``memory.embedder.type``, and :func:`make_embedder`.

``minilm`` (the default) is the offline all-MiniLM-L6-v2 (onnxruntime, else numpy) behind an LRU cache.
``openai`` calls an OpenAI-compatible ``/v1/embeddings`` endpoint (:mod:`robomem.embeddings.endpoint`),
behind the same cache.
``hashing`` is the lexical :class:`robomem.testing.hashing.HashingEmbedder`, **for tests only**: it is not
semantic. Third-party embedders register through the ``robomem.embedders`` entry-point group: a factory
``(config, *, accounting)`` whose ``Config`` (subclassing :class:`EmbedderConfig`) has ``type`` defaulting to
the entry point's name.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from pydantic import BaseModel

from robomem.embeddings.base import Embedder
from robomem.embeddings.cache import CachedEmbedder
from robomem.embeddings.config import EmbedderConfig, MiniLMEmbedderConfig, OpenAIEmbedderConfig
from robomem.llm.accounting import LLMAccounting
from robomem.registry import Registry

if TYPE_CHECKING:
    from robomem.embeddings.minilm import Backend, MiniLMEmbedder

__all__ = ("EMBEDDERS", "make_embedder", "shared_minilm")

EMBEDDERS: Registry[Embedder] = Registry("embedder", entry_points="robomem.embedders", base=EmbedderConfig)

_minilm_lock = threading.Lock()
_minilm: dict[tuple[int, str], MiniLMEmbedder] = {}


def shared_minilm(batch_size: int = 32, backend: Backend = "auto") -> MiniLMEmbedder:
    """One read-only model per process, batch size and backend: evaluations build an agent per episode, and
    reloading the weights (and building the onnxruntime session) each time would waste ~1 s and 90 MB."""
    # Imported on use: configs validate against this registry without loading the model code.
    from robomem.embeddings.minilm import MiniLMEmbedder

    with _minilm_lock:
        model = _minilm.get((batch_size, backend))
        if model is None:
            model = _minilm[batch_size, backend] = MiniLMEmbedder(batch_size=batch_size, backend=backend)
        return model


@EMBEDDERS.register("minilm", MiniLMEmbedderConfig)
def _minilm_factory(config: EmbedderConfig, *, accounting: LLMAccounting | None = None) -> Embedder:
    # A plain EmbedderConfig (the memory section's default) has no backend: auto.
    backend = config.backend if isinstance(config, MiniLMEmbedderConfig) else "auto"
    model = shared_minilm(config.batch_size, backend)
    # Each caller gets its own text cache (sized by the config); only the weights are shared.
    return CachedEmbedder(model, config.cache_size) if config.cache_size else model


@EMBEDDERS.register("openai", OpenAIEmbedderConfig)
def _openai_factory(config: EmbedderConfig, *, accounting: LLMAccounting | None = None) -> Embedder:
    from robomem.embeddings.endpoint import OpenAIEmbedder

    full: BaseModel = config
    if not isinstance(full, OpenAIEmbedderConfig):  # a plain EmbedderConfig(type="openai"): validate it all
        full = EMBEDDERS.config(config.model_dump(), section="agent.memory.embedder", default="openai")
    assert isinstance(full, OpenAIEmbedderConfig)
    endpoint = OpenAIEmbedder(full, accounting=accounting)
    return CachedEmbedder(endpoint, full.cache_size) if full.cache_size else endpoint


@EMBEDDERS.register("hashing", EmbedderConfig)
def _hashing_factory(config: EmbedderConfig, *, accounting: LLMAccounting | None = None) -> Embedder:
    # Imported on use: test helpers stay out of normal runs (and robomem.testing imports this package).
    from robomem.testing.hashing import HashingEmbedder

    return HashingEmbedder()


def make_embedder(config: EmbedderConfig, *, accounting: LLMAccounting | None = None) -> Embedder:
    """Build the embedder ``config.type`` names; endpoint embedders account their requests in
    ``accounting`` (role ``embeddings``). Only an endpoint embedder touches the network."""
    return EMBEDDERS.build(config, accounting=accounting)
