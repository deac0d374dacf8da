"""The public Env conformance suite (:mod:`robomem.testing.conformance.env`) over real ROS 2: the ROS client
env against the reference skill server (a simulated robot in its own process, on loopback), bare and wrapped
in :class:`envs.wrapper.EnvWrapper`."""

from __future__ import annotations

import pytest

from envs.ros.config import RosConfig
from envs.ros.env import RosEnv
from envs.wrapper import EnvWrapper
from robomem.testing.conformance import run_env_suite
from tests.envs.ros.conftest import StartServer

pytestmark = pytest.mark.ros


@pytest.mark.parametrize("wrapped", [False, True])
def test_the_ros_env_conforms(start_server: StartServer, wrapped: bool) -> None:
    server = start_server()
    env = RosEnv(RosConfig(namespace=server.namespace, connect_timeout_s=30))
    task = env.tasks("base")[0]
    run_env_suite(EnvWrapper(env) if wrapped else env, task)
