"""The public Env conformance suite (:mod:`robomem.testing.conformance.env`) on the household simulator, and
proof that it catches an environment that breaks the contract."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from envs.base import Env, StepResult
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.task import Task
from robomem.testing.conformance import ENV_CHECKS, run_env_suite
from robomem.testing.conformance import env as suite


@pytest.mark.parametrize("profile", ["alfred", "habitat"])
def test_the_household_env_conforms(profile: str) -> None:
    env = HouseholdEnv(HouseholdConfig(profile=profile))
    run_env_suite(env, env.tasks("base")[0])


class _Lenient(HouseholdEnv):
    """Breaks the contract the way a hand-written env easily does: no invalid-action prefix, no limits."""

    def step(self, action: int | str, *, timeout_s: float | None = None) -> StepResult:
        result = super().step(action, timeout_s=timeout_s)
        info = {**result.info, "env_feedback": result.info["env_feedback"].removeprefix(suite.INVALID_PREFIX)}
        return result.model_copy(update={"info": info, "done": False})

    def budget(self):
        return super().budget().model_copy(update={"steps_left": None, "invalid_actions_left": None})


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (suite.check_unknown_actions_are_invalid_steps, "feedback must start with 'Last action is invalid.'"),
        (suite.check_invalid_actions_end_the_episode, "did not end the episode"),
    ],
)
def test_the_suite_catches_an_env_that_breaks_the_contract(
    check: Callable[[Env, Task], None], message: str
) -> None:
    env = _Lenient(HouseholdConfig(max_steps=2000, max_invalid_actions=2000))
    assert check in ENV_CHECKS
    with pytest.raises(AssertionError, match=message):
        check(env, env.tasks("base")[0])
