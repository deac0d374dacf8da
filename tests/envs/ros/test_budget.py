"""A robot's remaining budget and skill guide over real ROS 2: the episode limits are enforced (and counted)
by the client env, so the planner hears them from there."""

from __future__ import annotations

import pytest

from envs.base import Budget
from envs.guides import profile_guide
from envs.ros.config import RosConfig
from envs.ros.env import RosEnv
from tests.envs.ros.conftest import StartServer

pytestmark = pytest.mark.ros


def test_budget_counts_down_per_episode_and_the_guide_is_the_profiles(start_server: StartServer) -> None:
    server = start_server()
    env = RosEnv(
        RosConfig(namespace=server.namespace, connect_timeout_s=30, max_steps=3, max_invalid_actions=2)
    )
    try:
        task = env.tasks("base")[0]
        env.reset(task)
        assert env.budget() == Budget(steps_left=3, invalid_actions_left=2)
        env.step(env.skills[0])
        env.step("fly to the moon")  # never sent to the robot: an invalid action, not a step
        assert env.budget() == Budget(steps_left=2, invalid_actions_left=1)
        env.step("fly to the moon")  # the invalid-action limit ends the episode
        assert env.budget() == Budget(steps_left=0, invalid_actions_left=0)
        env.reset(task)
        assert env.budget() == Budget(steps_left=3, invalid_actions_left=2)
        assert env.skill_guide() == profile_guide("alfred") != ""
    finally:
        env.close()
