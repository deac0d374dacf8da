"""The environment registry: ``env.type`` in the config selects an entry here.

Built-in environments register when this module is imported. Registering never imports an optional
dependency: the ROS 2 robot imports rclpy only when it is built, and the EmbodiedBench bridge is a plain
socket client (EmbodiedBench itself runs in another process).
"""

from __future__ import annotations

from envs.base import Env
from envs.ros import RosConfig, make_ros_env
from robomem.registry import Registry

__all__ = ("ENVS",)

ENVS: Registry[Env] = Registry("env")

# Registration side effects: the household simulator and the bridge client register themselves.
import envs.bridge.client  # noqa: E402
import envs.household.env  # noqa: E402, F401

ENVS.add("ros", make_ros_env, RosConfig)
