"""Run-scoped collaborators injected into graph nodes (LangGraph's runtime context): nothing here is
checkpointed, everything here can be rebuilt when a run resumes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from envs.base import Env
from envs.task import Task
from modules.cerebellum.base import Executor
from modules.hippocampus.base import EpisodeContext
from modules.hippocampus.system import MemorySystem
from modules.prefrontal.base import Critic, Planner
from modules.thalamus.base import Thalamus

__all__ = ("EpisodeRuntime",)


@dataclass
class EpisodeRuntime:
    env: Env
    task: Task
    episode: EpisodeContext
    thalamus: Thalamus
    planner: Planner
    executor: Executor
    critic: Critic | None = None
    memory: MemorySystem | None = None
    #: Consecutive malformed planner replies tolerated before the episode is given up.
    max_output_errors: int = 3
    #: Safety bound on steps, should an environment never say it is done.
    max_steps: int = 1000
    #: Who judges the episode's success for memory: ``simulator`` or ``agent`` (see ``memory.outcome``).
    outcome_source: str = "simulator"
    clock: Callable[[], float] = time.time
    #: Per-step objects that are not JSON (retrieved memory with its structured data), rebuilt on resume.
    scratch: dict[str, Any] = field(default_factory=dict)
