"""The documented baseline ``random``: every step executes a uniformly random skill from the current list.

Its seed (``agent.seed``, else the run's ``eval.seed``) combines with the task id, so an episode's actions do
not depend on which episodes ran before it (reproducible, order-independent)."""

from __future__ import annotations

import random
from typing import Literal

from pydantic import BaseModel, ConfigDict

from envs.base import Env, Observation
from envs.task import Task
from robomem.agents.base import Agent, EpisodeStats
from robomem.errors import EnvTimeoutError

__all__ = ("RandomAgent", "RandomAgentConfig")

#: Safety net for an environment that never reports ``done``; real envs stop far earlier (``max_steps``).
_MAX_ACTIONS = 10_000


class RandomAgentConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["random"] = "random"
    #: ``None``: the run's seed (``eval.seed``, ``--seed``).
    seed: int | None = None


class RandomAgent(Agent):
    def __init__(self, config: RandomAgentConfig, *, run_seed: int = 0) -> None:
        self.config = config
        self.seed = run_seed if config.seed is None else config.seed

    def run_episode(
        self, env: Env, task: Task, observation: Observation, *, episode_id: str = ""
    ) -> EpisodeStats:
        # A string seed is hashed with SHA-512 by `random`, so it is stable across processes.
        rng = random.Random(f"{self.seed}:{task.task_id}")
        steps = 0
        while steps < _MAX_ACTIONS:
            skills = env.skills
            if not skills:
                # Nothing to choose from: the EB analogue is a planner returning an empty plan.
                return EpisodeStats(planner_steps=steps, empty_plan=True)
            try:
                done = env.step(rng.randrange(len(skills))).done
            except EnvTimeoutError as err:  # a failed step, as for any agent (the env stopped the skill)
                done = err.done
            steps += 1
            if done:
                break
        return EpisodeStats(planner_steps=steps)
