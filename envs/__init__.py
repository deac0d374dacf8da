"""Environments behind one contract (:class:`envs.base.Env`): the household simulator, the EmbodiedBench
bridge and the ROS 2 robot; other packages add theirs through the ``robomem.envs`` entry-point group."""

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
