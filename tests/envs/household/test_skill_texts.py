"""The household profiles spell their skills through the one skill-language module
(:func:`envs.skill_language.skill_text`), not their own f-strings: every skill of every committed base
scene reads back (:func:`envs.skill_language.parse_skill`) as the verb and name it was built from, and the
texts are the EmbodiedBench ones the golden prompts hold."""

from __future__ import annotations

import pytest

from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.household.profiles import PROFILES
from envs.skill_language import DROP, PUT_DOWN, SkillCall, parse_skill, skill_text


@pytest.mark.parametrize("profile", ["alfred", "habitat"])
def test_every_skill_is_spelled_by_the_skill_language(profile: str) -> None:
    env = HouseholdEnv(HouseholdConfig(profile=profile))
    scenes = {t.scene: t for t in env.tasks("base")}
    seen = 0
    for task in scenes.values():
        env.reset(task)
        for skill in PROFILES[profile].skills(env.world):
            assert skill.text == skill_text(skill.verb, skill.arg)
            assert parse_skill(skill.text) == SkillCall(skill.verb, skill.arg)
            seen += 1
        assert env.skills == tuple(s.text for s in PROFILES[profile].skills(env.world))
    assert seen > 100


def test_the_texts_are_embodiedbench_s() -> None:
    assert skill_text("find", "Cabinet_2") == "find a Cabinet_2"
    assert skill_text("navigate", "table 2") == "navigate to the table 2"
    assert skill_text("place", "table 2") == "place at the table 2"
    assert skill_text("on", "Faucet") == "turn on the Faucet"
    assert (
        (skill_text("put"), skill_text("drop"))
        == (PUT_DOWN, DROP)
        == (
            "put down the object in hand",
            "drop the object in hand",
        )
    )
    with pytest.raises(ValueError, match="no EmbodiedBench skill has the verb 'fly'"):
        skill_text("fly", "x")
