"""The cerebellum contract: execute one skill through the environment and report what happened.

It is the only module that touches the environment, so a robot's skill server fits behind the same call:
skills may take time, fail, or time out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from envs.base import Env, Observation, StepInfo

__all__ = ("Execution", "Executor", "ExecutorConfig")


class ExecutorConfig(BaseModel):
    """``agent.executor``: the base of every executor's config."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: ``skill``: the built-in :class:`modules.cerebellum.executor.SkillExecutor`.
    type: str = "skill"
    #: Longest a single skill may run; ``None`` lets the environment decide.
    timeout_s: float | None = Field(default=120.0, gt=0)


@dataclass(frozen=True)
class Execution:
    """``observation``/``info`` are ``None`` when the environment gave no result (the skill timed out);
    ``feedback`` and ``success`` are always set so the loop can treat the step like any failed action."""

    action: str
    success: bool
    feedback: str
    done: bool
    observation: Observation | None = None
    info: StepInfo | None = None
    timed_out: bool = False


@runtime_checkable
class Executor(Protocol):
    def execute(self, env: Env, action: str) -> Execution: ...
