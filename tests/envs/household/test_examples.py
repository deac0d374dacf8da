"""In-context examples: oracle-solved tasks in houses that are never evaluated, reproducible, and valid."""

from __future__ import annotations

import pytest

from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.household.examples import (
    EXAMPLE_SEED,
    KINDS,
    MAX_EXAMPLES,
    committed_instructions,
    example_suite,
    gold_examples,
)
from envs.household.generate import SUITE_SEED
from envs.household.suites import SUITE_DIR, Suite

PROFILES = ("alfred", "habitat")


def _committed(profile: str) -> list[Suite]:
    paths = sorted(SUITE_DIR.glob(f"{profile}_*.json"))
    assert paths, "no committed suite to compare with"
    return [Suite.model_validate_json(p.read_text(encoding="utf-8")) for p in paths]


def _layout(scene: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in scene.items() if key != "scene"}


@pytest.mark.parametrize("profile", PROFILES)
def test_examples_use_no_house_and_no_task_of_the_committed_suites(profile: str) -> None:
    examples = gold_examples(profile, MAX_EXAMPLES)
    houses = example_suite(profile, MAX_EXAMPLES).scenes
    assert EXAMPLE_SEED != SUITE_SEED
    for suite in _committed(profile):
        evaluated = [t for tasks in suite.subsets.values() for t in tasks]
        evaluated += [t for sequence in suite.lifelong for t in sequence.tasks]
        assert not set(houses) & set(suite.scenes)
        # Not just other names: other houses (no layout of an evaluated house under a new name).
        layouts = [_layout(scene) for scene in suite.scenes.values()]
        assert all(_layout(world) not in layouts for world in houses.values())
        for example in examples:
            assert example.task.scene in houses
            assert example.instruction not in {t.instruction for t in evaluated}
            assert (example.task.scene, example.instruction) not in {
                (t.scene, t.instruction) for t in evaluated
            }
    assert committed_instructions(profile)  # the exclusion list really was read


@pytest.mark.parametrize("profile", PROFILES)
def test_every_gold_plan_solves_its_task_in_a_fresh_house(profile: str) -> None:
    suite = example_suite(profile, MAX_EXAMPLES)
    env = HouseholdEnv(HouseholdConfig(profile=profile), suite=suite)  # EB's 30-step limit
    for example in gold_examples(profile, MAX_EXAMPLES):
        env.reset(example.task)
        results = [env.step(action) for action in example.actions]
        assert all(r.info["last_action_success"] for r in results), example
        assert results[-1].info["task_success"] == 1.0 and results[-1].done
        assert not any(r.info["task_success"] for r in results[:-1])  # no padding after the goal


@pytest.mark.parametrize("profile", PROFILES)
def test_examples_are_reproducible_and_a_smaller_k_is_a_prefix(profile: str) -> None:
    fresh = gold_examples.__wrapped__(profile, 4)  # bypass the cache
    assert fresh == gold_examples(profile, 4)
    assert gold_examples(profile, 2) == fresh[:2]
    kinds = KINDS[profile]
    assert [e.task.task_type for e in fresh] == [kinds[i % len(kinds)] for i in range(4)]


def test_bad_requests_are_refused() -> None:
    with pytest.raises(ValueError, match="no examples for profile 'kitchen'"):
        gold_examples("kitchen", 1)
    with pytest.raises(ValueError, match="between 0 and 10"):
        gold_examples("alfred", MAX_EXAMPLES + 1)
    assert gold_examples("alfred", 0) == ()
