"""In-context examples for planners: tasks solved by the oracle in houses generated only for them.

An example house is generated from its own seed and id (``<profile>_example_NN``), so it is never a house of
the committed evaluation suites, and a drafted task whose instruction appears anywhere in those suites is
skipped, so an example never gives away an evaluated task (``tests/envs/household/test_examples.py`` checks
both). The same ``(profile, k)`` always gives the same examples: prompts stay reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

from envs.household.config import HouseholdConfig
from envs.household.drafts import CLEAN, COOL, HEAT, LOOK, MOVABLE, SIMPLE, TWO, Drafter
from envs.household.env import HouseholdEnv
from envs.household.generate import GOLD_LIMIT
from envs.household.oracle import OracleError, solve
from envs.household.scenes import generate_scene
from envs.household.suites import SUITE_DIR, Suite
from envs.task import Task

__all__ = (
    "EXAMPLE_SEED",
    "KINDS",
    "MAX_EXAMPLES",
    "Example",
    "committed_instructions",
    "example_suite",
    "gold_examples",
)

#: Not the suites' seed: example houses share no layout with evaluated ones.
EXAMPLE_SEED = 424_242
MAX_EXAMPLES = 10
#: Task types in the order examples are drawn: the ones with the most preconditions first (cleaning and
#: heating show the appliance sequences a model cannot guess; then two objects, a movable receptacle ...).
KINDS = {
    "alfred": (CLEAN, HEAT, TWO, MOVABLE, COOL, LOOK, SIMPLE),
    "habitat": (COOL, TWO, SIMPLE),
}
_ATTEMPTS = 60


@dataclass(frozen=True)
class Example:
    #: The task, in a house of :func:`example_suite` (not of the evaluation suites).
    task: Task
    #: The oracle's gold plan: every action succeeds and the last one completes the task.
    actions: tuple[str, ...]

    @property
    def instruction(self) -> str:
        return self.task.instruction


@lru_cache(maxsize=4)
def committed_instructions(profile: str) -> frozenset[str]:
    """Every instruction of every committed suite file of ``profile`` (all subsets and lifelong tasks)."""
    instructions: set[str] = set()
    for path in sorted(SUITE_DIR.glob(f"{profile}_*.json")):
        suite = Suite.model_validate_json(path.read_text(encoding="utf-8"))
        for tasks in suite.subsets.values():
            instructions.update(t.instruction for t in tasks)
        for sequence in suite.lifelong:
            instructions.update(t.instruction for t in sequence.tasks)
    return frozenset(instructions)


def _scene_id(profile: str, i: int) -> str:
    return f"{profile}_example_{i + 1:02d}"


def example_suite(profile: str, k: int) -> Suite:
    """The houses examples are solved in (no tasks): one per example, from :data:`EXAMPLE_SEED`."""
    scenes = {
        _scene_id(profile, i): generate_scene(profile, _scene_id(profile, i), EXAMPLE_SEED) for i in range(k)
    }
    return Suite(
        version="examples",
        profile=profile,
        seed=EXAMPLE_SEED,
        scenes={name: world.to_dict() for name, world in scenes.items()},
    )


@lru_cache(maxsize=16)
def gold_examples(profile: str, k: int) -> tuple[Example, ...]:
    """``k`` solved tasks of ``profile`` (at most :data:`MAX_EXAMPLES`), one house each."""
    if profile not in KINDS:
        raise ValueError(f"no examples for profile {profile!r}; profiles: {', '.join(KINDS)}")
    if not 0 <= k <= MAX_EXAMPLES:
        raise ValueError(f"k must be between 0 and {MAX_EXAMPLES}, got {k}")
    taken = committed_instructions(profile)
    rng = random.Random(f"examples/{profile}/{EXAMPLE_SEED}")
    examples: list[Example] = []
    suite = example_suite(profile, k)
    env = HouseholdEnv(HouseholdConfig(profile=profile, max_steps=200, max_invalid_actions=200), suite=suite)
    for i in range(k):
        scene = _scene_id(profile, i)
        kind = KINDS[profile][i % len(KINDS[profile])]
        example = _solve_one(env, suite, scene, kind, rng, taken)
        if example is None:
            raise RuntimeError(f"could not generate a {kind} example for {profile} in {scene}")
        examples.append(example)
    return tuple(examples)


def _solve_one(
    env: HouseholdEnv, suite: Suite, scene: str, kind: str, rng: random.Random, taken: frozenset[str]
) -> Example | None:
    for _attempt in range(_ATTEMPTS):
        draft = Drafter(suite.world(scene), rng).draft(kind, "base")
        if draft is None or draft.instruction in taken:
            continue
        task = Task(
            task_id=f"{scene}-{kind}",
            profile=suite.profile,
            subset="examples",
            task_type=draft.task_type,
            instruction=draft.instruction,
            scene=scene,
            goal=draft.goal,
        )
        env.reset(task)
        if env.goal_status()[1] > 0:
            continue  # partly done already: a poor demonstration
        try:
            actions = solve(env)
        except OracleError:
            continue
        if len(actions) <= GOLD_LIMIT:
            return Example(task, tuple(actions))
    return None
