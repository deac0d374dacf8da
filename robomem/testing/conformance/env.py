"""Conformance checks for :class:`envs.base.Env` implementations: what every environment must do for robomem's
agents, harness and memory to work on it (README.md, "Your own environment").

Every ``check_*`` function takes an open environment and one of its tasks, and raises ``AssertionError`` on a
violation. Each check resets the environment itself; they may run in any order on one env. Typical use::

    with MyEnv(MyEnv.Config()) as env:
        run_env_suite(env, env.tasks("base")[0])

What is checked:

* ``reset`` returns the task's instruction and a non-empty skill list of distinct texts;
* a step's ``info`` has every :class:`envs.base.StepInfo` key with its type; an id and its skill text are the
  same action; ``env_step`` counts from 1 after each ``reset``;
* an action that is not in the skill list (a text or an out-of-range id) is an invalid action, not an
  exception: ``action_id`` -1, ``last_action_success`` false, feedback starting with
  :data:`INVALID_PREFIX`, one more ``num_invalid_actions`` (whether it is also a step is the environment's
  rule: by EmbodiedBench's, which the household simulator and the bridge follow, it is not);
* the environment enforces its own limits: invalid actions end the episode (``done``) within its budget,
  and :meth:`envs.base.Env.budget`, when it says anything, counts down with the steps;
* the perception (when given) names the robot itself ``I`` and nothing else so;
* ``close`` may be called twice.
"""

from __future__ import annotations

from collections.abc import Callable

from envs.base import Env, StepInfo, StepResult
from envs.skill_language import INVALID_PREFIX
from envs.task import Task

__all__ = (
    "ENV_CHECKS",
    "INVALID_PREFIX",
    "check_budget_counts_down",
    "check_close_is_idempotent",
    "check_ids_and_texts_are_the_same_action",
    "check_info_keys",
    "check_invalid_actions_end_the_episode",
    "check_perception_names_the_agent_i",
    "check_reset",
    "check_reset_restarts_the_counts",
    "check_unknown_actions_are_invalid_steps",
    "run_env_suite",
)

#: The robot itself in perception relations (``I in Kitchen``, ``I holding Mug_1``).
AGENT_NODE = "I"
#: A step limit no sane environment exceeds before ending an episode of invalid actions.
LIMIT_BOUND = 1000
NOT_A_SKILL = "juggle the moon"

_INFO_TYPES: dict[str, type | tuple[type, ...]] = {
    "task_success": (int, float),
    "task_progress": (int, float),
    "last_action_success": bool,
    "env_feedback": str,
    "env_step": int,
    "action_id": int,
    "action_description": str,
    "instruction": str,
    "num_invalid_actions": int,
}


def check_reset(env: Env, task: Task) -> None:
    observation = env.reset(task)
    assert observation.instruction == task.instruction, "reset must return the task's instruction"
    skills = env.skills
    assert isinstance(skills, tuple), "the skill list must be a tuple"
    assert skills, "the skill list must not be empty"
    assert all(isinstance(s, str) and s for s in skills), "skills are non-empty texts"
    assert len(set(skills)) == len(skills), "skill texts must be distinct (an id is an index into them)"
    assert NOT_A_SKILL not in skills


def check_info_keys(env: Env, task: Task) -> None:
    env.reset(task)
    result = env.step(env.skills[0])
    assert isinstance(result, StepResult)
    _check_info(result.info)
    assert result.info["env_step"] == 1, "env_step counts the episode's steps from 1"
    assert result.info["instruction"] == task.instruction


def _check_info(info: StepInfo) -> None:
    for key, kind in _INFO_TYPES.items():
        assert key in info, f"step info lacks {key!r}"
        value = info[key]  # type: ignore[literal-required]
        assert isinstance(value, kind), f"step info {key!r} is {type(value).__name__}"
    assert 0.0 <= info["task_progress"] <= 1.0, "task_progress is a fraction"


def check_ids_and_texts_are_the_same_action(env: Env, task: Task) -> None:
    env.reset(task)
    skills = env.skills
    last = len(skills) - 1
    assert env.action_id(skills[last]) == last
    assert env.action_id(last) == last
    by_id = env.step(last).info
    assert by_id["action_id"] == last
    assert by_id["action_description"] == skills[last]
    env.reset(task)
    by_text = env.step(env.skills[last]).info
    assert by_text["action_id"] == last, "a skill given by its text gets its id in the skill list"


def check_unknown_actions_are_invalid_steps(env: Env, task: Task) -> None:
    env.reset(task)
    unknown: tuple[int | str, ...] = (NOT_A_SKILL, len(env.skills), -1)
    for before, action in enumerate(unknown):
        assert env.action_id(action) == -1
        result = env.step(action)
        info = result.info
        _check_info(info)
        assert info["action_id"] == -1, f"{action!r}: an action not in the skill list has id -1"
        assert info["last_action_success"] is False
        assert info["env_feedback"].startswith(INVALID_PREFIX), (
            f"{action!r}: feedback must start with {INVALID_PREFIX!r}, got {info['env_feedback']!r}"
        )
        assert info["num_invalid_actions"] == before + 1, "an unknown action counts as an invalid action"
        if result.done:
            return


def check_invalid_actions_end_the_episode(env: Env, task: Task) -> None:
    env.reset(task)
    budget = env.budget()
    limits = [n for n in (budget.steps_left, budget.invalid_actions_left) if n is not None]
    bound = min(limits) if limits else LIMIT_BOUND
    for _ in range(bound):
        if env.step(NOT_A_SKILL).done:
            return
    raise AssertionError(f"{bound} invalid actions did not end the episode: the env must enforce its limits")


def check_budget_counts_down(env: Env, task: Task) -> None:
    env.reset(task)
    first = env.budget()
    # A skill of the list is a step under any rule (an action outside it may not be: EmbodiedBench's rule).
    result = env.step(env.skills[0])
    after = env.budget()
    if first.steps_left is not None and after.steps_left is not None and not result.done:
        assert after.steps_left == first.steps_left - 1, "steps_left counts every step"
    if result.done:
        return
    env.step(NOT_A_SKILL)
    later = env.budget()
    if after.invalid_actions_left is not None and later.invalid_actions_left is not None:
        assert later.invalid_actions_left in (after.invalid_actions_left - 1, 0)


def check_reset_restarts_the_counts(env: Env, task: Task) -> None:
    env.reset(task)
    if not env.step(NOT_A_SKILL).done:
        env.step(env.skills[0])
    env.reset(task)
    info = env.step(env.skills[0]).info
    assert info["env_step"] == 1, "reset starts a new step count"
    assert info["num_invalid_actions"] == (not info["last_action_success"]), (
        "reset starts a new invalid-action count"
    )


def check_perception_names_the_agent_i(env: Env, task: Task) -> None:
    observation = env.reset(task)
    perception = observation.perception
    if perception is None:  # pixels only: nothing to check
        return
    for entity in perception.entities:
        assert (entity.name == AGENT_NODE) == (entity.kind == "agent"), (
            f"the robot itself is {AGENT_NODE!r} (kind 'agent'), nothing else: {entity.name!r}"
        )
    assert AGENT_NODE not in perception.holding
    for relation in perception.relations:
        assert relation.object != AGENT_NODE or relation.subject != AGENT_NODE


def check_close_is_idempotent(env: Env, task: Task) -> None:
    # Last in the suite: the env is closed afterwards.
    env.close()
    env.close()


ENV_CHECKS: tuple[Callable[[Env, Task], None], ...] = (
    check_reset,
    check_info_keys,
    check_ids_and_texts_are_the_same_action,
    check_unknown_actions_are_invalid_steps,
    check_invalid_actions_end_the_episode,
    check_budget_counts_down,
    check_reset_restarts_the_counts,
    check_perception_names_the_agent_i,
    check_close_is_idempotent,
)


def run_env_suite(env: Env, task: Task) -> None:
    """Every check, in order, on one environment (closed at the end)."""
    for check in ENV_CHECKS:
        check(env, task)
