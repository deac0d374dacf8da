"""Planner and critic plug-ins, keyed by ``agent.planner.type`` and ``agent.critic.type``.

Built-ins (registered by :mod:`modules.prefrontal.builtins`, imported on the first lookup): planners
``symbolic`` (offline default) and ``llm``; critics ``deterministic`` and ``llm``. Third-party ones register
through the entry-point groups ``robomem.planners`` and ``robomem.critics``: the entry point names a class
with a ``Config`` attribute (a pydantic model whose ``type`` field defaults to the entry point's name) and a
constructor ``(config, *, llm)`` (``llm`` is ``None`` without ``agent.llm``).
"""

from __future__ import annotations

from modules.prefrontal.base import Critic, Planner
from robomem.registry import Registry

__all__ = ("CRITICS", "PLANNERS")

PLANNERS: Registry[Planner] = Registry(
    "planner", entry_points="robomem.planners", builtins="modules.prefrontal.builtins"
)
CRITICS: Registry[Critic] = Registry(
    "critic", entry_points="robomem.critics", builtins="modules.prefrontal.builtins"
)
