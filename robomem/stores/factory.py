"""The vector-store registry, keyed by ``memory.vector.type``, and :func:`open_vector_store`.

Backends are imported on first use, so a run on the ``exact`` backend never imports chromadb. Third-party
backends register through the ``robomem.vector_stores`` entry-point group: a factory ``(config, *,
memory_dir, name, embedder_name, dim)`` whose ``Config`` (subclassing :class:`VectorConfig`) has ``type``
defaulting to the entry point's name.
"""

from __future__ import annotations

from pathlib import Path

from robomem.registry import Registry
from robomem.stores._common import collection_name
from robomem.stores.base import VectorStore
from robomem.stores.config import VectorConfig

__all__ = ("VECTOR_STORES", "open_vector_store")

VECTOR_STORES: Registry[VectorStore] = Registry(
    "vector store", entry_points="robomem.vector_stores", base=VectorConfig
)


@VECTOR_STORES.register("chroma", VectorConfig)
def _chroma(
    config: VectorConfig, *, memory_dir: Path, name: str, embedder_name: str, dim: int
) -> VectorStore:
    from robomem.stores.chroma import ChromaVectorStore

    return ChromaVectorStore.persistent(
        memory_dir / "chroma",
        collection=collection_name(config.namespace, name),
        embedder_name=embedder_name,
        dim=dim,
        ef_search=config.hnsw_ef_search,
    )


@VECTOR_STORES.register("chroma_http", VectorConfig)
def _chroma_http(
    config: VectorConfig, *, memory_dir: Path, name: str, embedder_name: str, dim: int
) -> VectorStore:
    from robomem.stores.chroma import ChromaVectorStore

    return ChromaVectorStore.http(
        config.host,
        config.port,
        collection=collection_name(config.namespace, name),
        embedder_name=embedder_name,
        dim=dim,
        ef_search=config.hnsw_ef_search,
    )


@VECTOR_STORES.register("exact", VectorConfig)
def _exact(config: VectorConfig, *, memory_dir: Path, name: str, embedder_name: str, dim: int) -> VectorStore:
    from robomem.stores.exact import ExactVectorStore

    directory = memory_dir / "exact" / collection_name(config.namespace, name)
    return ExactVectorStore(directory, dim=dim, embedder_name=embedder_name)


def open_vector_store(
    config: VectorConfig, *, memory_dir: Path, name: str, embedder_name: str, dim: int
) -> VectorStore:
    """Open (creating if needed) the collection ``<namespace>_<name>`` on the configured backend.

    ``embedder_name`` and ``dim`` are recorded with the collection; reopening it with another embedder raises
    :class:`robomem.errors.StoreError`. Call ``close()`` when done.
    """
    return VECTOR_STORES.build(
        config, memory_dir=Path(memory_dir), name=name, embedder_name=embedder_name, dim=dim
    )
