"""The deterministic critic: objects when beliefs say an action will fail, with a usable reason; lets
through whatever it does not know."""

from __future__ import annotations

import pytest

from envs.base import Observation, Perception, PerceptionField
from envs.task import Condition
from modules.hippocampus.base import StoreResult
from modules.prefrontal.base import Critic, PlanningInput
from modules.prefrontal.critic import DeterministicCritic
from tests.modules.prefrontal.symbolic.helpers import (
    Scene,
    alfred_skills,
    habitat_skills,
    history,
    planning_input,
    ref,
    task,
)

KITCHEN = Scene(
    "Kitchen",
    ["CounterTop", "Cabinet", "Sink", "Fridge", "Microwave"],
    states={
        "Cabinet": {"open": False},
        "Fridge": {"open": True},
        "Microwave": {"open": False, "on": False},
        "Faucet": {"on": False},
    },
    anchors={"Faucet": "Sink"},
)
TASK = task(Condition(object=ref("Apple"), states=("sliced",), inside=ref("CounterTop")))
CRITIC = DeterministicCritic()


def review(action: str, perception=None, steps=(), skills=None, the_task=TASK) -> tuple[bool, str]:
    inp = planning_input(the_task, skills or alfred_skills(), perception, steps=steps)
    verdict = CRITIC.review(action, (), inp)
    return verdict.ok, verdict.reason


def test_is_a_critic() -> None:
    assert isinstance(CRITIC, Critic)


def test_pick_up_while_holding_something() -> None:
    ok, reason = review(
        "pick up the Apple",
        KITCHEN.perceive(at="CounterTop", holding="Knife", objects={"Apple": "CounterTop"}),
    )
    assert not ok and "holding Knife" in reason and "put it down" in reason


def test_pick_up_something_not_here() -> None:
    ok, reason = review("pick up the Apple", KITCHEN.perceive(at="CounterTop"))
    assert not ok and "not within reach" in reason and "find the Apple" in reason
    ok, reason = review("pick up the Apple", KITCHEN.perceive(at="Cabinet"))
    assert not ok and "Cabinet is closed" in reason and "Open Cabinet" in reason
    assert review("pick up the Apple", KITCHEN.perceive(at="CounterTop", objects={"Apple_2": "CounterTop"}))[
        0
    ]
    assert not review(
        "pick up the Apple_2", KITCHEN.perceive(at="CounterTop", objects={"Apple": "CounterTop"})
    )[0]


def test_put_into_a_closed_receptacle() -> None:
    steps = history("pick up the Apple", "find a Cabinet")
    ok, reason = review("put down the object in hand", KITCHEN.perceive(at="Cabinet", holding="Apple"), steps)
    assert not ok and "Cabinet is closed" in reason
    steps = history("pick up the Apple", "find a Fridge")
    assert review("put down the object in hand", KITCHEN.perceive(at="Fridge", holding="Apple"), steps)[0]
    assert not review("put down the object in hand", KITCHEN.perceive(at="Fridge"))[0]  # nothing in hand


def test_slicing_needs_a_knife_and_the_thing_within_reach() -> None:
    here = {"Apple": "CounterTop"}
    ok, reason = review("slice the Apple", KITCHEN.perceive(at="CounterTop", objects=here))
    assert not ok and "knife" in reason
    assert review("slice the Apple", KITCHEN.perceive(at="CounterTop", objects=here, holding="Knife"))[0]
    ok, reason = review(
        "slice the Apple",
        KITCHEN.perceive(
            at="CounterTop", objects=here, holding="Knife", object_states={"Apple": {"sliced": True}}
        ),
    )
    assert not ok and "already sliced" in reason
    assert not review("slice the Apple", KITCHEN.perceive(at="Sink", holding="Knife"))[0]


def test_doors_and_switches() -> None:
    ok, reason = review("open the Fridge", KITCHEN.perceive(at="Fridge"))
    assert not ok and "already open" in reason
    assert review("open the Cabinet", KITCHEN.perceive(at="Cabinet"))[0]
    ok, reason = review("open the Cabinet", KITCHEN.perceive(at="CounterTop"))
    assert not ok and "not nearby" in reason
    assert review("turn on the Faucet", KITCHEN.perceive(at="Sink"))[0]
    assert not review("turn on the Faucet", KITCHEN.perceive(at="Fridge"))[0]
    assert not review("turn off the Microwave", KITCHEN.perceive(at="Microwave"))[0]  # already off


def test_find_something_that_does_not_exist() -> None:
    steps = history(("find a Apple_2", "Cannot find Apple_2. This object may not exist in this scene."))
    ok, reason = review("find a Apple_2", KITCHEN.perceive(), steps)
    assert not ok and "does not exist" in reason
    assert review("find a Apple", KITCHEN.perceive(), steps)[0]


def test_actions_outside_the_skill_list() -> None:
    ok, reason = review("teleport to the moon", KITCHEN.perceive())
    assert not ok and "skill list" in reason


def test_habitat_place_needs_being_there() -> None:
    room = Scene("kitchen", ["counter 1", "refrigerator", "cabinet 1"], types={"counter 1": "counter"})
    habitat = task(Condition(object=ref("apple"), inside=ref("counter")), profile="habitat")
    perceived = room.perceive(at="refrigerator", holding="apple")
    ok, reason = review("place at the counter 1", perceived, skills=habitat_skills(), the_task=habitat)
    assert not ok and "navigate to it" in reason
    assert review("place at the refrigerator", perceived, skills=habitat_skills(), the_task=habitat)[0]


@pytest.mark.parametrize(
    ("action", "before"),
    [
        ("pick up the Apple", ("find a Apple",)),
        ("slice the Apple", ("find a Knife", "pick up the Knife", "find a Apple")),
        ("open the Cabinet", ("find a Cabinet",)),
        ("turn on the Faucet", ("find a Sink",)),
        ("put down the object in hand", ("pick up the Knife", "find a Cabinet")),
    ],
)
def test_unknown_is_ok(action: str, before: tuple[str, ...]) -> None:
    """Without perception the critic cannot know whether these work, so it lets them through."""
    assert review(action, None, history(*before))[0]


def _unreported(perception: Perception, *fields: PerceptionField) -> Perception:
    return perception.model_copy(update={"unknown": fields})


def test_a_hand_the_robot_does_not_report_is_not_an_empty_hand() -> None:
    # A robot that never reports the hand: after its pick the history says what it holds.
    at_fridge = _unreported(KITCHEN.perceive(at="Fridge"), "holding")
    steps = history("find a Apple", "pick up the Apple", "find a Fridge")
    assert review("put down the object in hand", at_fridge, steps)[0]
    ok, reason = review("pick up the Apple", _unreported(KITCHEN.perceive(at="CounterTop"), "holding"), steps)
    assert not ok and "holding Apple" in reason
    # Nothing picked up this episode (a robot may start holding something): put down, drop and slice are
    # left to the robot to judge, while a reported empty hand still blocks them.
    for action in ("put down the object in hand", "drop the object in hand"):
        assert review(action, at_fridge)[0]
        assert not review(action, KITCHEN.perceive(at="Fridge"))[0]
    here = {"Apple": "CounterTop"}
    assert review("slice the Apple", _unreported(KITCHEN.perceive(at="CounterTop", objects=here), "holding"))[
        0
    ]


def test_an_unreported_location_or_view_blocks_nothing() -> None:
    away = KITCHEN.perceive(at="CounterTop")
    ok, reason = review("open the Cabinet", away)
    assert not ok and "not nearby" in reason
    assert review("open the Cabinet", _unreported(away, "location"))[0]
    assert not review("pick up the Apple", away)[0]
    assert review("pick up the Apple", _unreported(away, "entities"))[0]


# ---- what memory says will fail (the jammed subset of memory_v4) ----------------------------------------
JAM = "Last action is invalid. The cabinet 2 is jammed and does not open."


def _remembering(
    site: str = "house", failure: str = JAM, lesson: str | None = None
) -> dict[str, StoreResult]:
    text = (
        f"Task: Take the pen out of the cabinet 2 | site: {site} | outcome: failure in 3 steps | "
        f"1. navigate to the cabinet 2 -> ok; 2. open the cabinet 2 -> {failure}"
    )
    stores = {"episodic": StoreResult("episodic", (text,), [{"id": "1", "text": text, "site": site}])}
    if lesson is not None:
        stores["semantic"] = StoreResult(
            "semantic", (f"[task] {lesson}",), [{"level": "task", "text": lesson}]
        )
    return stores


def _memory_input(memory: dict[str, StoreResult], profile: str = "habitat") -> PlanningInput:
    the_task = task(Condition(object=ref("mug"), inside=ref("cabinet")), profile=profile)
    observation = Observation(instruction="", text="", perception=None)
    return PlanningInput(the_task, observation, habitat_skills(), memory)


def test_an_action_that_failed_in_this_house_for_good_is_vetoed_for_good() -> None:
    inp = _memory_input(_remembering())
    verdict = CRITIC.review("open the cabinet 2", ("place at the cabinet 2",), inp)
    assert not verdict.ok and verdict.lasting
    assert "jammed" in verdict.reason and "open the cabinet 2" in verdict.reason
    # Going there only to do it is vetoed too, before the step is spent; going elsewhere is not.
    going = CRITIC.review("navigate to the cabinet 2", ("open the cabinet 2", "place at the cabinet 2"), inp)
    assert not going.ok and going.lasting
    assert CRITIC.review("navigate to the cabinet 1", ("open the cabinet 1",), inp).ok
    assert CRITIC.review("navigate to the cabinet 2", ("navigate to the sofa",), inp).ok
    # The first action of a new plan is asked only about such lasting objections.
    assert not CRITIC.lasting("open the cabinet 2", (), inp).ok
    assert CRITIC.lasting("open the cabinet 1", (), inp).ok


def test_only_lasting_failures_of_this_house_count() -> None:
    # Another house's cabinet 2 is another cabinet; a failure the agent caused (not there) says nothing.
    assert CRITIC.review("open the cabinet 2", (), _memory_input(_remembering(site="other"))).ok
    far = "Last action is invalid. Check whether the receptacle is already open or the robot is not near it."
    assert CRITIC.review("open the cabinet 2", (), _memory_input(_remembering(failure=far))).ok
    assert CRITIC.review("open the cabinet 2", (), _memory_input({})).ok


def test_a_lesson_of_this_house_is_enough() -> None:
    lesson = "In house, 'open the cabinet 2' fails: The cabinet 2 is jammed and does not open."
    memory = {"semantic": _remembering(lesson=lesson)["semantic"]}
    verdict = CRITIC.review("open the cabinet 2", (), _memory_input(memory))
    assert not verdict.ok and verdict.lasting and "lesson" in verdict.reason
    elsewhere = "In house_9, 'open the cabinet 2' fails: The cabinet 2 is jammed and does not open."
    assert CRITIC.review(
        "open the cabinet 2", (), _memory_input({"semantic": _remembering(lesson=elsewhere)["semantic"]})
    ).ok


def _holding(perception: Perception, *held: str) -> Perception:
    return perception.model_copy(update={"holding": held})


def test_the_hand_is_an_inventory() -> None:
    """``Perception.holding`` lists everything held: an empty inventory is an empty hand (put down is
    refused), a knife among several held things is a knife in hand, and EB's one-hand rule names them all."""
    here = {"Apple": "CounterTop"}
    seen = KITCHEN.perceive(at="CounterTop", objects=here)
    ok, reason = review("put down the object in hand", _holding(seen))
    assert not ok and reason == "I am not holding anything to put down."
    assert review(
        "slice the Apple", _holding(KITCHEN.perceive(at="CounterTop", objects=here), "Bowl", "Knife")
    )[0]
    ok, reason = review("slice the Apple", _holding(seen, "Bowl", "Mug"))
    assert not ok and "needs a knife" in reason
    ok, reason = review("pick up the Apple", _holding(seen, "Bowl", "Knife"))
    assert not ok and reason.startswith("I am holding Bowl and Knife and can hold only one thing")
    ok, reason = review("pick up the Apple", KITCHEN.perceive(at="CounterTop", holding="Knife", objects=here))
    assert not ok and reason.startswith("I am holding Knife and can hold only one thing")  # as before
