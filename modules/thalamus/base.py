"""The thalamus contract: after every executed action (and once on the initial observation) produce the step
summary s_t (sensory memory, fed to every memory store) and 4–5 retrieval queries q_t."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from envs.base import Observation
from envs.task import Task
from modules.hippocampus.base import EpisodeContext, StepSummary
from modules.prefrontal.base import ExecutedAction

__all__ = ("Perceived", "Thalamus", "ThalamusConfig")


class ThalamusConfig(BaseModel):
    """``agent.thalamus``: the base of every thalamus's config (a plug-in without fields uses it as is)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "deterministic"


@dataclass(frozen=True)
class Perceived:
    summary: StepSummary
    queries: tuple[str, ...]


@runtime_checkable
class Thalamus(Protocol):
    def perceive(
        self,
        context: EpisodeContext,
        task: Task,
        step: int,
        observation: Observation,
        last: ExecutedAction | None,
        *,
        time: float = 0.0,
    ) -> Perceived:
        """Summary and queries for the step just executed (``last``: ``None`` on the initial observation)."""
        ...
