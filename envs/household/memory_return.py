"""The ``return`` subset of the memory suites (``memory_v3``): "put the red mug back where it was before you
used it" — a place no instruction describes, that only the trajectory of an earlier episode shows.

Each sequence's house hides six instances each of two target types (distinct colours) in closed receptacles,
as in ``recall``. ``return_setup`` tasks use a target, named by the receptacle it is in ("Take the mug out of
the cabinet to the left of the fridge and put it on the sofa": the agent opens it and takes the red mug out);
a later scored ``return`` task asks for it back by colour ("Put the red mug back where it was before you used
it"). The environment binds "back" to :attr:`envs.household.world.World.taken_from` (where the object was
before the episode that last picked it up took it); the agent sees only the description. Every target is used,
then asked for back at least one episode later, with other targets used in between.

The generator proves, for every scored task, that its target was picked up in an earlier episode, that it is
somewhere else now and that its place is a closed receptacle the agent had to open to take it (so an agent's
trajectory names the place). A *memoryless* agent knows the goal but not the place: it has to guess among the
house's receptacles the object fits in; a wrong guess costs at least three steps (go, put, pick up again),
more than the budget's slack, so the chance to fit the budget is one guess in ``n + 1``; the expected steps
count each wrong guess at go, open when closed, put and pick up again, in a uniformly random order.
"""

from __future__ import annotations

import random

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
)
from envs.household.oracle import solve
from envs.household.suites import Suite
from envs.household.world import World
from envs.task import Condition, LifelongSequence, Task

__all__ = ("ITEMS", "return_cost", "return_sequence")

#: Targets used and asked back per sequence.
ITEMS = 4
_WORDING = (
    "Put {x} back where it was before you used it.",
    "Return {x} to where you took it from.",
    "Put {x} back where you got it.",
)


def return_cost(world: World, target: str, home: str, gold: int) -> tuple[float, float]:
    """(expected steps, chance of fitting the budget) of a memoryless guess at the place ``target`` came
    from (see the module docstring), in the world as the task starts."""
    wrong = [
        n
        for n in world.entities
        if world.is_fixed(n)
        and world.spec(n).is_container
        and world.entities[n].type != "Floor"
        and n not in (home, world.place_of(target))
        and world.fits(target, n)
    ]
    costs = [3 + world.is_closed(n) for n in wrong]
    return gold + sum(costs) / 2, 1 / (len(wrong) + 1)


def return_sequence(
    profile: str, k: int, rng: random.Random
) -> tuple[World, LifelongSequence, dict[str, dict[str, float]]]:
    kind = "return"
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
    if len(described) < ITEMS:
        raise _RetryError(f"{scene}: only {len(described)} uniquely described closed receptacles")
    shows = described[:ITEMS]  # shows[i]: where target i is kept, named by the task that uses it
    others = [c for c in closed if c not in {c for c, _ in shows}]
    targets: dict[int, str] = {}
    for j, t_type in enumerate(t_types):
        spec = catalog[t_type]
        palette = rng.sample(spec.colors, INSTANCES)
        decoys, others = others[: INSTANCES - ITEMS // 2], others[INSTANCES - ITEMS // 2 :]
        homes = [shows[2 * slot + j][0] for slot in range(ITEMS // 2)] + decoys
        if len(homes) < INSTANCES:
            raise _RetryError(f"{scene}: not enough closed receptacles for {INSTANCES} {t_type}s")
        order = list(range(INSTANCES))
        rng.shuffle(order)  # names are numbered in creation order: they must not tell targets from decoys
        for slot in order:
            attrs = {"color": palette[slot]} | (
                {"material": rng.choice(spec.materials)} if spec.materials else {}
            )
            name = add_thing(world, namer, t_type, homes[slot], attrs)
            if slot < ITEMS // 2:
                targets[2 * slot + j] = name
    world.apply_effects()
    world.check_invariants()
    initial = World.from_dict(world.to_dict(), catalog)
    plan = [("use", 0), ("use", 1), ("probe", 0), ("use", 2), ("probe", 1), ("use", 3), ("probe", 2)]
    plan.append(("probe", 3))
    env = _Watcher(
        HouseholdConfig(profile=profile, max_steps=200, max_invalid_actions=200),
        suite=Suite(
            version="memory_v3", profile=profile, seed=MEMORY_SEED, scenes={scene: initial.to_dict()}
        ),
    )
    env.sightings = {}
    tasks: list[Task] = []
    costs: dict[str, dict[str, float]] = {}
    home: str | None = None
    for position, (step, i) in enumerate(plan, start=1):
        task_id = f"{profile}-{kind}-{k:02d}-{position:02d}"
        t = targets[i]
        current = env.world if tasks else initial
        if step == "use":
            goal, text = _setup_task(current, t, shows[i][1], rng)
            subset = kind + SETUP
        else:
            use, _ = _probe_task(current, t, rng)
            t_ref = use[0].object
            goal = (Condition(object=t_ref, back=True, text=f"{t_ref.text} is back where it was used from"),)
            text = rng.choice(_WORDING).format(x=t_ref.text)
            text = text[0].upper() + text[1:]
            subset = kind
        task = Task(
            task_id=task_id,
            profile=profile,
            subset=subset,
            task_type="pick_and_place_simple",
            instruction=text,
            scene=scene,
            goal=goal,
        )
        env.reset(task, keep_world=bool(tasks))
        env.watch()
        world = env.world
        if bind(world, goal[0].object) != {t}:
            raise RuntimeError(f"{task_id}: the description does not fit {t} alone")
        if step == "probe":
            home = world.taken_from.get(t)
            if home is None or home == world.place_of(t) or home not in closed:
                raise RuntimeError(f"{task_id}: {t} was not taken out of a closed receptacle ({home})")
            before = World.from_dict(world.to_dict(), catalog)
        elif world.hidden_by(t) is None:
            raise RuntimeError(f"{task_id}: {t} is in view before it is used")
        if env.goal_status()[1] > 0:
            raise RuntimeError(f"{task_id}: already (partly) done at the start")
        gold = len(solve(env))
        if step == "probe" and home is not None:
            budget = gold + SLACK
            expected, chance = return_cost(before, t, home, gold)
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
