"""Configuration of the RoboMemory agent (``agent.type: robomem``), kept apart from the agent so that reading
a config never imports LangGraph or the memory stores."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, field_validator

from modules.cerebellum.registry import EXECUTORS, ExecutorConfig
from modules.hippocampus.config import MemoryConfig
from modules.prefrontal.registry import CRITICS, PLANNERS
from modules.thalamus.registry import THALAMI, ThalamusConfig
from robomem.llm.config import LLMConfig
from robomem.llm.factory import LLMS

__all__ = ("RoboMemoryAgentConfig", "ThalamusConfig")


class RoboMemoryAgentConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["robomem"] = "robomem"
    #: The planner plug-in: ``symbolic`` (offline default), ``llm``, or a ``robomem.planners`` entry point.
    planner: SerializeAsAny[BaseModel] = Field(
        default_factory=lambda: PLANNERS.config({}, section="agent.planner", default="symbolic")
    )
    #: The critic; ``null`` runs without one (an ablation).
    critic: SerializeAsAny[BaseModel] | None = Field(
        default_factory=lambda: CRITICS.config({}, section="agent.critic", default="deterministic")
    )
    #: The thalamus: ``deterministic`` (offline default), ``llm``, or a ``robomem.thalamus`` entry point.
    thalamus: SerializeAsAny[BaseModel] = Field(default_factory=ThalamusConfig)
    memory: MemoryConfig = Field(default_factory=MemoryConfig)
    #: The LLM endpoint every LLM role uses (per-role overrides inside); required only if a role is ``llm``.
    llm: LLMConfig | None = None
    executor: SerializeAsAny[ExecutorConfig] = Field(default_factory=ExecutorConfig)
    max_output_errors: int = Field(default=3, ge=1)
    max_steps: int = Field(default=1000, ge=1)
    #: Checkpoint every step so ``robomem eval --resume`` can continue after a crash.
    checkpoint: bool = True
    #: Keep the garbage collector's full collections between episodes (robomem/agents/heap.py): the
    #: surviving heap is frozen after each episode. ``false``: Python's default collector.
    freeze_heap: bool = True

    @field_validator("planner", mode="before")
    @classmethod
    def _planner(cls, value: object) -> BaseModel:
        return PLANNERS.config(value, section="agent.planner", default="symbolic")

    @field_validator("thalamus", mode="before")
    @classmethod
    def _thalamus(cls, value: object) -> BaseModel:
        return THALAMI.config(value, section="agent.thalamus", default="deterministic")

    @field_validator("executor", mode="before")
    @classmethod
    def _executor(cls, value: object) -> BaseModel:
        return EXECUTORS.config(value, section="agent.executor", default="skill")

    @field_validator("llm", mode="before")
    @classmethod
    def _llm(cls, value: object) -> BaseModel | None:
        return None if value is None else LLMS.config(value, section="agent.llm", default="openai")

    @field_validator("critic", mode="before")
    @classmethod
    def _critic(cls, value: object) -> BaseModel | None:
        if value is None:
            return None
        return CRITICS.config(value, section="agent.critic", default="deterministic")

    def uses_llm(self) -> bool:
        """A built-in role is configured as ``llm`` (so ``agent.llm`` is required)."""
        return (
            getattr(self.planner, "type", "") == "llm"
            or getattr(self.critic, "type", "") == "llm"
            or getattr(self.thalamus, "type", "") == "llm"
            or self.memory.needs_llm()
        )

    def may_use_llm(self) -> bool:
        """:meth:`uses_llm`, or a plug-in planner or critic (given the client when ``agent.llm`` is set)."""
        planner = getattr(self.planner, "type", "")
        critic = getattr(self.critic, "type", "") if self.critic is not None else "deterministic"
        thalamus = getattr(self.thalamus, "type", "")
        return (
            self.uses_llm()
            or planner != "symbolic"
            or critic != "deterministic"
            or thalamus != "deterministic"
            or self.memory.may_use_llm()
        )
