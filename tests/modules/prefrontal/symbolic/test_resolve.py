"""Resolving descriptions against beliefs, and the goal agenda (merging, nesting, counting)."""

from __future__ import annotations

from envs.task import Condition
from modules.prefrontal.symbolic.agenda import agenda, satisfying
from modules.prefrontal.symbolic.beliefs import BeliefState
from modules.prefrontal.symbolic.resolve import MAYBE, NO, YES, candidates, match
from tests.modules.prefrontal.symbolic.helpers import (
    Scene,
    alfred_skills,
    history,
    planning_input,
    recall,
    ref,
    task,
)

BEDROOM = Scene(
    "Bedroom",
    ["Drawer", "SideTable", "Drawer_2", "CounterTop"],
    attributes={"Drawer": {"color": "black"}, "Drawer_2": {"color": "white"}},
)
TASK = task(Condition(object=ref("Mug"), inside=ref("Drawer")))


def beliefs(perception=None, *, memory=None, steps=(), the_task=TASK) -> BeliefState:
    return BeliefState.from_input(
        planning_input(the_task, alfred_skills(), perception, memory=memory, steps=steps)
    )


def test_attributes_yes_no_maybe() -> None:
    b = beliefs(BEDROOM.perceive(at="SideTable"))
    black = ref("Drawer", color="black")
    assert (match(b, black, "Drawer"), match(b, black, "Drawer_2"), match(b, black, "Drawer_3")) == (
        YES,
        NO,
        MAYBE,
    )
    assert match(b, black, "SideTable") == NO  # wrong type
    found = candidates(b, black)
    assert found.yes == ("Drawer",) and found.maybe == ("Drawer_3",)


def test_left_and_right_of_furniture() -> None:
    b = beliefs(BEDROOM.perceive(at="SideTable"))
    left_of_table = ref("Drawer", relation=("left_of", ref("SideTable")))
    right_of_table = ref("Drawer", relation=("right_of", ref("SideTable")))
    assert match(b, left_of_table, "Drawer") == YES and match(b, left_of_table, "Drawer_2") == NO
    assert match(b, right_of_table, "Drawer_2") == YES and match(b, right_of_table, "Drawer") == NO
    assert match(b, left_of_table, "Drawer_3") == MAYBE  # its room has not been seen
    # From memory alone: a neighbour that is known decides; an unknown one leaves it open.
    b = beliefs(None, memory=recall(beliefs=[("Drawer_3", "left_of", "CounterTop", 1.0, 1)]))
    assert match(b, ref("Drawer", relation=("left_of", ref("CounterTop"))), "Drawer_3") == YES
    assert match(b, ref("Drawer", relation=("left_of", ref("SideTable"))), "Drawer_3") == NO
    assert match(b, ref("Drawer", relation=("right_of", ref("SideTable"))), "Drawer_3") == MAYBE


def test_starting_container_of_objects() -> None:
    in_cabinet = ref("Mug", relation=("in", ref("Cabinet")))
    memory = recall(
        beliefs=[
            ("I", "in", "Kitchen", 1.0, 2),
            ("Mug", "in", "Cabinet", 1.0, 2),
            ("Mug_2", "in", "Sink", 1.0, 2),
        ]
    )
    b = beliefs(None, memory=memory)
    assert (match(b, in_cabinet, "Mug"), match(b, in_cabinet, "Mug_2"), match(b, in_cabinet, "Mug_3")) == (
        YES,
        NO,
        MAYBE,
    )
    # An older episode's container proves nothing about this episode's start.
    b = beliefs(
        None, memory=recall(beliefs=[("I", "in", "Kitchen", 1.0, 2), ("Mug", "in", "Cabinet", 1.0, 1)])
    )
    assert match(b, in_cabinet, "Mug") == MAYBE
    # Once the agent picked it, it was picked because it fitted.
    b = beliefs(BEDROOM.perceive(holding="Mug_3"), steps=history("find a Mug_3", "pick up the Mug_3"))
    assert match(b, in_cabinet, "Mug_3") == YES


def test_own_earlier_destination_counts_as_chosen() -> None:
    left_of_table = ref("Drawer", relation=("left_of", ref("SideTable")))
    steps = history(
        "find a Mug", "pick up the Mug", "find a Drawer_3", "open the Drawer_3", "put down the object in hand"
    )
    b = beliefs(None, steps=steps)
    assert match(b, left_of_table, "Drawer_3") == YES and match(b, left_of_table, "Drawer") == MAYBE


def test_agenda_merges_conditions_and_orders_vessels() -> None:
    apple, bowl, table = ref("Apple"), ref("Bowl"), ref("SideTable")
    movable = agenda(
        (
            Condition(object=apple, inside=bowl),
            Condition(object=bowl, inside=table),
            Condition(object=apple, inside=table),
        )
    )
    assert [(i.ref.type, i.inside.type if i.inside else None, i.vessel, i.stage) for i in movable] == [
        ("Apple", "Bowl", False, 0),
        ("Bowl", "SideTable", True, 2),
    ]
    clean = agenda(
        (Condition(object=apple, states=("clean",)), Condition(object=apple, states=("clean",), inside=table))
    )
    assert len(clean) == 1 and clean[0].states == ("clean",) and clean[0].inside == table
    two = agenda((Condition(object=apple, inside=table), Condition(object=apple, inside=table, count=2)))
    assert len(two) == 1 and two[0].count == 2
    look = agenda(
        (Condition(object=ref("DeskLamp"), states=("on",)), Condition(object=ref("Book"), held=True))
    )
    assert [(i.ref.type, i.stage) for i in look] == [("Book", 3), ("DeskLamp", 4)]


def test_satisfying_counts_distinct_instances_with_states_inside_the_target() -> None:
    item = agenda((Condition(object=ref("Apple"), states=("sliced",), inside=ref("CounterTop"), count=2),))[0]
    kitchen = Scene("Kitchen", ["CounterTop", "Sink"])
    perceived = kitchen.perceive(
        at="CounterTop",
        objects={"Apple": "CounterTop", "Apple_2": "CounterTop"},
        object_states={"Apple": {"sliced": True}, "Apple_2": {"sliced": False}},
    )
    assert satisfying(beliefs(perceived), item) == ["Apple"]
