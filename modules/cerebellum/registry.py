"""Executor plug-ins, keyed by ``agent.executor.type``.

Built-in: ``skill`` (:class:`modules.cerebellum.executor.SkillExecutor`, registered next to its code and
imported on the first lookup). Third-party executors register through the ``robomem.executors`` entry-point
group: a factory ``(config)`` whose ``Config`` subclasses :class:`ExecutorConfig` with ``type`` defaulting
to the entry point's name; what it builds provides :class:`modules.cerebellum.base.Executor`.
"""

from __future__ import annotations

from modules.cerebellum.base import Executor, ExecutorConfig
from robomem.registry import Registry

__all__ = ("EXECUTORS", "ExecutorConfig")

EXECUTORS: Registry[Executor] = Registry(
    "executor", entry_points="robomem.executors", builtins="modules.cerebellum.executor", base=ExecutorConfig
)
