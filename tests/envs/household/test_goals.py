"""Goal descriptions bound to instances at reset, and conditions (states, inside, held, count)."""

from __future__ import annotations

import pytest

from envs.household.goals import bind, bind_goal, evaluate
from envs.household.world import World
from envs.task import Condition, Ref, RefRelation
from tests.envs.household.worlds import act, alfred_world, make_env, make_task, run_ok, started_env


def _ref(type_name: str, *, relation: str | None = None, target: str | None = None, **attributes: str) -> Ref:
    rel = None
    if relation is not None:
        assert target is not None
        rel = RefRelation(relation=relation, target=Ref(type=target))
    return Ref(type=type_name, attributes=attributes, relation=rel)


def _status(world: World, *goal: Condition) -> tuple[bool, float]:
    return evaluate(world, goal, bind_goal(world, goal))


# ---- binding ----------------------------------------------------------------------------------------------


def test_plain_type_binds_every_instance() -> None:
    world = alfred_world()
    assert bind(world, _ref("Apple")) == {"Apple", "Apple_2"}
    assert bind(world, _ref("Cabinet")) == {"Cabinet", "Cabinet_2"}
    assert bind(world, _ref("Tomato")) == frozenset()


def test_attributes_narrow_the_binding() -> None:
    world = alfred_world()
    assert bind(world, _ref("Apple", color="green")) == {"Apple_2"}
    assert bind(world, _ref("Cabinet", color="white")) == {"Cabinet_2"}
    assert bind(world, _ref("Apple", color="blue")) == frozenset()
    assert bind(world, _ref("CounterTop", color="white", material="granite")) == {"CounterTop"}
    assert bind(world, _ref("CounterTop", color="white", material="wooden")) == frozenset()


def test_left_and_right_of_neighbours_in_the_row() -> None:
    world = alfred_world()
    # Kitchen row: CounterTop | Cabinet | Cabinet_2 | Sink | Fridge | Microwave
    assert bind(world, _ref("Cabinet", relation="left_of", target="Sink")) == {"Cabinet_2"}
    assert bind(world, _ref("Cabinet", relation="right_of", target="CounterTop")) == {"Cabinet"}
    assert bind(world, _ref("Cabinet", relation="right_of", target="Cabinet")) == {"Cabinet_2"}
    assert bind(world, _ref("Cabinet", relation="left_of", target="Cabinet")) == {"Cabinet"}
    assert bind(world, _ref("Cabinet", relation="left_of", target="Fridge")) == frozenset()
    assert bind(world, _ref("Fridge", relation="right_of", target="Sink")) == {"Fridge"}


def test_relations_do_not_cross_rooms() -> None:
    world = alfred_world()
    # Sofa is first in the living room; Microwave last in the kitchen: not neighbours.
    assert bind(world, _ref("Sofa", relation="right_of", target="Microwave")) == frozenset()


def test_in_and_on_bind_by_container() -> None:
    world = alfred_world()
    assert bind(world, _ref("Apple", relation="on", target="CounterTop")) == {"Apple"}
    assert bind(world, _ref("Apple", relation="in", target="Cabinet")) == {"Apple_2"}
    assert bind(world, _ref("Apple", relation="in", target="Fridge")) == frozenset()
    nested = Ref(
        type="Apple",
        relation=RefRelation(relation="in", target=_ref("Cabinet", relation="left_of", target="Sink")),
    )
    assert bind(world, nested) == {"Apple_2"}


def test_unknown_relation_raises() -> None:
    with pytest.raises(ValueError, match="unknown relation 'under'"):
        bind(alfred_world(), _ref("Apple", relation="under", target="CounterTop"))


def test_descriptions_are_bound_once_at_reset() -> None:
    """The description "the apple on the counter" stays the red apple after it has left the counter, and
    the green apple put on the counter later is not it."""
    goal = (
        Condition(
            object=Ref(type="Apple", relation=RefRelation(relation="on", target=Ref(type="CounterTop"))),
            inside=Ref(type="Fridge"),
        ),
    )
    env = started_env("alfred", goal)
    assert env.bindings.objects == (frozenset({"Apple"}),)
    assert env.bindings.containers == (frozenset({"Fridge"}),)
    run_ok(env, "find a Apple", "pick up the Apple", "find a Sofa", "put down the object in hand")
    assert env.bindings.objects == (frozenset({"Apple"}),)
    run_ok(
        env, "find a Apple_2", "open the Cabinet_2", "pick up the Apple_2", "find a Fridge", "open the Fridge"
    )
    assert act(env, "put down the object in hand")["task_progress"] == 0.0  # the wrong apple
    run_ok(env, "find a Apple", "pick up the Apple", "find a Fridge")
    result = env.step("put down the object in hand")
    assert (result.done, result.info["task_success"]) == (True, 1.0)


def test_keep_world_binds_against_the_current_world() -> None:
    on_counter = Ref(type="Apple", relation=RefRelation(relation="on", target=Ref(type="CounterTop")))
    goal = (Condition(object=on_counter, inside=Ref(type="Fridge")),)
    env = make_env(alfred_world())
    env.reset(make_task("alfred", goal))
    assert env.bindings.objects == (frozenset({"Apple"}),)
    run_ok(env, "find a Apple", "pick up the Apple", "find a Sofa", "put down the object in hand")
    run_ok(env, "find a Apple_2", "open the Cabinet_2", "pick up the Apple_2", "find a CounterTop")
    run_ok(env, "put down the object in hand")
    env.reset(make_task("alfred", goal), keep_world=True)
    assert env.bindings.objects == (frozenset({"Apple_2"}),)
    env.reset(make_task("alfred", goal))
    assert env.bindings.objects == (frozenset({"Apple"}),)


# ---- conditions -------------------------------------------------------------------------------------------


def test_states_must_all_hold() -> None:
    world = alfred_world()
    cond = Condition(object=_ref("Apple", color="red"), states=("sliced", "hot"))
    assert _status(world, cond) == (False, 0.0)
    world.entities["Apple"].sliced = True
    assert _status(world, cond) == (False, 0.0)
    world.entities["Apple_2"].hot = True  # the other apple does not count
    assert _status(world, cond) == (False, 0.0)
    world.entities["Apple"].hot = True
    assert _status(world, cond) == (True, 1.0)


@pytest.mark.parametrize("state", ["clean", "hot", "cold", "sliced"])
def test_each_object_state(state: str) -> None:
    world = alfred_world()
    cond = Condition(object=_ref("Potato"), states=(state,))
    assert _status(world, cond)[0] is False
    setattr(world.entities["Potato"], state, True)
    assert _status(world, cond)[0] is True


def test_on_and_open_states_of_appliances_and_receptacles() -> None:
    world = alfred_world()
    lamp_on = Condition(object=_ref("FloorLamp"), states=("on",))
    fridge_open = Condition(object=_ref("Fridge"), states=("open",))
    assert _status(world, lamp_on, fridge_open) == (False, 0.0)
    world.entities["FloorLamp"].on = True
    assert _status(world, lamp_on, fridge_open) == (False, 0.5)
    world.entities["Fridge"].open = True
    assert _status(world, lamp_on, fridge_open) == (True, 1.0)


def test_inside_is_transitive() -> None:
    world = alfred_world()
    world.entities["Apple"].parent = "Mug"  # Apple in Mug on CounterTop
    assert _status(world, Condition(object=_ref("Apple", color="red"), inside=_ref("Mug")))[0]
    assert _status(world, Condition(object=_ref("Apple", color="red"), inside=_ref("CounterTop")))[0]
    assert not _status(world, Condition(object=_ref("Apple", color="red"), inside=_ref("Fridge")))[0]
    assert not _status(world, Condition(object=_ref("Mug"), inside=_ref("Apple")))[0]


def test_inside_a_described_receptacle() -> None:
    world = alfred_world()
    in_white = Condition(object=_ref("Apple"), inside=_ref("Cabinet", color="white"))
    in_brown = Condition(object=_ref("Apple"), inside=_ref("Cabinet", color="brown"))
    assert _status(world, in_white)[0] is True  # Apple_2 is in Cabinet_2 (white)
    assert _status(world, in_brown)[0] is False


def test_held() -> None:
    world = alfred_world()
    cond = Condition(object=_ref("Apple"), held=True)
    assert _status(world, cond)[0] is False
    world.move("Mug", None)
    world.held = "Mug"
    assert _status(world, cond)[0] is False
    world.move("Mug", "CounterTop")
    world.move("Apple_2", None)
    world.held = "Apple_2"
    assert _status(world, cond)[0] is True
    assert _status(world, Condition(object=_ref("Apple", color="red"), held=True))[0] is False


def test_count() -> None:
    world = alfred_world()
    two_in_fridge = Condition(object=_ref("Apple"), inside=_ref("Fridge"), count=2)
    one_in_fridge = Condition(object=_ref("Apple"), inside=_ref("Fridge"))
    world.move("Apple", "Fridge")
    assert _status(world, one_in_fridge, two_in_fridge) == (False, 0.5)
    world.move("Apple_2", "Fridge")
    assert _status(world, one_in_fridge, two_in_fridge) == (True, 1.0)
    # A description that fits only one apple can never be met twice.
    only_red = Condition(object=_ref("Apple", color="red"), inside=_ref("Fridge"), count=2)
    assert _status(world, only_red)[0] is False


def test_count_needs_distinct_objects_meeting_every_requirement() -> None:
    world = alfred_world()
    world.move("Apple", "Fridge")
    world.move("Apple_2", "Fridge")
    world.entities["Apple"].cold = True
    cold_pair = Condition(object=_ref("Apple"), states=("cold",), inside=_ref("Fridge"), count=2)
    assert _status(world, cold_pair)[0] is False
    world.entities["Apple_2"].cold = True
    assert _status(world, cold_pair)[0] is True


def test_progress_counts_conditions_not_objects() -> None:
    world = alfred_world()
    goal = (
        Condition(object=_ref("Apple"), inside=_ref("CounterTop")),
        Condition(object=_ref("Mug"), inside=_ref("CounterTop")),
        Condition(object=_ref("Book"), inside=_ref("Fridge")),
    )
    success, progress = _status(world, *goal)
    assert success is False
    assert progress == 2 / 3


def test_empty_goal() -> None:
    assert _status(alfred_world()) == (False, 0.0)


def test_goal_on_a_description_that_fits_nothing_is_never_met() -> None:
    env = make_env(alfred_world())
    env.reset(make_task("alfred", (Condition(object=_ref("Tomato"), held=True),)))
    assert env.bindings.objects == (frozenset(),)
    assert env.goal_status() == (False, 0.0)
