"""Agents: ``agent.type`` in the config selects an entry of :data:`AGENTS`."""

from robomem.agents.base import Agent, EpisodeStats
from robomem.agents.random_agent import RandomAgent, RandomAgentConfig
from robomem.registry import Registry

__all__ = ("AGENTS", "Agent", "EpisodeStats", "RandomAgent", "RandomAgentConfig")

AGENTS: Registry[Agent] = Registry("agent")

AGENTS.add("random", RandomAgent, RandomAgentConfig)
