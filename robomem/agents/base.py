"""The agent contract. An agent owns its episode loop: it calls ``env.step`` until the step result says
``done``, so an agent that executes actions inside its own graph (the LangGraph agent) fits the same
harness as a plain loop."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from envs.base import Env, Observation
from envs.task import Task

__all__ = ("Agent", "EpisodeStats")


class EpisodeStats(BaseModel):
    """What only the agent can know about an episode. Outcomes (success, progress, steps, invalid
    actions) are measured by the harness from the environment, never taken from the agent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Planner calls (EmbodiedBench counts one per plan, an agent without a planner one per action).
    planner_steps: int = Field(default=0, ge=0)
    #: Planner outputs that could not be parsed.
    planner_output_error: int = Field(default=0, ge=0)
    #: The planner returned an empty plan and the episode ended (EmbodiedBench's ``empty_plan``).
    empty_plan: bool = False


class Agent(ABC):
    """Contract for every agent. Implementations register in :data:`robomem.agents.AGENTS`."""

    def check_tasks(self, tasks: Sequence[Task]) -> None:
        """Raise :class:`robomem.errors.ConfigError` when this agent cannot work on ``tasks`` at all; called
        before the run starts (nothing is written yet), so a misconfiguration is one clear error instead of a
        run of failed episodes."""

    def begin_run(self, run_dir: Path) -> None:
        """Called once before the first episode of a run; ``run_dir`` is the only place to write to."""

    def end_run(self) -> None:
        """Called once after the last episode of a run, also when the run failed."""

    def episode_saved(self, episode_id: str) -> None:
        """The harness has written the result of episode ``episode_id`` (also for one finished before a
        resume): a resumed run will not run it again, so what the agent kept to resume it can go."""

    @abstractmethod
    def run_episode(
        self, env: Env, task: Task, observation: Observation, *, episode_id: str = ""
    ) -> EpisodeStats:
        """Act in ``env`` (already reset to ``task``; ``observation`` is the reset observation) by calling
        ``env.step`` until a step result has ``done``. Re-read ``env.skills`` after each reset.

        ``episode_id`` is unique within the run and stable across a resume (e.g. ``base/7``)."""
