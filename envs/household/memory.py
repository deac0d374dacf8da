"""Memory suites (``memory_v1``): lifelong sequences in big houses (7 rooms, many closed receptacles) whose
scored tasks can only be done in budget by remembering what earlier episodes of the sequence showed.

* ``recall`` — "Put the red mug on the sofa": five mugs of different colours are shut away in five closed
  receptacles; an earlier ``recall_setup`` task ("Take the watch out of the drawer to the left of the bed
  and put it on the desk") made the agent open the one holding the red mug.
* ``moved`` — the same, but after the setup someone else moved the mug to another closed receptacle, and a
  later setup task opened that one: the older memory is stale and must be superseded by the newer one.

Each scored task has its own step budget: the oracle's plan plus ``SLACK`` steps. The generator replays the
whole sequence with the oracle and proves, for every scored task, that its target was last seen (by what
the agent must have perceived during the sequence) where it really is; and it reports what a memoryless
search would cost (below). ``robomem suites generate`` reproduces the committed files byte for byte.

A *memoryless search* knows the goal and every name in the skill list but nothing about where things are
or what they look like, and inspects candidates in a uniformly random order: ALFRED ``find``s instances of
the type (one step, plus one to open the closed receptacle hiding it), Habitat visits receptacles (one
step, plus one to open a closed one). Reported per task and per subset: its expected steps, and the
chance that it fits the budget (exact, not sampled).
"""

from __future__ import annotations

import random
from math import comb
from typing import Any

from envs.household.big_houses import SETUP_TYPES, TARGET_TYPES, add_thing, build_house, unique_ref
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.household.goals import bind
from envs.household.oracle import solve
from envs.household.perception import perceive
from envs.household.suites import Suite
from envs.household.wording import noun, plain, render
from envs.household.world import World
from envs.task import Condition, LifelongSequence, Ref, RefRelation, Relocation, Task

__all__ = (
    "KINDS",
    "MEMORY_SEED",
    "MEMORY_VERSION",
    "MEMORY_VERSIONS",
    "SLACK",
    "generate_memory_suite",
    "memoryless_cost",
)

MEMORY_VERSION = "memory_v1"
#: The subsets of each committed memory suite; ``memory_v2`` adds ``lesson`` (:mod:`.memory_lesson`) to
#: ``memory_v1``'s sequences, which it holds unchanged; ``memory_v3`` adds ``return``
#: (:mod:`.memory_return`) to ``memory_v2``'s; ``memory_v4`` adds ``jammed`` (:mod:`.memory_jammed`).
MEMORY_VERSIONS: dict[str, tuple[str, ...]] = {
    "memory_v1": ("recall", "moved"),
    "memory_v2": ("recall", "moved", "lesson"),
    "memory_v3": ("recall", "moved", "lesson", "return"),
    "memory_v4": ("recall", "moved", "lesson", "return", "jammed"),
}
MEMORY_SEED = 20261201
#: Steps a scored task's budget allows beyond the oracle's plan.
SLACK = 2
#: Instances of the type a scored task names (distinct colours), each shut away in its own receptacle.
INSTANCES = 6
#: Per subset: (sequences, scored tasks per sequence). Every sequence has its own house.
KINDS: dict[str, tuple[int, int]] = {
    "recall": (9, 6),
    "moved": (13, 4),
    "lesson": (9, 6),
    "return": (13, 4),
    "jammed": (13, 4),
}
SETUP = "_setup"
#: Budget of the tasks that show things: Habitat has to search a 7-room house for the receptacle they name.
SETUP_BUDGET = {"alfred": 30, "habitat": 60}

_NO_EFFECT = {"Sink", "Microwave", "Fridge", "GarbageCan", "refrigerator", "sink", "Floor", "Toilet"}
_SETUP_WORDING = (
    "Take the {x} out of {c} and put it {prep} {r}.",
    "Get the {x} from {c} and place it {prep} {r}.",
)


class _Watcher(HouseholdEnv):
    """The simulator, noting where every object was perceivable after each step (what the agent saw)."""

    sightings: dict[str, list[str]]

    def watch(self) -> None:
        for entity in perceive(self.world).entities:
            place = self.world.place_of(entity.name) if entity.kind == "object" else None
            if place is not None:
                seen = self.sightings.setdefault(entity.name, [])
                if not seen or seen[-1] != place:
                    seen.append(place)

    def step(self, action: int | str, *, timeout_s: float | None = None) -> Any:
        result = super().step(action, timeout_s=timeout_s)
        self.watch()
        return result


def _surface(world: World, obj: str, rng: random.Random) -> Ref:
    """An open receptacle type (no door, no effect) the object fits on, described by type."""
    types = sorted(
        {
            e.type
            for n, e in world.entities.items()
            if world.is_fixed(n)
            and world.spec(n).is_container
            and not world.spec(n).openable
            and e.type not in _NO_EFFECT
            and world.fits(obj, n)
        }
    )
    kind = rng.choice(types)
    return plain(kind, definite=len(world.instances(kind)) == 1)


def _setup_task(world: World, x: str, c_ref: Ref, rng: random.Random) -> tuple[tuple[Condition, ...], str]:
    x_type = world.entities[x].type
    c_text = c_ref.text
    x_ref = Ref(
        type=x_type, relation=RefRelation(relation="in", target=c_ref), text=f"the {noun(x_type)} in {c_text}"
    )
    r = _surface(world, x, rng)
    prep = world.catalog[r.type].preposition
    goal = (Condition(object=x_ref, inside=r, text=f"{x_ref.text} is {prep} {r.text}"),)
    text = rng.choice(_SETUP_WORDING).format(x=noun(x_type), c=c_text, prep=prep, r=r.text)
    return goal, text[0].upper() + text[1:]


def _probe_task(world: World, t: str, rng: random.Random) -> tuple[tuple[Condition, ...], str]:
    entity = world.entities[t]
    color = entity.attributes["color"]
    t_ref = Ref(type=entity.type, attributes={"color": color}, text=f"the {color} {noun(entity.type)}")
    r = _surface(world, t, rng)
    prep = world.catalog[r.type].preposition
    goal = (Condition(object=t_ref, inside=r, text=f"{t_ref.text} is {prep} {r.text}"),)
    return goal, render("pick_and_place_simple", rng, o=t_ref.text, r=r.text, prep=prep)


def memoryless_cost(world: World, target: str, gold: int, budget: int) -> tuple[float, float]:
    """(expected steps, chance of fitting ``budget``) of a memoryless random-order search for ``target``
    (see the module docstring), in the world as the task starts. ``gold`` already pays for inspecting the
    right candidate."""
    if world.catalog.profile == "alfred":
        others = [m for m in world.instances(world.entities[target].type) if m != target]
        costs = [1 + (world.hidden_by(m) is not None) for m in others]
    else:
        home = world.place_of(target)
        places = [
            n
            for r in world.rooms
            for n in (e.name for e in world.room_fixed(r))
            if world.spec(n).is_container and world.entities[n].type != "Floor" and n != home
        ]
        costs = [1 + world.is_closed(p) for p in places]
    ones, twos, spare = costs.count(1), costs.count(2), budget - gold
    n = len(costs)
    chance = 0.0
    for k in range(n + 1):  # k candidates inspected before the right one, a uniformly random k-subset
        fits = sum(comb(ones, i) * comb(twos, k - i) for i in range(k + 1) if i + 2 * (k - i) <= spare)
        chance += fits / comb(n, k) / (n + 1)
    return gold + sum(costs) / 2, chance


class _RetryError(RuntimeError):
    """This house cannot host the sequence; the next seeded house is tried."""


def _sequence(profile: str, kind: str, k: int) -> tuple[World, LifelongSequence, dict[str, dict[str, float]]]:
    for attempt in range(20):
        rng = random.Random(f"memory/{profile}/{kind}/{k}/{attempt}/{MEMORY_SEED}")
        try:
            if kind == "lesson":
                from envs.household.memory_lesson import lesson_sequence  # it builds on this module

                return lesson_sequence(profile, k, rng)
            if kind == "return":
                from envs.household.memory_return import return_sequence  # it builds on this module

                return return_sequence(profile, k, rng)
            if kind == "jammed":
                from envs.household.memory_jammed import jammed_sequence  # it builds on this module

                return jammed_sequence(profile, k, rng)
            return _try_sequence(profile, kind, k, rng)
        except _RetryError:
            continue
    raise RuntimeError(f"no house found for {profile} {kind} sequence {k}")


def _try_sequence(
    profile: str, kind: str, k: int, rng: random.Random
) -> tuple[World, LifelongSequence, dict[str, dict[str, float]]]:
    scene = f"{profile}_{kind}_house_{k:02d}"
    n_items = KINDS[kind][1]
    shown = 2 if kind == "moved" else 1
    t_types = rng.sample(TARGET_TYPES[profile], 2)
    x_types = rng.sample(SETUP_TYPES[profile], shown * n_items)
    world, namer = build_house(profile, scene, set(t_types) | set(SETUP_TYPES[profile]), rng)
    catalog = world.catalog
    closed = [
        n
        for n in world.entities
        if world.is_fixed(n) and world.spec(n).openable and world.entities[n].type not in _NO_EFFECT
    ]
    rng.shuffle(closed)
    described = [(c, ref) for c in closed if (ref := unique_ref(world, c)) is not None]
    if len(described) < shown * n_items:
        raise _RetryError(f"{scene}: only {len(described)} uniquely described closed receptacles")
    shows = described[: shown * n_items]
    others = [c for c in closed if c not in {s for s, _ in shows}]
    targets = []
    for j, t_type in enumerate(t_types):
        spec = catalog[t_type]
        palette = rng.sample(spec.colors, INSTANCES)
        mine = [i for i in range(n_items) if i % 2 == j]
        decoys, others = others[: INSTANCES - len(mine)], others[INSTANCES - len(mine) :]
        homes = [shows[i][0] for i in mine] + decoys
        if len(homes) < INSTANCES:
            raise _RetryError(f"{scene}: not enough closed receptacles for {INSTANCES} {t_type}s")
        order = list(range(INSTANCES))
        rng.shuffle(order)  # names are numbered in creation order: they must not tell targets from decoys
        for slot in order:
            attrs = {"color": palette[slot]} | (
                {"material": rng.choice(spec.materials)} if spec.materials else {}
            )
            name = add_thing(world, namer, t_type, homes[slot], attrs)
            if slot < len(mine):
                targets.append((mine[slot], name))
    targets.sort()
    xs = [add_thing(world, namer, x_type, shows[i][0], {}) for i, x_type in enumerate(x_types)]
    world.apply_effects()
    world.check_invariants()
    initial = World.from_dict(world.to_dict(), catalog)
    # The order of episodes: every target is shown (twice for `moved`, moved in between) before it is asked
    # for, at least two episodes later, so no short-term memory can carry it.
    plan: list[tuple[str, int]] = [("setup", i) for i in range(n_items)]
    if kind == "moved":
        plan += [
            ("moved", 0),
            ("moved", 1),
            ("probe", 0),
            ("moved", 2),
            ("probe", 1),
            ("moved", 3),
            ("probe", 2),
            ("probe", 3),
        ]
    else:
        plan = plan[:3] + [("probe", 0), plan[3], ("probe", 1), plan[4], ("probe", 2), plan[5]]
        plan += [("probe", i) for i in range(3, n_items)]
    env = _Watcher(
        HouseholdConfig(profile=profile, max_steps=200, max_invalid_actions=200),
        suite=Suite(
            version=MEMORY_VERSION, profile=profile, seed=MEMORY_SEED, scenes={scene: initial.to_dict()}
        ),
    )
    env.sightings = {}
    tasks: list[Task] = []
    costs: dict[str, dict[str, float]] = {}
    for position, (step, i) in enumerate(plan, start=1):
        task_id = f"{profile}-{kind}-{k:02d}-{position:02d}"
        relocations: tuple[Relocation, ...] = ()
        t = targets[i][1]
        if step == "probe":
            goal, text = _probe_task(env.world if tasks else initial, t, rng)
            subset = kind
        else:
            index = i if step == "setup" else n_items + i
            c, c_ref = shows[index]
            if step == "moved":
                relocations = (Relocation(object=t, to=c),)
            goal, text = _setup_task(env.world if tasks else initial, xs[index], c_ref, rng)
            subset = kind + SETUP
        task = Task(
            task_id=task_id,
            profile=profile,
            subset=subset,
            task_type="pick_and_place_simple",
            instruction=text,
            scene=scene,
            goal=goal,
            relocations=relocations,
        )
        env.reset(task, keep_world=bool(tasks))
        env.watch()
        world = env.world
        if step == "probe":
            seen = env.sightings.get(t, [])
            if bind(world, goal[0].object) != {t} or not seen or seen[-1] != world.place_of(t):
                raise RuntimeError(f"{task_id}: {t} was not last seen where it is ({seen})")
            if kind == "moved" and len(set(seen)) < 2:
                raise RuntimeError(f"{task_id}: {t} was never seen anywhere else: nothing is stale")
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


def generate_memory_suite(profile: str, version: str = MEMORY_VERSION) -> str:
    """The memory suite ``version`` of one profile, as canonical JSON text."""
    scenes: dict[str, dict[str, Any]] = {}
    sequences: list[LifelongSequence] = []
    per_task: dict[str, dict[str, float]] = {}
    summary: dict[str, dict[str, float]] = {}
    for kind in MEMORY_VERSIONS[version]:
        count = KINDS[kind][0]
        mine: list[dict[str, float]] = []
        for k in range(1, count + 1):
            world, sequence, costs = _sequence(profile, kind, k)
            scenes[world.scene] = world.to_dict()
            sequences.append(sequence)
            per_task.update(costs)
            mine += costs.values()
        summary[kind] = {
            "tasks": len(mine),
            **{f"mean_{key}": round(sum(c[key] for c in mine) / len(mine), 3) for key in mine[0]},
        }
    suite = Suite(
        version=version,
        profile=profile,
        seed=MEMORY_SEED,
        scenes=scenes,
        lifelong=tuple(sequences),
        stats={"subsets": summary, "tasks": per_task},
    )
    return suite.to_json()
