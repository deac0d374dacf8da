"""The skill executor turns a skill's outcome, a timed-out one included, into the step the planner reads."""

from __future__ import annotations

import pytest

from modules.cerebellum.executor import ExecutorConfig, SkillExecutor
from robomem.errors import EnvConnectionError
from tests.robomem.scripted_env import ScriptedTestConfig, ScriptedTestEnv, make_task


def test_a_failed_skill_is_a_normal_step() -> None:
    env = ScriptedTestEnv()
    env.reset(make_task("t", "base"))
    execution = SkillExecutor().execute(env, "fumble")
    assert (execution.success, execution.timed_out, execution.done) == (False, False, False)
    assert execution.feedback == "fumble done"
    assert execution.info is not None and execution.info["env_step"] == 1


def test_a_timed_out_skill_is_a_failed_step_that_may_end_the_episode() -> None:
    env = ScriptedTestEnv(ScriptedTestConfig(max_steps=2))
    env.reset(make_task("slow_1", "base", need=5))
    executor = SkillExecutor(ExecutorConfig(timeout_s=1.5))
    first = executor.execute(env, "wait")
    assert (first.success, first.timed_out, first.done) == (False, True, False)
    assert first.feedback.startswith("Last action is invalid. The skill did not finish in time")
    assert "1.5 s" in first.feedback
    assert first.observation is None
    assert executor.execute(env, "wait").done  # the second one used up the episode's steps


def test_a_dead_env_is_not_a_failed_skill() -> None:
    env = ScriptedTestEnv()
    env.reset(make_task("boom", "base"))
    with pytest.raises(EnvConnectionError):
        SkillExecutor().execute(env, "advance")
