"""The ``jammed`` subset of the memory suites (``memory_v4``): a failure only trying reveals, learnt in an
earlier episode and avoided later — what the critic is for.

Each sequence's house has two or three receptacles of one openable type (drawers, cabinets) in one room
that are **jammed** (:attr:`envs.household.world.World.jammed`: opening them fails, every time; nothing shows
it but trying). ``jammed_setup`` tasks ask for something shut away in one of them, named by description
("Take the pen out of the drawer to the left of the bed and put it on a table"): the agent goes there, tries
to open it, and the simulator answers that it is jammed. These tasks **cannot succeed** — the failure is what
they show (an agent's memory now holds ``open the drawer 3`` failing, with the reason). Then the scored tasks:
"Take the watch from the table to the left of the shelf and put it in a drawer" — the watch is in that same
room, and any drawer of the house will do, but the room's own drawers are the jammed ones. Each failed try
costs two steps (go there, the failed open), more than the budget's slack once two are tried.

The generator proves, for every scored task, that every jammed receptacle of its type was tried (named by
an earlier ``jammed_setup`` task whose only way to its goal is opening it), that the oracle, which avoids
them, solves it in its budget, and that the thing to fetch is in view at its place. It reports two
memoryless costs: ``memoryless_*`` — candidates of the type in a uniformly random order, each jammed one
tried costing two steps (exact); ``room_first_*`` — an agent that puts things away in the room it stands in
first (each of that room's jammed receptacles tried before it leaves).
"""

from __future__ import annotations

import random

from envs.household.big_houses import SETUP_TYPES, add_thing, build_house, unique_ref
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.household.goals import bind
from envs.household.memory import (
    _NO_EFFECT,
    MEMORY_SEED,
    SETUP,
    SETUP_BUDGET,
    SLACK,
    _RetryError,
    _setup_task,
)
from envs.household.oracle import OracleError, solve
from envs.household.suites import Suite
from envs.household.wording import noun, plain
from envs.household.world import World
from envs.task import Condition, LifelongSequence, Ref, RefRelation, Task

__all__ = ("ITEMS", "jammed_cost", "jammed_sequence")

#: Scored tasks per sequence (each fetches one thing from the same surface).
ITEMS = 4
_WORDING = (
    "Take the {x} from {s} and put it in {t}.",
    "Get the {x} off {s} and put it away in {t}.",
    "Move the {x} from {s} into {t}.",
)


def jammed_cost(world: World, obj: str, kind: str, gold: int, budget: int) -> dict[str, float]:
    """The memoryless costs (see the module docstring) of putting ``obj`` into any ``kind``."""
    cands = [n for n in world.instances(kind) if world.fits(obj, n)]
    jammed = sum(n in world.jammed for n in cands)
    good = len(cands) - jammed
    spare = (budget - gold) // 2  # jammed tries that still fit the budget
    # X = jammed candidates tried before the first good one, in a uniformly random order.
    chance, p_prefix = 0.0, 1.0
    for x in range(jammed + 1):
        p_here = p_prefix * good / (good + jammed - x)  # x jammed first, then a good one
        if x <= spare:
            chance += p_here
        p_prefix *= (jammed - x) / (good + jammed - x)
    here = world.entities[world.place_of(obj) or ""].room
    in_room = sum(n in world.jammed and world.entities[n].room == here for n in cands)
    return {
        "memoryless_expected_steps": round(gold + 2 * jammed / (good + 1), 3),
        "memoryless_p_in_budget": round(chance, 4),
        "room_first_steps": gold + 2 * in_room,
        "room_first_in_budget": float(2 * in_room <= budget - gold),
    }


def _options(world: World) -> list[tuple[str, str, list[tuple[str, Ref]], tuple[str, Ref]]]:
    """(type, room, its instances there with descriptions, an open surface there with one): rooms with two
    or three uniquely described closed receptacles of one type and a uniquely described surface."""
    found = []
    for room in world.rooms:
        fixed = [e.name for e in world.room_fixed(room)]
        surfaces = [
            (n, ref)
            for n in fixed
            if world.spec(n).is_container
            and not world.spec(n).openable
            and world.entities[n].type not in _NO_EFFECT
            and (ref := unique_ref(world, n)) is not None
        ]
        kinds = sorted({world.entities[n].type for n in fixed if world.spec(n).openable} - _NO_EFFECT)
        for kind in kinds:
            mine = [n for n in fixed if world.entities[n].type == kind]
            described = [(n, ref) for n in mine if (ref := unique_ref(world, n)) is not None]
            elsewhere = [n for n in world.instances(kind) if world.entities[n].room != room]
            if 2 <= len(mine) <= 3 and len(described) == len(mine) and elsewhere and surfaces:
                found += [(kind, room, described, surface) for surface in surfaces]
    return found


def jammed_sequence(
    profile: str, k: int, rng: random.Random
) -> tuple[World, LifelongSequence, dict[str, dict[str, float]]]:
    kind = "jammed"
    scene = f"{profile}_{kind}_house_{k:02d}"
    world, namer = build_house(profile, scene, set(SETUP_TYPES[profile]), rng)
    catalog = world.catalog
    options = _options(world)
    if not options:
        raise _RetryError(f"{scene}: no room with two or three described receptacles of one type")
    t_kind, _, jams, (surface, s_ref) = rng.choice(options)
    x_types = rng.sample(SETUP_TYPES[profile], ITEMS + len(jams))
    shown = [add_thing(world, namer, x, j, {}) for x, (j, _) in zip(x_types[ITEMS:], jams, strict=True)]
    things = [add_thing(world, namer, x, surface, {}) for x in x_types[:ITEMS]]
    if not all(world.fits(x, n) for x in things for n in world.instances(t_kind)):
        raise _RetryError(f"{scene}: not every thing fits every {t_kind}")
    world.jammed = frozenset(j for j, _ in jams)
    world.apply_effects()
    world.check_invariants()
    initial = World.from_dict(world.to_dict(), catalog)
    env = HouseholdEnv(
        HouseholdConfig(profile=profile, max_steps=200, max_invalid_actions=200),
        suite=Suite(
            version="memory_v4", profile=profile, seed=MEMORY_SEED, scenes={scene: initial.to_dict()}
        ),
    )
    plan = [("show", i) for i in range(len(jams))] + [("probe", i) for i in range(ITEMS)]
    tasks: list[Task] = []
    costs: dict[str, dict[str, float]] = {}
    tried: set[str] = set()
    for position, (step, i) in enumerate(plan, start=1):
        task_id = f"{profile}-{kind}-{k:02d}-{position:02d}"
        current = env.world if tasks else initial
        if step == "show":
            goal, text = _setup_task(current, shown[i], jams[i][1], rng)
            subset = kind + SETUP
        else:
            x = things[i]
            x_type = current.entities[x].type
            x_ref = Ref(
                type=x_type,
                relation=RefRelation(relation="on", target=s_ref),
                text=f"the {noun(x_type)} {catalog[current.entities[surface].type].preposition} {s_ref.text}",
            )
            t_ref = plain(t_kind)
            goal = (Condition(object=x_ref, inside=t_ref, text=f"{x_ref.text} is in {t_ref.text}"),)
            text = rng.choice(_WORDING).format(x=noun(x_type), s=s_ref.text, t=t_ref.text)
            subset = kind
        task = Task(
            task_id=task_id,
            profile=profile,
            subset=subset,
            task_type="pick_and_place_simple",
            instruction=text[0].upper() + text[1:],
            scene=scene,
            goal=goal,
        )
        env.reset(task, keep_world=bool(tasks))
        world = env.world
        target = shown[i] if step == "show" else things[i]
        if bind(world, goal[0].object) != {target}:
            raise RuntimeError(f"{task_id}: the description does not fit {target} alone")
        if step == "show":
            # The only way to the goal is opening the jammed receptacle: every attempt shows the failure.
            jam = jams[i][0]
            if world.hidden_by(target) != jam or jam not in world.jammed:
                raise RuntimeError(f"{task_id}: {target} is not shut away in the jammed {jam}")
            try:
                solve(env)
            except OracleError as err:
                if f"The {jam} is jammed" not in str(err):
                    raise RuntimeError(f"{task_id}: the oracle failed before trying {jam}: {err}") from None
                tried.add(jam)
            else:
                raise RuntimeError(f"{task_id}: solvable although {jam} is jammed")
            tasks.append(task.model_copy(update={"max_steps": SETUP_BUDGET[profile]}))
            continue
        if not world.jammed <= tried:
            raise RuntimeError(f"{task_id}: jammed {sorted(world.jammed - tried)} never tried before")
        if world.hidden_by(target) is not None or world.place_of(target) != surface:
            raise RuntimeError(f"{task_id}: {target} is not in view on {surface}")
        before = World.from_dict(world.to_dict(), catalog)
        gold = len(solve(env))
        budget = gold + SLACK
        costs[task_id] = {"gold": gold, "budget": budget} | jammed_cost(before, target, t_kind, gold, budget)
        tasks.append(task.model_copy(update={"max_steps": budget, "gold_plan_length": gold}))
    sequence = LifelongSequence(
        sequence_id=f"{profile}-{kind}-{k:02d}", profile=profile, scene=scene, tasks=tuple(tasks)
    )
    return initial, sequence, costs
