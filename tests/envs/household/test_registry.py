"""``env.type: household`` in the registry, and its configuration."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.registry import ENVS


@pytest.mark.parametrize("profile", ["alfred", "habitat"])
def test_registry_builds_the_household_env(profile: str) -> None:
    config = HouseholdConfig.model_validate({"profile": profile, "max_steps": 12})
    env = ENVS.build(config)
    assert isinstance(env, HouseholdEnv)
    assert (env.profile, env.config.max_steps) == (profile, 12)
    assert ENVS.get("household").config_cls is HouseholdConfig
    task = env.tasks("base")[0]
    assert task.profile == profile
    env.reset(task)
    assert env.skills


def test_config_defaults() -> None:
    config = HouseholdConfig()
    assert config.model_dump() == {
        "type": "household",
        "profile": "alfred",
        "max_steps": 30,
        "max_invalid_actions": 10,
        "suite": "v1",
        "perturb_k": None,
    }


@pytest.mark.parametrize(
    "bad",
    [
        {"profile": "eb-navigation"},
        {"max_steps": 0},
        {"max_invalid_actions": 0},
        {"perturb_k": -1},
        {"seed": 3},
        {"type": "robot"},
    ],
)
def test_config_rejects_bad_values(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        HouseholdConfig.model_validate(bad)


def test_config_is_frozen() -> None:
    config = HouseholdConfig()
    with pytest.raises(ValidationError):
        config.max_steps = 5  # type: ignore[misc]
