""":class:`envs.wrapper.EnvWrapper`: the one base of env forwarders conforms to the Env contract wherever its
inner env does, and forwards the declared capabilities."""

from __future__ import annotations

import pytest

from envs.base import Env, EnvCapabilities, Observation, StepResult
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.task import Task
from envs.wrapper import EnvWrapper
from robomem.eval.harness import RecordingEnv
from robomem.testing.conformance import run_env_suite


@pytest.mark.parametrize("wrapper", [EnvWrapper, RecordingEnv])
def test_a_wrapped_household_env_conforms(wrapper: type[EnvWrapper]) -> None:
    env = wrapper(HouseholdEnv(HouseholdConfig(profile="alfred")))
    run_env_suite(env, env.tasks("base")[0])


def test_capabilities_are_declared_and_forwarded() -> None:
    household = HouseholdEnv(HouseholdConfig())
    full = EnvCapabilities(tasks=True, lifelong=True, perturb=True, budget=True)
    assert household.capabilities() == full
    assert EnvWrapper(household).capabilities() == full
    assert RecordingEnv(household).capabilities() == full

    class Bare(Env):
        @property
        def skills(self) -> tuple[str, ...]:
            return ("wait",)

        def reset(self, task: Task, *, keep_world: bool = False) -> Observation:
            raise AssertionError("not called")

        def step(self, action: int | str, *, timeout_s: float | None = None) -> StepResult:
            raise AssertionError("not called")

    assert Bare().capabilities() == EnvCapabilities()
    assert EnvWrapper(Bare()).capabilities() == EnvCapabilities()


def test_the_wrapper_forwards_the_optional_parts_and_the_world_flag() -> None:
    household = HouseholdEnv(HouseholdConfig())
    wrapped = EnvWrapper(household)
    sequence = wrapped.lifelong_sequences()[0]
    assert sequence == household.lifelong_sequences()[0]
    assert wrapped.subsets() == household.subsets()
    wrapped.reset(sequence.tasks[0])
    assert wrapped.world_persists is False
    wrapped.reset(sequence.tasks[1], keep_world=True)
    assert wrapped.world_persists is True
    assert len(wrapped.perturb(1, seed=3)) == 1
    assert wrapped.profile == household.profile
    assert wrapped.privileged_success is household.privileged_success


def test_only_an_owning_wrapper_closes_its_inner_env() -> None:
    closed: list[bool] = []

    class Closing(HouseholdEnv):
        def close(self) -> None:
            closed.append(True)

    RecordingEnv(Closing(HouseholdConfig())).close()
    assert closed == []
    EnvWrapper(Closing(HouseholdConfig())).close()
    assert closed == [True]
