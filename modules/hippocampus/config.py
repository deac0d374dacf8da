"""Configuration of the whole memory system (the ``memory`` section of an agent's config)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modules.hippocampus.episodic import EpisodicConfig
from modules.hippocampus.semantic import SemanticConfig
from modules.hippocampus.spatial.config import SpatialConfig
from modules.hippocampus.temporal import TemporalConfig
from robomem.embeddings.config import EmbedderConfig
from robomem.stores.config import VectorConfig

__all__ = ("STORE_NAMES", "MemoryConfig")

StoreName = Literal["temporal", "spatial", "episodic", "semantic"]
STORE_NAMES: tuple[StoreName, ...] = ("temporal", "spatial", "episodic", "semantic")


class MemoryConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Stores in use; drop some for ablations (``memory.stores=[temporal]``), or all for "no memory".
    stores: tuple[StoreName, ...] = STORE_NAMES
    #: Memory directory. ``None``: ``<run dir>/memory`` (nothing outside the run); set it to a fixed folder
    #: to keep one robot's memory across runs. Never wiped implicitly (``--fresh-memory`` does that).
    dir: str | None = None
    #: Fan the four updates / retrievals out in parallel (``false``: one after another, for comparison).
    parallel: bool = True
    temporal: TemporalConfig = Field(default_factory=TemporalConfig)
    spatial: SpatialConfig = Field(default_factory=SpatialConfig)
    episodic: EpisodicConfig = Field(default_factory=EpisodicConfig)
    semantic: SemanticConfig = Field(default_factory=SemanticConfig)
    embedder: EmbedderConfig = Field(default_factory=EmbedderConfig)
    vector: VectorConfig = Field(default_factory=VectorConfig)
    #: Where the success recorded in episodic and semantic memory comes from. ``simulator``: the env's
    #: ``task_success`` (privileged: an evaluator's ground truth a deployed robot does not have);
    #: ``agent``: the agent's own judgement (the planner declared the task done, or the environment ended
    #: the episode on a successful action within the step limit); ``auto``: ``simulator`` when the env is a
    #: simulator, ``agent`` on a real robot (``env.type: ros``).
    outcome: Literal["auto", "simulator", "agent"] = "auto"

    @field_validator("stores")
    @classmethod
    def _distinct(cls, value: tuple[StoreName, ...]) -> tuple[StoreName, ...]:
        if len(set(value)) != len(value):
            raise ValueError("stores must be distinct")
        return value

    def needs_llm(self) -> bool:
        return (
            ("temporal" in self.stores and self.temporal.compressor == "llm")
            or ("spatial" in self.stores and "llm" in (self.spatial.extractor, self.spatial.resolver))
            or ("episodic" in self.stores and "llm" in (self.episodic.creator, self.episodic.decider))
            or ("semantic" in self.stores and "llm" in (self.semantic.creator, self.semantic.decider))
        )
