"""Storage infrastructure for memory: vector stores and the persisted knowledge graph."""

from robomem.stores.base import Metadata, VectorHit, VectorItem, VectorStore

__all__ = ("Metadata", "VectorHit", "VectorItem", "VectorStore")
