"""Registration of the built-in planners and critics (imported on the first lookup in their registries)."""

from __future__ import annotations

from modules.prefrontal.base import Critic, Planner
from modules.prefrontal.critic import DeterministicCritic, DeterministicCriticConfig
from modules.prefrontal.llm_critic import LLMCritic, LLMCriticConfig
from modules.prefrontal.llm_planner import LLMPlanner, LLMPlannerConfig
from modules.prefrontal.registry import CRITICS, PLANNERS
from modules.prefrontal.symbolic import SymbolicPlanner, SymbolicPlannerConfig
from robomem.errors import ConfigError
from robomem.llm.base import LLMClient


def _needs(llm: LLMClient | None, what: str) -> LLMClient:
    if llm is None:
        raise ConfigError(f"the llm {what} needs an LLM endpoint: set base_url and model", key="agent.llm")
    return llm


@PLANNERS.register("symbolic", SymbolicPlannerConfig)
def _symbolic(config: SymbolicPlannerConfig, *, llm: LLMClient | None = None) -> Planner:
    return SymbolicPlanner(config)


@PLANNERS.register("llm", LLMPlannerConfig)
def _llm_planner(config: LLMPlannerConfig, *, llm: LLMClient | None = None) -> Planner:
    return LLMPlanner(config, llm=_needs(llm, "planner"))


@CRITICS.register("deterministic", DeterministicCriticConfig)
def _deterministic(config: DeterministicCriticConfig, *, llm: LLMClient | None = None) -> Critic:
    return DeterministicCritic(config)


@CRITICS.register("llm", LLMCriticConfig)
def _llm_critic(config: LLMCriticConfig, *, llm: LLMClient | None = None) -> Critic:
    # An unusable critic reply falls back to the precondition checks rather than waving the action through.
    return LLMCritic(config, llm=_needs(llm, "critic"), fallback=DeterministicCritic())
