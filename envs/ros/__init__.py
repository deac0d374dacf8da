"""The ROS 2 robot adapter (``env.type: ros``): robomem drives a robot's skill server over ROS 2 topics.

Importing this package never imports rclpy; building the env does (the ``ros`` extra). The contract is in
deploy/ros2/CONTRACT.md, the reference skill server in :mod:`envs.ros.sim_server`.
"""

from __future__ import annotations

from envs.base import Env
from envs.registry import ENVS
from envs.ros.config import RosConfig

__all__ = ("RosConfig", "make_ros_env")


@ENVS.register("ros", RosConfig)
def make_ros_env(config: RosConfig) -> Env:
    """The registry's factory: raises :class:`envs.ros.participant.RosNotInstalledError` without rclpy."""
    from envs.ros.env import RosEnv  # imports rclpy on first use

    return RosEnv(config)
