"""Skill guides: every skill family a profile offers is described, for each env that speaks the profile."""

from __future__ import annotations

import pytest

from envs.base import Budget, Env, Observation, StepResult
from envs.guides import profile_guide
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.household.profiles import PROFILES
from envs.household.suites import load_suite
from envs.task import Task

#: How each skill family's texts begin, per profile (EB's grammar), and the words its guide entry starts
#: with. A family missing from this table fails the coverage test below.
FAMILIES = {
    "alfred": {
        "find a ": "- find a X",
        "pick up the ": "- pick up the X",
        "put down the object in hand": "- put down the object in hand",
        "drop the object in hand": "- drop the object in hand",
        "open the ": "- open the X / close the X",
        "close the ": "- open the X / close the X",
        "turn on the ": "- turn on the X / turn off the X",
        "turn off the ": "- turn on the X / turn off the X",
        "slice the ": "- slice the X",
    },
    "habitat": {
        "navigate to the ": "- navigate to the R",
        "pick up the ": "- pick up the O",
        "place at the ": "- place at the R",
        "open the ": "- open the R / close the R",
        "close the ": "- open the R / close the R",
    },
}


def _family(profile: str, skill: str) -> str:
    starts = [s for s in FAMILIES[profile] if skill.startswith(s)]
    assert starts, f"{profile} skill {skill!r} belongs to no described family"
    return max(starts, key=len)


@pytest.mark.parametrize("profile", ["alfred", "habitat"])
def test_the_guide_describes_every_skill_family_of_every_committed_house(profile: str) -> None:
    env = HouseholdEnv(HouseholdConfig(profile=profile))
    suite = load_suite("v1", profile)
    guide = env.skill_guide()
    seen = set()
    for scene in sorted(suite.scenes):
        seen |= {_family(profile, skill.text) for skill in PROFILES[profile].skills(suite.world(scene))}
    assert seen == set(FAMILIES[profile])  # every family occurs, so every entry is exercised
    for family in seen:
        assert FAMILIES[profile][family] in guide
    assert "hold one object at a time" in " ".join(guide.split())  # the one-hand rule, in every profile


def test_alfred_guide_states_the_implicit_receptacle_and_the_appliance_recipes() -> None:
    guide = profile_guide("alfred")
    assert 'Finding also sets where "put down"' in guide
    for recipe in ("- clean: put the object in a Sink", "- hot: put the object in a Microwave", "- cold:"):
        assert recipe in guide
    assert "you are holding a knife" in " ".join(guide.split())


def test_simulator_only_rules_are_added_by_the_simulator_not_by_the_shared_guide() -> None:
    habitat = HouseholdEnv(HouseholdConfig(profile="habitat"))
    assert habitat.skill_guide().startswith(profile_guide("habitat"))
    assert "becomes cold" in habitat.skill_guide()
    assert "cold" not in profile_guide("habitat")  # EB-Habitat itself has no temperature
    assert HouseholdEnv(HouseholdConfig(profile="alfred")).skill_guide() == profile_guide("alfred")


class _BareEnv(Env):
    """The contract's defaults, as a third-party env that overrides nothing gets them."""

    def __init__(self, profile: str) -> None:
        self.profile = profile

    @property
    def skills(self) -> tuple[str, ...]:
        return ()

    def reset(self, task: Task, *, keep_world: bool = False) -> Observation:
        raise NotImplementedError

    def step(self, action: int | str, *, timeout_s: float | None = None) -> StepResult:
        raise NotImplementedError


def test_contract_defaults_give_the_profile_guide_and_no_known_budget() -> None:
    assert _BareEnv("alfred").skill_guide() == profile_guide("alfred") != ""
    assert _BareEnv("my_robot").skill_guide() == ""
    assert _BareEnv("alfred").budget() == Budget()


@pytest.mark.parametrize("name", ["", "../alfred", "alfred.txt", "/etc/passwd", "guides/alfred"])
def test_a_profile_name_is_never_a_path(name: str) -> None:
    assert profile_guide(name) == ""
