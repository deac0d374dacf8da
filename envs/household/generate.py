"""The seeded task-suite generator: for each profile, the six EmbodiedBench-style subsets (50 tasks each)
over the 7 ALFRED task types, plus lifelong sequences. Every task is proven solvable by the oracle, which
also records its gold plan length. ``robomem suites generate`` reproduces the committed files byte for byte.
"""

from __future__ import annotations

import copy
import random

from envs.household.config import HouseholdConfig
from envs.household.drafts import CLEAN, COOL, HEAT, LOOK, MOVABLE, SIMPLE, TWO, Draft, Drafter
from envs.household.env import HouseholdEnv
from envs.household.oracle import OracleError, solve
from envs.household.scenes import generate_scene
from envs.household.suites import SUBSETS, Suite
from envs.household.wording import complexify
from envs.household.world import World
from envs.task import LifelongSequence, Task

__all__ = ("COMPOSITION", "SUITE_SEED", "SUITE_VERSION", "Draft", "generate_suite")

SUITE_VERSION = "v1"
SUITE_SEED = 20261125
N_SCENES = 12
N_SEQUENCES = 5
SEQUENCE_LENGTH = 10
GOLD_LIMIT = 30  # EmbodiedBench's step limit: every task must be solvable within it

#: Task types per subset. ALFRED follows EB-ALFRED's split counts; Habitat uses the types its skills can
#: express (no cleaning, heating, slicing, lamps or movable receptacles: EB-Habitat is rearrangement).
COMPOSITION: dict[str, dict[str, dict[str, int]]] = {
    "alfred": {
        "base": {CLEAN: 13, MOVABLE: 10, TWO: 10, SIMPLE: 10, LOOK: 7},
        "common_sense": {CLEAN: 13, SIMPLE: 12, MOVABLE: 11, LOOK: 8, TWO: 6},
        "spatial": {SIMPLE: 15, CLEAN: 12, TWO: 12, MOVABLE: 8, LOOK: 3},
        "visual_appearance": {TWO: 14, MOVABLE: 14, LOOK: 11, SIMPLE: 8, CLEAN: 3},
        "long_horizon": {HEAT: 28, COOL: 16, TWO: 6},
    },
    "habitat": {
        "base": {SIMPLE: 25, TWO: 15, COOL: 10},
        "common_sense": {SIMPLE: 25, TWO: 15, COOL: 10},
        "spatial": {SIMPLE: 25, TWO: 15, COOL: 10},
        "visual_appearance": {SIMPLE: 20, TWO: 20, COOL: 10},
        "long_horizon": {COOL: 25, TWO: 25},
    },
}
LIFELONG_KINDS = {"alfred": (SIMPLE, CLEAN, HEAT, COOL, TWO, MOVABLE, LOOK), "habitat": (SIMPLE, TWO, COOL)}


class _Verifier:
    """Runs drafts through the real simulator and the oracle."""

    def __init__(self, profile: str, scenes: dict[str, World]) -> None:
        suite = Suite(
            version=SUITE_VERSION,
            profile=profile,
            seed=SUITE_SEED,
            scenes={k: w.to_dict() for k, w in scenes.items()},
        )
        self.env = HouseholdEnv(
            HouseholdConfig(profile=profile, max_steps=200, max_invalid_actions=200), suite=suite
        )

    def check(self, task: Task, *, keep_world: bool = False) -> Task | None:
        env = self.env
        snapshot = copy.deepcopy(env.world) if keep_world else None
        env.reset(task, keep_world=keep_world)
        if env.goal_status()[1] > 0:
            return None
        try:
            actions = solve(env)
        except OracleError:
            if snapshot is not None:
                env.set_world(snapshot)
            return None
        if len(actions) > GOLD_LIMIT:
            if snapshot is not None:
                env.set_world(snapshot)
            return None
        return task.model_copy(update={"gold_plan_length": len(actions)})


def _task(profile: str, subset: str, index: int, scene: str, draft: Draft) -> Task:
    return Task(
        task_id=f"{profile}-{subset}-{index:03d}",
        profile=profile,
        subset=subset,
        task_type=draft.task_type,
        instruction=draft.instruction,
        scene=scene,
        goal=draft.goal,
    )


def generate_suite(profile: str) -> str:
    """Generate the whole suite of one profile and return its canonical JSON text."""
    rng = random.Random(f"suite/{profile}/{SUITE_SEED}")
    scene_ids = [f"{profile}_house_{k:02d}" for k in range(1, N_SCENES + 1)]
    home_ids = [f"{profile}_home_{k:02d}" for k in range(1, N_SEQUENCES + 1)]
    worlds = {sid: generate_scene(profile, sid, SUITE_SEED) for sid in scene_ids + home_ids}
    verifier = _Verifier(profile, worlds)
    subsets: dict[str, tuple[Task, ...]] = {}
    for subset in SUBSETS:
        if subset == "complex_instruction":
            continue
        subsets[subset] = _subset(profile, subset, rng, scene_ids, worlds, verifier)
    subsets["complex_instruction"] = tuple(
        t.model_copy(
            update={
                "task_id": t.task_id.replace("-base-", "-complex_instruction-"),
                "subset": "complex_instruction",
                "instruction": complexify(t.instruction, worlds[t.scene], rng),
            }
        )
        for t in subsets["base"]
    )
    lifelong = tuple(_sequence(profile, k, home_ids[k], rng, worlds, verifier) for k in range(N_SEQUENCES))
    suite = Suite(
        version=SUITE_VERSION,
        profile=profile,
        seed=SUITE_SEED,
        scenes={k: w.to_dict() for k, w in sorted(worlds.items())},
        subsets={s: subsets[s] for s in SUBSETS},
        lifelong=lifelong,
    )
    return suite.to_json()


def _subset(
    profile: str,
    subset: str,
    rng: random.Random,
    scene_ids: list[str],
    worlds: dict[str, World],
    verifier: _Verifier,
) -> tuple[Task, ...]:
    kinds = [k for k, n in COMPOSITION[profile][subset].items() for _ in range(n)]
    tasks: list[Task] = []
    seen: set[str] = set()
    for kind in kinds:
        for _attempt in range(60):
            scene = rng.choice(scene_ids)
            draft = Drafter(worlds[scene], rng).draft(kind, subset)
            if draft is None or draft.instruction in seen:
                continue
            task = verifier.check(_task(profile, subset, len(tasks) + 1, scene, draft))
            if task is not None:
                tasks.append(task)
                seen.add(draft.instruction)
                break
        else:
            raise RuntimeError(f"could not generate a {kind} task for {profile}/{subset}")
    return tuple(tasks)


def _sequence(
    profile: str, k: int, scene: str, rng: random.Random, worlds: dict[str, World], verifier: _Verifier
) -> LifelongSequence:
    tasks: list[Task] = []
    for i in range(SEQUENCE_LENGTH):
        world = verifier.env.world if i > 0 else worlds[scene]
        for _attempt in range(60):
            draft = Drafter(world, rng).draft(rng.choice(LIFELONG_KINDS[profile]), "base")
            if draft is None:
                continue
            task = verifier.check(
                _task(profile, f"lifelong{k + 1:02d}", i + 1, scene, draft).model_copy(
                    update={"subset": "lifelong"}
                ),
                keep_world=i > 0,
            )
            if task is not None:
                tasks.append(task)
                break
        else:
            raise RuntimeError(f"could not extend lifelong sequence {k + 1} of {profile}")
    return LifelongSequence(
        sequence_id=f"{profile}-lifelong-{k + 1:02d}",
        profile=profile,
        scene=scene,
        tasks=tuple(tasks),
        perturb_k=0,
        perturb_seed=1000 + k,
    )
