"""Configuration of the whole memory system (the ``memory`` section of an agent's config)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, ValidationInfo, field_validator

from modules.hippocampus.episodic import EpisodicConfig
from modules.hippocampus.semantic import SemanticConfig
from modules.hippocampus.spatial.config import SpatialConfig
from modules.hippocampus.temporal import TemporalConfig
from robomem.embeddings.config import EmbedderConfig
from robomem.embeddings.factory import EMBEDDERS
from robomem.stores.config import VectorConfig
from robomem.stores.factory import VECTOR_STORES

__all__ = ("STORE_NAMES", "MemoryConfig")

StoreName = Literal["temporal", "spatial", "episodic", "semantic"]
STORE_NAMES: tuple[StoreName, ...] = ("temporal", "spatial", "episodic", "semantic")
#: Embedders and vector stores that run inside the process (anything else, a plug-in's too, may wait on I/O).
LOCAL_EMBEDDERS = frozenset({"minilm", "hashing"})
LOCAL_VECTOR_STORES = frozenset({"chroma", "exact"})


def _prefix(info: ValidationInfo) -> str:
    # Errors name the key as given: `agent.memory...` in a run's config, `memory...` for `robomem memory`
    # (which validates with the context {"section": "memory"}).
    context = info.context if isinstance(info.context, dict) else {}
    return str(context.get("section", "agent.memory"))


class MemoryConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Stores in use; drop some for ablations (``memory.stores=[temporal]``), or all for "no memory".
    stores: tuple[StoreName, ...] = STORE_NAMES
    #: Memory directory. ``None``: ``<run dir>/memory`` (nothing outside the run); set it to a fixed folder
    #: to keep one robot's memory across runs. Never wiped implicitly (``--fresh-memory`` does that).
    dir: str | None = None
    #: Fan the four stores' updates / retrievals out on threads (``false``: one after another). ``auto``:
    #: when an operation may wait on something outside the process (a model, an embedding endpoint, a
    #: Chroma server; see :meth:`threads`). With every operation deterministic and local the work is Python
    #: under one GIL: threads add only hand-offs (the offline demo with 2 workers: 1.54x -> 1.68x).
    parallel: bool | Literal["auto"] = "auto"
    temporal: TemporalConfig = Field(default_factory=TemporalConfig)
    spatial: SpatialConfig = Field(default_factory=SpatialConfig)
    episodic: EpisodicConfig = Field(default_factory=EpisodicConfig)
    semantic: SemanticConfig = Field(default_factory=SemanticConfig)
    #: ``type`` selects the embedder (``minilm``, ``openai``, ...) and the fields the section takes.
    embedder: SerializeAsAny[EmbedderConfig] = Field(default_factory=EmbedderConfig)
    #: ``type`` selects the vector-store backend (``chroma``, ``chroma_http``, ``exact``, ...).
    vector: SerializeAsAny[VectorConfig] = Field(default_factory=VectorConfig)
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

    @field_validator("embedder", mode="before")
    @classmethod
    def _embedder(cls, value: object, info: ValidationInfo) -> object:
        return EMBEDDERS.config(value, section=f"{_prefix(info)}.embedder", default="minilm")

    @field_validator("vector", mode="before")
    @classmethod
    def _vector(cls, value: object, info: ValidationInfo) -> object:
        return VECTOR_STORES.config(value, section=f"{_prefix(info)}.vector", default="chroma")

    def _variants(self) -> list[str]:
        """The memory operations' variant names of the stores in use."""
        names = {
            "temporal": [self.temporal.compressor],
            "spatial": [self.spatial.extractor, self.spatial.resolver],
            "episodic": [self.episodic.creator, self.episodic.decider],
            "semantic": [self.semantic.creator, self.semantic.decider],
        }
        return [name for store in self.stores for name in names[store]]

    def threads(self) -> bool:
        """Whether the stores run on threads (``parallel``, with ``auto`` resolved)."""
        if self.parallel != "auto":
            return self.parallel
        local = self.embedder.type in LOCAL_EMBEDDERS and self.vector.type in LOCAL_VECTOR_STORES
        return self.may_use_llm() or not local

    def needs_llm(self) -> bool:
        """A built-in ``llm`` operation is configured (so an LLM client is required)."""
        return "llm" in self._variants()

    def may_use_llm(self) -> bool:
        """:meth:`needs_llm`, or a plug-in operation (given the client when ``agent.llm`` is set)."""
        return any(name != "deterministic" for name in self._variants())
