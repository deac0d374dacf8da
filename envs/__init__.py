"""Environments behind one contract (:class:`envs.base.Env`): the household simulator, and later the
EmbodiedBench bridge and the ROS 2 robot."""

from envs.base import Budget, Env, Observation, PerceivedEntity, Perception, Relation, StepInfo, StepResult
from envs.task import Condition, LifelongSequence, Ref, RefRelation, Task

__all__ = (
    "Budget",
    "Condition",
    "Env",
    "LifelongSequence",
    "Observation",
    "PerceivedEntity",
    "Perception",
    "Ref",
    "RefRelation",
    "Relation",
    "StepInfo",
    "StepResult",
    "Task",
)
