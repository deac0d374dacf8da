"""The offline symbolic planner (``planner.type: symbolic``) and what it plans on: beliefs rebuilt from the
planning input (perception, memory, the episode's own history), the goal's agenda, where to look, and the
tactics that turn an agenda item into skills. The deterministic critic reads the same beliefs."""

from modules.prefrontal.symbolic.planner import SymbolicPlanner, SymbolicPlannerConfig

__all__ = ("SymbolicPlanner", "SymbolicPlannerConfig")
