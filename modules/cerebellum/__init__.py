"""Cerebellum: executes one skill through the environment contract."""

from modules.cerebellum.base import Execution, Executor
from modules.cerebellum.executor import ExecutorConfig, SkillExecutor

__all__ = ("Execution", "Executor", "ExecutorConfig", "SkillExecutor")
