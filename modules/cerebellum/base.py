"""The cerebellum contract: execute one skill through the environment and report what happened.

It is the only module that touches the environment, so a robot's skill server fits behind the same call:
skills may take time, fail, or time out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from envs.base import Env, Observation, StepInfo

__all__ = ("Execution", "Executor")


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
