"""The environment registry: ``env.type`` in the config selects an entry here.

Built-in environments register when this module is imported; heavy ones (ROS, EmbodiedBench bridge) will
register lazily so that registering never imports their optional dependencies.
"""

from __future__ import annotations

from envs.base import Env
from robomem.registry import Registry

__all__ = ("ENVS",)

ENVS: Registry[Env] = Registry("env")

# Registration side effect: the household simulator is always available.
import envs.household.env  # noqa: E402, F401
