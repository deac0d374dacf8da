from __future__ import annotations

from envs.base import Env, Observation
from envs.task import Task
from robomem.agents import RandomAgent, RandomAgentConfig
from tests.robomem.scripted_env import ScriptedTestConfig, ScriptedTestEnv, make_task


def _actions(agent: RandomAgent, tasks: list[Task]) -> dict[str, list[object]]:
    env = ScriptedTestEnv(ScriptedTestConfig(max_steps=12))
    actions = {}
    for task in tasks:
        env.calls.clear()
        stats = agent.run_episode(env, task, env.reset(task))
        actions[task.task_id] = [c[1] for c in env.calls if c[0] == "step"]
        assert stats.planner_steps == len(actions[task.task_id])
    return actions


def test_episodes_are_reproducible_and_order_independent() -> None:
    # need=99 keeps every episode running to max_steps, so the action lists are long enough to compare.
    tasks = [make_task("t1", "base", need=99), make_task("t2", "base", need=99)]
    forward = _actions(RandomAgent(RandomAgentConfig(seed=5)), tasks)
    backward = _actions(RandomAgent(RandomAgentConfig(seed=5)), tasks[::-1])
    assert forward == backward
    assert forward["t1"] != forward["t2"]
    assert all(len(a) == 12 and set(a) <= {0, 1, 2} for a in forward.values())


def test_seed_changes_the_actions() -> None:
    task = [make_task("t1", "base", need=99)]
    assert _actions(RandomAgent(RandomAgentConfig(seed=1)), task) != _actions(
        RandomAgent(RandomAgentConfig(seed=2)), task
    )


def test_stops_when_the_env_says_done() -> None:
    env = ScriptedTestEnv(ScriptedTestConfig(max_steps=3))
    task = make_task("t1", "base", need=99)
    stats = RandomAgent(RandomAgentConfig()).run_episode(env, task, env.reset(task))
    assert stats.planner_steps == 3
    assert not stats.empty_plan


def test_no_skills_is_an_empty_plan() -> None:
    class NoSkills(ScriptedTestEnv):
        @property
        def skills(self) -> tuple[str, ...]:
            return ()

    env: Env = NoSkills()
    task = make_task("t1", "base")
    observation: Observation = env.reset(task)
    stats = RandomAgent(RandomAgentConfig()).run_episode(env, task, observation)
    assert stats.empty_plan
    assert stats.planner_steps == 0


def test_a_timed_out_skill_is_a_failed_step_not_the_end() -> None:
    env = ScriptedTestEnv(ScriptedTestConfig(max_steps=12))
    task = make_task("slow_1", "base", need=99)  # "wait" times out in this task
    stats = RandomAgent(RandomAgentConfig(seed=3)).run_episode(env, task, env.reset(task))
    actions = [c[1] for c in env.calls if c[0] == "step"]
    assert 2 in actions  # "wait" was drawn (and timed out) at least once
    assert stats.planner_steps == len(actions) == 12  # the episode went on to the step limit
