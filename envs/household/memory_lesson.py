"""The ``lesson`` subset of the memory suites (``memory_v2``): where this house keeps a thing, learnt in an
earlier episode and needed after the house was re-staged.

Each sequence's house hides six instances each of two target types (distinct colours) in closed receptacles,
as in ``recall``. Rounds of four episodes: two ``lesson_setup`` tasks fetch one instance of each type out of
its receptacle, named by description ("Take the mug out of the cabinet to the left of the fridge and put it
on the table"); then two scored tasks ask for those instances by colour ("Put the red mug on the sofa"),
each after the house was re-staged (:attr:`envs.task.Task.restage`: tidied back to how the house keeps it).
A re-staged house is a new world: spatial memory of what the setup showed no longer applies (one graph per
world), and the target is shut away again. What carries over is what long-term memory learnt about the house
(a semantic lesson such as "In <house>, a Mug was found at Cabinet_2").

The generator proves, for every scored task, that the target was picked up in an earlier episode at the
place where the re-staged house keeps it, and that it is hidden when the episode starts (nothing since the
re-staging showed it); budgets and the memoryless search cost are as in :mod:`envs.household.memory`.
"""

from __future__ import annotations

import random
from typing import Any

from envs.household.big_houses import SETUP_TYPES, TARGET_TYPES, add_thing, build_house, unique_ref
from envs.household.config import HouseholdConfig
from envs.household.goals import bind
from envs.household.memory import (
    _NO_EFFECT,
    INSTANCES,
    MEMORY_SEED,
    SETUP,
    SETUP_BUDGET,
    SLACK,
    _probe_task,
    _RetryError,
    _setup_task,
    _Watcher,
    memoryless_cost,
)
from envs.household.oracle import solve
from envs.household.suites import Suite
from envs.household.world import World
from envs.task import LifelongSequence, Task

__all__ = ("ROUNDS", "PickWatcher", "lesson_sequence")

#: Rounds per sequence: each shows one instance of each of the two target types, then asks for both.
ROUNDS = 3


class PickWatcher(_Watcher):
    """The watcher, also noting the place each object was picked up from (what a lesson can record)."""

    picked_at: dict[str, list[str]]

    def step(self, action: int | str, *, timeout_s: float | None = None) -> Any:
        before: dict[str, str | None] = {}
        if isinstance(action, str) and action.startswith("pick"):
            world = self.world
            before = {n: world.place_of(n) for n in world.entities if world.spec(n).pickable}
        held = self.world.held
        result = super().step(action, timeout_s=timeout_s)
        now = self.world.held
        if now is not None and now != held and before.get(now) is not None:
            self.picked_at.setdefault(now, []).append(before[now] or "")
        return result


def lesson_sequence(
    profile: str, k: int, rng: random.Random
) -> tuple[World, LifelongSequence, dict[str, dict[str, float]]]:
    kind = "lesson"
    scene = f"{profile}_{kind}_house_{k:02d}"
    t_types = rng.sample(TARGET_TYPES[profile], 2)
    world, namer = build_house(profile, scene, set(t_types) | set(SETUP_TYPES[profile]), rng)
    catalog = world.catalog
    closed = [
        n
        for n in world.entities
        if world.is_fixed(n) and world.spec(n).openable and world.entities[n].type not in _NO_EFFECT
    ]
    rng.shuffle(closed)
    described = [(c, ref) for c in closed if (ref := unique_ref(world, c)) is not None]
    if len(described) < 2 * ROUNDS:
        raise _RetryError(f"{scene}: only {len(described)} uniquely described closed receptacles")
    shows = described[: 2 * ROUNDS]  # shows[2 * r + j]: where round r's instance of type j is kept
    others = [c for c in closed if c not in {s for s, _ in shows}]
    targets: dict[tuple[int, int], str] = {}
    for j, t_type in enumerate(t_types):
        spec = catalog[t_type]
        palette = rng.sample(spec.colors, INSTANCES)
        decoys, others = others[: INSTANCES - ROUNDS], others[INSTANCES - ROUNDS :]
        homes = [shows[2 * r + j][0] for r in range(ROUNDS)] + decoys
        if len(homes) < INSTANCES:
            raise _RetryError(f"{scene}: not enough closed receptacles for {INSTANCES} {t_type}s")
        order = list(range(INSTANCES))
        rng.shuffle(order)  # names are numbered in creation order: they must not tell targets from decoys
        for slot in order:
            attrs = {"color": palette[slot]} | (
                {"material": rng.choice(spec.materials)} if spec.materials else {}
            )
            name = add_thing(world, namer, t_type, homes[slot], attrs)
            if slot < ROUNDS:
                targets[slot, j] = name
    world.apply_effects()
    world.check_invariants()
    initial = World.from_dict(world.to_dict(), catalog)
    plan = [(step, r, j) for r in range(ROUNDS) for step in ("setup", "probe") for j in (0, 1)]
    env = PickWatcher(
        HouseholdConfig(profile=profile, max_steps=200, max_invalid_actions=200),
        suite=Suite(
            version="memory_v2", profile=profile, seed=MEMORY_SEED, scenes={scene: initial.to_dict()}
        ),
    )
    env.sightings, env.picked_at = {}, {}
    tasks: list[Task] = []
    costs: dict[str, dict[str, float]] = {}
    for position, (step, r, j) in enumerate(plan, start=1):
        task_id = f"{profile}-{kind}-{k:02d}-{position:02d}"
        t = targets[r, j]
        if step == "probe":
            goal, text = _probe_task(initial, t, rng)
            subset, restage = kind, True
        else:
            goal, text = _setup_task(env.world if tasks else initial, t, shows[2 * r + j][1], rng)
            subset, restage = kind + SETUP, False
        task = Task(
            task_id=task_id,
            profile=profile,
            subset=subset,
            task_type="pick_and_place_simple",
            instruction=text,
            scene=scene,
            goal=goal,
            restage=restage,
        )
        env.reset(task, keep_world=bool(tasks))
        env.watch()
        world = env.world
        if bind(world, goal[0].object) != {t}:
            raise RuntimeError(f"{task_id}: the description does not fit {t} alone")
        if step == "probe":
            picked = env.picked_at.get(t, [])
            if not picked or picked[-1] != world.place_of(t):
                raise RuntimeError(f"{task_id}: {t} was not picked up where the house keeps it ({picked})")
            if world.hidden_by(t) is None:
                raise RuntimeError(f"{task_id}: {t} is in view after the re-staging")
            before = World.from_dict(world.to_dict(), catalog)
        if env.goal_status()[1] > 0:
            raise RuntimeError(f"{task_id}: already (partly) done at the start")
        gold = len(solve(env))
        if step == "probe":
            budget = gold + SLACK
            expected, chance = memoryless_cost(before, t, gold, budget)
            costs[task_id] = {
                "gold": gold,
                "budget": budget,
                "memoryless_expected_steps": round(expected, 3),
                "memoryless_p_in_budget": round(chance, 4),
            }
            task = task.model_copy(update={"max_steps": budget})
        else:
            task = task.model_copy(update={"max_steps": SETUP_BUDGET[profile]})
        tasks.append(task.model_copy(update={"gold_plan_length": gold}))
    sequence = LifelongSequence(
        sequence_id=f"{profile}-{kind}-{k:02d}", profile=profile, scene=scene, tasks=tuple(tasks)
    )
    return initial, sequence, costs
