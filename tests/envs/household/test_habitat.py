"""EB-Habitat profile: every skill's semantics and feedback string, success and each failure branch, on the
hand-built house of ``worlds.py``."""

from __future__ import annotations

from envs.household.env import HouseholdEnv
from tests.envs.household.worlds import HOLDING_NOTHING, act, feedback, invalid, run_ok

NOT_NEAR = invalid(
    "Robot cannot pick any object that is not near the robot. Navigate to other place to find the object."
)
ALREADY_OPEN = invalid(
    "Check whether the receptacle is already open or the robot is not near the receptacle."
)
ALREADY_CLOSED = invalid(
    "Check whether the receptacle is already closed or the robot is not near the receptacle."
)

RECEPTACLES = (
    "counter 1",
    "counter 2",
    "refrigerator",
    "cabinet 1",
    "sink",
    "table 1",
    "sofa",
    "table 2",
    "shelf",
)


def test_skill_list_is_receptacles_in_room_order_then_objects_by_name(habitat: HouseholdEnv) -> None:
    expected = [f"navigate to the {r}" for r in RECEPTACLES]
    expected += [f"pick up the {o}" for o in ("apple", "apple 2", "ball", "bowl", "can", "hammer")]
    expected += [f"place at the {r}" for r in RECEPTACLES]
    expected += [
        "open the refrigerator",
        "close the refrigerator",
        "open the cabinet 1",
        "close the cabinet 1",
    ]
    assert habitat.skills == tuple(expected)


def test_alfred_grammar_is_not_habitat_grammar(habitat: HouseholdEnv) -> None:
    info = act(habitat, "find a apple")
    assert info["action_id"] == -1
    assert info["env_feedback"] == invalid("The action 'find a apple' is not in the skill set.")


def test_navigate(habitat: HouseholdEnv) -> None:
    info = act(habitat, "navigate to the table 2")
    assert (info["last_action_success"], info["env_feedback"]) == (True, HOLDING_NOTHING)
    assert (habitat.world.agent_room, habitat.world.agent_location) == ("living room", "table 2")
    assert feedback(habitat, "navigate to the table 2") == HOLDING_NOTHING  # already there: still fine


def test_navigate_while_holding_reports_the_held_object(habitat: HouseholdEnv) -> None:
    run_ok(habitat, "navigate to the counter 1", "pick up the apple")
    assert feedback(habitat, "navigate to the sofa") == (
        "Last action executed successfully and you are holding apple."
    )


def test_pick_up(habitat: HouseholdEnv) -> None:
    run_ok(habitat, "navigate to the counter 1")
    info = act(habitat, "pick up the apple")
    assert (info["last_action_success"], info["env_feedback"]) == (
        True,
        "Last action executed successfully and you are holding apple.",
    )
    assert habitat.world.held == "apple"
    assert habitat.world.entities["apple"].parent is None


def test_pick_up_only_at_the_receptacle_the_agent_stands_at(habitat: HouseholdEnv) -> None:
    assert feedback(habitat, "pick up the apple") == NOT_NEAR  # at no place yet
    run_ok(habitat, "navigate to the counter 2")
    assert feedback(habitat, "pick up the apple") == NOT_NEAR  # same room, other counter
    assert habitat.world.held is None
    assert habitat.world.entities["apple"].parent == "counter 1"


def test_pick_up_while_holding(habitat: HouseholdEnv) -> None:
    run_ok(habitat, "navigate to the counter 1", "pick up the apple", "navigate to the counter 2")
    assert feedback(habitat, "pick up the bowl") == invalid(
        "Robot cannot pick any object when holding something. Place the held object first."
    )
    assert habitat.world.held == "apple"


def test_pick_up_from_closed_receptacle_needs_it_open(habitat: HouseholdEnv) -> None:
    run_ok(habitat, "navigate to the cabinet 1")
    assert feedback(habitat, "pick up the can") == NOT_NEAR
    run_ok(habitat, "open the cabinet 1")
    assert (
        feedback(habitat, "pick up the can") == "Last action executed successfully and you are holding can."
    )


def test_place(habitat: HouseholdEnv) -> None:
    run_ok(habitat, "navigate to the counter 1", "pick up the apple", "navigate to the shelf")
    info = act(habitat, "place at the shelf")
    assert (info["last_action_success"], info["env_feedback"]) == (True, HOLDING_NOTHING)
    assert habitat.world.entities["apple"].parent == "shelf"
    assert habitat.world.held is None


def test_place_not_holding(habitat: HouseholdEnv) -> None:
    run_ok(habitat, "navigate to the shelf")
    assert feedback(habitat, "place at the shelf") == invalid(
        "Robot cannot place any object when it is not holding anything."
    )


def test_place_must_be_at_the_receptacle(habitat: HouseholdEnv) -> None:
    run_ok(habitat, "navigate to the counter 1", "pick up the apple")
    assert feedback(habitat, "place at the counter 2") == invalid(
        "Robot cannot place at a receptacle that is not near the robot. Navigate to it first."
    )
    assert habitat.world.held == "apple"


def test_place_into_closed_receptacle_fails_then_works_once_open(habitat: HouseholdEnv) -> None:
    run_ok(habitat, "navigate to the counter 1", "pick up the apple", "navigate to the refrigerator")
    assert feedback(habitat, "place at the refrigerator") == invalid(
        "The refrigerator is closed. Open it before placing anything there."
    )
    assert habitat.world.held == "apple"
    run_ok(habitat, "open the refrigerator")
    assert feedback(habitat, "place at the refrigerator") == HOLDING_NOTHING
    assert habitat.world.entities["apple"].parent == "refrigerator"
    assert habitat.world.entities["apple"].cold is True


def test_open_and_close(habitat: HouseholdEnv) -> None:
    run_ok(habitat, "navigate to the refrigerator")
    info = act(habitat, "open the refrigerator")
    assert (info["last_action_success"], info["env_feedback"]) == (
        True,
        "Last action executed successfully and now refrigerator is open.",
    )
    assert habitat.world.entities["refrigerator"].open is True
    assert feedback(habitat, "open the refrigerator") == ALREADY_OPEN
    assert feedback(habitat, "close the refrigerator") == (
        "Last action executed successfully and now refrigerator is closed."
    )
    assert habitat.world.entities["refrigerator"].open is False
    assert feedback(habitat, "close the refrigerator") == ALREADY_CLOSED


def test_open_and_close_need_the_agent_there(habitat: HouseholdEnv) -> None:
    run_ok(habitat, "navigate to the refrigerator")
    assert feedback(habitat, "open the cabinet 1") == ALREADY_OPEN
    assert habitat.world.entities["cabinet 1"].open is False
    run_ok(habitat, "navigate to the cabinet 1")
    assert feedback(habitat, "open the cabinet 1") == (
        "Last action executed successfully and now cabinet 1 is open."
    )
    run_ok(habitat, "navigate to the sofa")
    assert feedback(habitat, "close the cabinet 1") == ALREADY_CLOSED
    assert habitat.world.entities["cabinet 1"].open is True


def test_failed_skills_count_as_invalid_and_change_nothing(habitat: HouseholdEnv) -> None:
    before = habitat.world.to_dict()
    infos = [act(habitat, a) for a in ("pick up the ball", "place at the sofa", "open the refrigerator")]
    assert [i["last_action_success"] for i in infos] == [False, False, False]
    assert [i["num_invalid_actions"] for i in infos] == [1, 2, 3]
    assert habitat.world.to_dict() == before
