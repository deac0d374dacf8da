from __future__ import annotations

from robomem.embeddings._blas import blas_threads_from_env, get_blas_threads
from robomem.embeddings.cache import CachedEmbedder
from robomem.embeddings.config import EmbedderConfig
from robomem.embeddings.factory import EMBEDDERS, make_embedder, shared_minilm
from robomem.embeddings.minilm import MiniLMEmbedder
from robomem.testing.hashing import HashingEmbedder


def test_registry_names() -> None:
    assert EMBEDDERS.names() == ("hashing", "minilm", "openai")


def test_minilm_is_cached_and_shares_one_model() -> None:
    first = make_embedder(EmbedderConfig(cache_size=100))
    second = make_embedder(EmbedderConfig(cache_size=100))
    assert isinstance(first, CachedEmbedder)
    assert isinstance(second, CachedEmbedder)
    assert (first.name, first.dim) == ("all-MiniLM-L6-v2", 384)
    assert first.max_items == 100
    assert first.inner is second.inner is shared_minilm(32), "weights load once per process"
    assert first is not second, "each caller gets its own text cache"


def test_cache_size_zero_gives_the_bare_model() -> None:
    embedder = make_embedder(EmbedderConfig(cache_size=0, batch_size=8))
    assert isinstance(embedder, MiniLMEmbedder)
    assert embedder.batch_size == 8


def test_hashing_is_available_for_tests() -> None:
    embedder = make_embedder(EmbedderConfig(type="hashing"))
    assert isinstance(embedder, HashingEmbedder)
    assert embedder.embed(["a cup"]).shape == (1, 384)


def test_minilm_runs_openblas_single_threaded() -> None:
    shared_minilm(32)
    if not blas_threads_from_env():  # an explicit OPENBLAS_NUM_THREADS / OMP_NUM_THREADS wins
        assert get_blas_threads() in (1, None)  # None: numpy built against another BLAS
