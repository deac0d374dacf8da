"""Small hand-built houses and helpers for the simulator tests (tests only).

``alfred_world()``::

    Kitchen, left to right: CounterTop (white) | Cabinet (brown, closed) | Cabinet_2 (white, closed) |
                            Sink (+ Faucet, off) | Fridge (closed) | Microwave (closed, off) ; Floor
        on CounterTop: Apple (red), Mug (white), Knife, Pot (black)
        in Cabinet_2: Apple_2 (green)        in Fridge: Potato (brown)
    LivingRoom, left to right: Sofa | SideTable (+ DeskLamp, off) | FloorLamp (off) ; Floor_2
        on Sofa: Book (blue)

``habitat_world()``::

    kitchen, left to right: counter 1 (white) | counter 2 (black) | refrigerator (closed) |
                            cabinet 1 (closed) | sink | table 1
        on counter 1: apple (red)   on counter 2: bowl (white)   in cabinet 1: can
        in refrigerator: apple 2 (green)
    living room, left to right: sofa | table 2 | shelf
        on sofa: ball (blue)   on table 2: hammer

The agent starts in the first room, at no particular place.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from functools import cache

from envs.base import StepInfo
from envs.household.catalog import CATALOGS
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.household.suites import Suite, load_suite
from envs.household.world import Entity, World
from envs.task import Condition, Ref, Task

SCENE = "test_house"
OK_ALFRED = "Last action executed successfully."
HOLDING_NOTHING = "Last action executed successfully and you are holding nothing."


def alfred_world() -> World:
    e = Entity
    entities = [
        e("CounterTop", "CounterTop", "Kitchen", {"color": "white", "material": "granite"}, slot=0),
        e("Cabinet", "Cabinet", "Kitchen", {"color": "brown"}, slot=1, open=False),
        e("Cabinet_2", "Cabinet", "Kitchen", {"color": "white"}, slot=2, open=False),
        e("Sink", "Sink", "Kitchen", slot=3),
        e("Fridge", "Fridge", "Kitchen", slot=4, open=False),
        e("Microwave", "Microwave", "Kitchen", slot=5, open=False, on=False),
        e("Floor", "Floor", "Kitchen"),
        e("Faucet", "Faucet", "Kitchen", anchor="Sink", on=False),
        e("Sofa", "Sofa", "LivingRoom", slot=0),
        e("SideTable", "SideTable", "LivingRoom", slot=1),
        e("FloorLamp", "FloorLamp", "LivingRoom", slot=2, on=False),
        e("Floor_2", "Floor", "LivingRoom"),
        e("DeskLamp", "DeskLamp", "LivingRoom", anchor="SideTable", on=False),
        e("Apple", "Apple", "Kitchen", {"color": "red"}, parent="CounterTop"),
        e("Mug", "Mug", "Kitchen", {"color": "white"}, parent="CounterTop"),
        e("Knife", "Knife", "Kitchen", parent="CounterTop"),
        e("Pot", "Pot", "Kitchen", {"color": "black"}, parent="CounterTop"),
        e("Apple_2", "Apple", "Kitchen", {"color": "green"}, parent="Cabinet_2"),
        e("Potato", "Potato", "Kitchen", {"color": "brown"}, parent="Fridge"),
        e("Book", "Book", "LivingRoom", {"color": "blue"}, parent="Sofa"),
    ]
    world = World(
        scene=SCENE,
        catalog=CATALOGS["alfred"],
        rooms=("Kitchen", "LivingRoom"),
        entities={x.name: x for x in entities},
        agent_room="Kitchen",
    )
    world.check_invariants()
    return world


def habitat_world() -> World:
    e = Entity
    entities = [
        e("counter 1", "counter", "kitchen", {"color": "white"}, slot=0),
        e("counter 2", "counter", "kitchen", {"color": "black"}, slot=1),
        e("refrigerator", "refrigerator", "kitchen", slot=2, open=False),
        e("cabinet 1", "cabinet", "kitchen", slot=3, open=False),
        e("sink", "sink", "kitchen", slot=4),
        e("table 1", "table", "kitchen", slot=5),
        e("sofa", "sofa", "living room", slot=0),
        e("table 2", "table", "living room", slot=1),
        e("shelf", "shelf", "living room", slot=2),
        e("apple", "apple", "kitchen", {"color": "red"}, parent="counter 1"),
        e("bowl", "bowl", "kitchen", {"color": "white"}, parent="counter 2"),
        e("can", "can", "kitchen", parent="cabinet 1"),
        e("apple 2", "apple", "kitchen", {"color": "green"}, parent="refrigerator"),
        e("ball", "ball", "living room", {"color": "blue"}, parent="sofa"),
        e("hammer", "hammer", "living room", parent="table 2"),
    ]
    world = World(
        scene=SCENE,
        catalog=CATALOGS["habitat"],
        rooms=("kitchen", "living room"),
        entities={x.name: x for x in entities},
        agent_room="kitchen",
    )
    world.check_invariants()
    return world


WORLDS = {"alfred": alfred_world, "habitat": habitat_world}
#: A goal nothing in the tests achieves by accident, so episodes do not end early.
FAR_GOALS = {
    "alfred": (
        Condition(object=Ref(type="Book", text="a book"), inside=Ref(type="Fridge", text="the fridge")),
    ),
    "habitat": (Condition(object=Ref(type="ball", text="a ball"), inside=Ref(type="sink", text="the sink")),),
}


def make_task(
    profile: str,
    goal: Iterable[Condition] | None = None,
    *,
    task_id: str = "test-001",
    scene: str = SCENE,
    instruction: str = "Do the test thing.",
) -> Task:
    return Task(
        task_id=task_id,
        profile=profile,
        subset="base",
        task_type="pick_and_place_simple",
        instruction=instruction,
        scene=scene,
        goal=tuple(goal) if goal is not None else FAR_GOALS[profile],
    )


def make_env(
    world: World, *, max_steps: int = 500, max_invalid_actions: int = 500, perturb_k: int | None = None
) -> HouseholdEnv:
    """An env over a one-scene suite holding ``world`` (generous limits unless given)."""
    profile = world.catalog.profile
    suite = Suite(version="test", profile=profile, seed=0, scenes={world.scene: world.to_dict()})
    config = HouseholdConfig.model_validate(
        {
            "profile": profile,
            "max_steps": max_steps,
            "max_invalid_actions": max_invalid_actions,
            "perturb_k": perturb_k,
        }
    )
    return HouseholdEnv(config, suite=suite)


def started_env(profile: str, goal: Iterable[Condition] | None = None, **limits: int) -> HouseholdEnv:
    """A hand-built house of ``profile``, reset on a task with ``goal``."""
    env = make_env(WORLDS[profile](), **limits)
    env.reset(make_task(profile, goal))
    return env


def act(env: HouseholdEnv, action: int | str) -> StepInfo:
    return env.step(action).info


def feedback(env: HouseholdEnv, action: int | str) -> str:
    return act(env, action)["env_feedback"]


def run_ok(env: HouseholdEnv, *actions: str) -> None:
    """Execute actions that must all succeed."""
    for action in actions:
        info = act(env, action)
        assert info["last_action_success"], f"{action!r} failed: {info['env_feedback']}"


def invalid(message: str) -> str:
    return f"Last action is invalid. {message}"


def committed_env(profile: str, **limits: int) -> HouseholdEnv:
    return HouseholdEnv(HouseholdConfig.model_validate({"profile": profile, **limits}))


@cache
def committed_tasks(profile: str) -> tuple[Task, ...]:
    suite = load_suite("v1", profile)
    return tuple(t for tasks in suite.subsets.values() for t in tasks)


def snapshot(world: World) -> World:
    return copy.deepcopy(world)


def objects(world: World) -> list[str]:
    return sorted(n for n in world.entities if world.spec(n).kind == "object")
