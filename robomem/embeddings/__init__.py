"""Offline text embedders (:class:`robomem.embeddings.base.Embedder`)."""

from robomem.embeddings.base import Embedder, Vectors

__all__ = ("Embedder", "Vectors")
