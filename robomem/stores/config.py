"""Configuration of the vector-store backend (``memory.vector``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ("VectorConfig",)


class VectorConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: ``chroma``: a Chroma ``PersistentClient`` under the memory directory (one process at a time).
    #: ``chroma_http``: a Chroma server (``chroma run``), so several robots/processes share long-term memory.
    #: ``exact``: brute-force numpy search persisted under the memory directory (small stores, tests).
    #: A ``robomem.vector_stores`` entry point adds more.
    type: str = "chroma"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: Prefix of every collection name, so several deployments can share one server.
    namespace: str = Field(default="robomem", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,40}$")
    #: HNSW search breadth for Chroma collections (recall vs latency).
    hnsw_ef_search: int = Field(default=100, ge=10)
