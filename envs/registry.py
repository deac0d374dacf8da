"""The environment registry: ``env.type`` in the config selects an entry here.

The built-in environments register themselves next to their code (``@ENVS.register("household",
HouseholdConfig)``); their modules are imported on the first lookup, so this module imports none of them.
Registering never imports an optional dependency: the ROS 2 robot imports rclpy only when it is built, and
the EmbodiedBench bridge is a plain socket client (EmbodiedBench itself runs in another process).

Third-party environments register through the ``robomem.envs`` entry-point group: the entry point names a
factory ``(config)`` — a function or a class — with a ``Config`` attribute (a pydantic model whose ``type``
defaults to the entry point's name). README.md, "Your own environment", says what an env must do.
"""

from __future__ import annotations

from envs.base import Env
from robomem.registry import Registry

__all__ = ("ENVS",)

ENVS: Registry[Env] = Registry(
    "env",
    entry_points="robomem.envs",
    builtins=("envs.household.env", "envs.bridge.client", "envs.ros"),
)
