"""Agents: ``agent.type`` in the config selects an entry of :data:`AGENTS`.

Factories take the agent's config and keyword options from the run (``fresh_memory``, ``run_seed``: the
run's ``eval.seed``; ``work_dir``: a parallel worker's own folder in the run, robomem/eval/parallel.py);
agents ignore the options they have no use for.
"""

from typing import Any

from robomem.agents.base import Agent, EpisodeStats
from robomem.agents.random_agent import RandomAgent, RandomAgentConfig
from robomem.agents.robomemory_config import RoboMemoryAgentConfig
from robomem.registry import Registry

__all__ = ("AGENTS", "Agent", "EpisodeStats", "RandomAgent", "RandomAgentConfig", "RoboMemoryAgentConfig")

#: Third-party agents register through the ``robomem.agents`` entry-point group: a factory ``(config,
#: **options)`` with a ``Config`` whose ``type`` defaults to the entry point's name.
AGENTS: Registry[Agent] = Registry("agent", entry_points="robomem.agents")


def _random(config: RandomAgentConfig, *, run_seed: int = 0, **_options: Any) -> Agent:
    return RandomAgent(config, run_seed=run_seed)


def _robomem(config: Any, *, fresh_memory: bool = False, work_dir: Any = None, **_options: Any) -> Agent:
    # Imported on use: the LangGraph agent pulls in langgraph, the memory stores and the embedder.
    from robomem.agents.robomemory import RoboMemoryAgent

    return RoboMemoryAgent(config, fresh_memory=fresh_memory, work_dir=work_dir)


AGENTS.add("random", _random, RandomAgentConfig)
AGENTS.add("robomem", _robomem, RoboMemoryAgentConfig)
