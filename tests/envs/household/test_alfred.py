"""EB-ALFRED profile: every skill's semantics and feedback string, success and each failure branch, on the
hand-built house of ``worlds.py``."""

from __future__ import annotations

import pytest

from envs.household.catalog import CATALOGS
from envs.household.env import HouseholdEnv
from tests.envs.household.worlds import (
    OK_ALFRED,
    act,
    committed_env,
    committed_tasks,
    feedback,
    invalid,
    run_ok,
)

CANNOT_FIND_TOMATO = invalid(
    "Cannot find Tomato. This object may not exist in this scene. Try to explore other instances instead."
)
PUT_FAILED_FRIDGE = invalid(
    "Putting the object on Fridge failed. First check the receptacle is open or not. "
    "Also try other instances of the receptacle"
)


def _holding_apple(env: HouseholdEnv) -> None:
    run_ok(env, "find a Apple", "pick up the Apple")


# ---- skill list -------------------------------------------------------------------------------------------


def test_skill_list_has_eb_alfred_templates_in_order(alfred: HouseholdEnv) -> None:
    types = list(CATALOGS["alfred"].types.values())
    expected = [f"find a {t.name}" for t in types]
    expected += [f"pick up the {t.name}" for t in types if t.pickable]
    expected += ["put down the object in hand", "drop the object in hand"]
    expected += [f"{v} the {t.name}" for t in types if t.openable for v in ("open", "close")]
    expected += [f"turn {v} the {t.name}" for t in types if t.toggleable for v in ("on", "off")]
    expected += [f"slice the {t.name}" for t in types if t.sliceable]
    n = len(expected)
    assert alfred.skills[:n] == tuple(expected)
    assert {"open the Fridge", "turn on the Faucet", "slice the Apple"} <= set(expected)


def test_instance_actions_are_appended_after_reset(alfred: HouseholdEnv) -> None:
    assert alfred.skills[-7:] == (
        "find a Cabinet_2",
        "open the Cabinet_2",
        "close the Cabinet_2",
        "find a Floor_2",
        "find a Apple_2",
        "pick up the Apple_2",
        "slice the Apple_2",
    )
    assert len(alfred.skills) == len(set(alfred.skills))


def test_global_part_of_the_skill_list_is_the_same_in_every_house(alfred: HouseholdEnv) -> None:
    other = committed_env("alfred")
    other.reset(committed_tasks("alfred")[0])
    n = alfred.skills.index("find a Cabinet_2")
    assert other.skills[:n] == alfred.skills[:n]
    assert len(other.skills) > n
    assert all(any(c.isdigit() for c in s) for s in other.skills[n:])


def test_step_accepts_ids_and_exact_strings(alfred: HouseholdEnv) -> None:
    by_id = act(alfred, alfred.skills.index("find a Fridge"))
    assert by_id["action_description"] == "find a Fridge"
    assert by_id["env_feedback"] == OK_ALFRED
    assert alfred.world.agent_location == "Fridge"
    by_text = act(alfred, "find a Sofa")
    assert by_text["action_id"] == alfred.skills.index("find a Sofa")
    assert alfred.world.agent_location == "Sofa"


# ---- find -------------------------------------------------------------------------------------------------


def test_find_type_goes_to_the_first_instance(alfred: HouseholdEnv) -> None:
    info = act(alfred, "find a Cabinet")
    assert (info["last_action_success"], info["env_feedback"]) == (True, OK_ALFRED)
    assert alfred.world.agent_location == "Cabinet"
    assert alfred.world.put_target == "Cabinet"


def test_find_instance(alfred: HouseholdEnv) -> None:
    assert feedback(alfred, "find a Cabinet_2") == OK_ALFRED
    assert alfred.world.agent_location == "Cabinet_2"
    assert alfred.world.put_target == "Cabinet_2"


def test_find_object_goes_to_its_place_and_aims_at_its_container(alfred: HouseholdEnv) -> None:
    assert feedback(alfred, "find a Apple_2") == OK_ALFRED
    assert alfred.world.agent_location == "Cabinet_2"
    assert alfred.world.put_target == "Cabinet_2"
    assert feedback(alfred, "find a Book") == OK_ALFRED
    assert (alfred.world.agent_room, alfred.world.agent_location) == ("LivingRoom", "Sofa")


def test_find_appliances(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Faucet")
    assert (alfred.world.agent_location, alfred.world.put_target) == ("Sink", "Sink")
    run_ok(alfred, "find a DeskLamp")
    assert (alfred.world.agent_location, alfred.world.put_target) == ("SideTable", "SideTable")
    run_ok(alfred, "find a FloorLamp")
    assert (alfred.world.agent_location, alfred.world.put_target) == ("FloorLamp", None)


def test_find_type_absent_from_the_house(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Fridge")
    info = act(alfred, "find a Tomato")
    assert info["env_feedback"] == CANNOT_FIND_TOMATO
    assert info["last_action_success"] is False
    assert info["action_id"] == alfred.skills.index("find a Tomato")
    assert info["num_invalid_actions"] == 1
    assert alfred.world.agent_location == "Fridge"


def test_find_held_object_does_not_move(alfred: HouseholdEnv) -> None:
    _holding_apple(alfred)
    run_ok(alfred, "find a Sofa")
    assert feedback(alfred, "find a Apple") == OK_ALFRED
    assert (alfred.world.agent_location, alfred.world.held) == ("Sofa", "Apple")


# ---- pick up ----------------------------------------------------------------------------------------------


def test_pick_up(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Apple")
    info = act(alfred, "pick up the Apple")
    assert (info["last_action_success"], info["env_feedback"]) == (True, OK_ALFRED)
    assert alfred.world.held == "Apple"
    assert alfred.world.entities["Apple"].parent is None


def test_pick_up_while_holding(alfred: HouseholdEnv) -> None:
    _holding_apple(alfred)
    info = act(alfred, "pick up the Mug")
    assert info["env_feedback"] == invalid("Robot is currently holding Apple")
    assert info["last_action_success"] is False
    assert alfred.world.held == "Apple"
    assert alfred.world.entities["Mug"].parent == "CounterTop"


def test_pick_up_object_not_nearby(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Apple")
    assert feedback(alfred, "pick up the Book") == invalid(
        "Cannot find Book to pick up. Find the object before picking up it"
    )
    assert alfred.world.held is None
    assert alfred.world.entities["Book"].parent == "Sofa"


def test_pick_up_object_hidden_in_closed_receptacle_here(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Cabinet_2")
    assert feedback(alfred, "pick up the Apple_2") == invalid(
        "Apple_2 is not visible because it is in Cabinet_2. Go there to pick the object instead."
    )
    # A bare type names every instance: the hidden one here is reported too.
    assert feedback(alfred, "pick up the Apple") == invalid(
        "Apple_2 is not visible because it is in Cabinet_2. Go there to pick the object instead."
    )
    assert alfred.world.held is None


def test_pick_up_object_hidden_elsewhere(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Cabinet")
    assert feedback(alfred, "pick up the Potato") == invalid(
        "Cannot find Potato to pick up. Find the object before picking up it"
    )


def test_pick_up_bare_type_takes_the_nearby_instance(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Cabinet_2", "open the Cabinet_2")
    assert feedback(alfred, "pick up the Apple") == OK_ALFRED
    assert alfred.world.held == "Apple_2"
    assert alfred.world.entities["Apple"].parent == "CounterTop"


def test_pick_up_from_the_floor_anywhere_in_the_room(alfred: HouseholdEnv) -> None:
    _holding_apple(alfred)
    run_ok(alfred, "drop the object in hand", "find a Fridge")
    assert feedback(alfred, "pick up the Apple") == OK_ALFRED
    assert alfred.world.held == "Apple"


def test_pick_up_the_found_receptacle_re_aims_put_down(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Mug")
    assert alfred.world.put_target == "Mug"  # a movable receptacle is a receptacle too
    run_ok(alfred, "pick up the Mug")
    assert alfred.world.put_target == "CounterTop"


# ---- put down ---------------------------------------------------------------------------------------------


def test_put_down_into_the_last_found_receptacle(alfred: HouseholdEnv) -> None:
    _holding_apple(alfred)
    run_ok(alfred, "find a Sofa")
    info = act(alfred, "put down the object in hand")
    assert (info["last_action_success"], info["env_feedback"]) == (True, OK_ALFRED)
    assert alfred.world.entities["Apple"].parent == "Sofa"
    assert alfred.world.held is None


def test_put_down_into_the_last_opened_receptacle(alfred: HouseholdEnv) -> None:
    _holding_apple(alfred)
    run_ok(alfred, "find a Fridge")
    alfred.world.put_target = None
    run_ok(alfred, "open the Fridge")
    assert alfred.world.put_target == "Fridge"
    assert feedback(alfred, "put down the object in hand") == OK_ALFRED
    assert alfred.world.entities["Apple"].parent == "Fridge"


def test_put_down_into_a_movable_receptacle(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Knife", "pick up the Knife", "find a Mug")
    assert feedback(alfred, "put down the object in hand") == OK_ALFRED
    assert alfred.world.entities["Knife"].parent == "Mug"


def test_put_down_into_closed_receptacle_fails_then_drops_after_three(alfred: HouseholdEnv) -> None:
    _holding_apple(alfred)
    run_ok(alfred, "find a Fridge")
    for _ in range(2):
        info = act(alfred, "put down the object in hand")
        assert (info["last_action_success"], info["env_feedback"]) == (False, PUT_FAILED_FRIDGE)
        assert alfred.world.held == "Apple"
    assert feedback(alfred, "put down the object in hand") == PUT_FAILED_FRIDGE
    assert alfred.world.held is None
    assert alfred.world.entities["Apple"].parent == "Floor"
    alfred.world.check_invariants()


def test_failed_puts_are_counted_per_aim(alfred: HouseholdEnv) -> None:
    _holding_apple(alfred)
    run_ok(alfred, "find a Fridge")
    assert feedback(alfred, "put down the object in hand") == PUT_FAILED_FRIDGE
    assert feedback(alfred, "put down the object in hand") == PUT_FAILED_FRIDGE
    run_ok(alfred, "find a Fridge")  # aiming again starts a new count
    assert feedback(alfred, "put down the object in hand") == PUT_FAILED_FRIDGE
    assert feedback(alfred, "put down the object in hand") == PUT_FAILED_FRIDGE
    assert alfred.world.held == "Apple"


def test_put_down_what_does_not_fit_fails(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Pot", "pick up the Pot", "find a Microwave", "open the Microwave")
    assert feedback(alfred, "put down the object in hand") == invalid(
        "Putting the object on Microwave failed. First check the receptacle is open or not. "
        "Also try other instances of the receptacle"
    )
    assert alfred.world.held == "Pot"


def test_put_down_without_target_drops(alfred: HouseholdEnv) -> None:
    _holding_apple(alfred)
    run_ok(alfred, "find a FloorLamp")
    assert alfred.world.put_target is None
    assert feedback(alfred, "put down the object in hand") == OK_ALFRED
    assert alfred.world.entities["Apple"].parent == "Floor_2"
    assert alfred.world.held is None


def test_put_down_with_target_out_of_reach_drops(alfred: HouseholdEnv) -> None:
    _holding_apple(alfred)
    alfred.world.put_target = "Sofa"
    assert feedback(alfred, "put down the object in hand") == OK_ALFRED
    assert alfred.world.entities["Apple"].parent == "Floor"


def test_put_down_not_holding(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Sofa")
    info = act(alfred, "put down the object in hand")
    assert info["env_feedback"] == invalid("Robot is not holding any object")
    assert info["last_action_success"] is False


# ---- drop -------------------------------------------------------------------------------------------------


def test_drop_puts_the_object_on_the_floor_of_the_room(alfred: HouseholdEnv) -> None:
    _holding_apple(alfred)
    run_ok(alfred, "find a Sofa")
    assert feedback(alfred, "drop the object in hand") == OK_ALFRED
    assert alfred.world.entities["Apple"].parent == "Floor_2"
    assert alfred.world.held is None


def test_drop_not_holding(alfred: HouseholdEnv) -> None:
    assert feedback(alfred, "drop the object in hand") == invalid("Robot is not holding any object")


# ---- open / close -----------------------------------------------------------------------------------------


def test_open_and_close(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Fridge")
    assert feedback(alfred, "open the Fridge") == OK_ALFRED
    assert alfred.world.entities["Fridge"].open is True
    assert feedback(alfred, "open the Fridge") == invalid("Open action failed. The Fridge is already open")
    assert feedback(alfred, "close the Fridge") == OK_ALFRED
    assert alfred.world.entities["Fridge"].open is False
    assert feedback(alfred, "close the Fridge") == invalid(
        "Close action failed. The Fridge is already closed"
    )


def test_open_and_close_need_the_receptacle_nearby(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Sink")
    assert feedback(alfred, "open the Fridge") == invalid(
        "Open action failed. Fridge is not nearby. Find it first"
    )
    assert feedback(alfred, "close the Cabinet_2") == invalid(
        "Close action failed. Cabinet_2 is not nearby. Find it first"
    )
    assert alfred.world.entities["Fridge"].open is False


def test_open_bare_type_opens_the_nearby_instance(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Cabinet_2")
    assert feedback(alfred, "open the Cabinet") == OK_ALFRED
    assert alfred.world.entities["Cabinet_2"].open is True
    assert alfred.world.entities["Cabinet"].open is False
    assert feedback(alfred, "open the Cabinet") == invalid(
        "Open action failed. The Cabinet_2 is already open"
    )


# ---- turn on / off ----------------------------------------------------------------------------------------


def test_turn_on_and_off(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Sink")
    assert feedback(alfred, "turn on the Faucet") == OK_ALFRED
    assert alfred.world.entities["Faucet"].on is True
    assert feedback(alfred, "turn on the Faucet") == invalid(
        "Turn on action failed. The Faucet is already on"
    )
    assert feedback(alfred, "turn off the Faucet") == OK_ALFRED
    assert alfred.world.entities["Faucet"].on is False
    assert feedback(alfred, "turn off the Faucet") == invalid(
        "Turn off action failed. The Faucet is already off"
    )


def test_turn_on_needs_the_appliance_nearby(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Sofa")
    assert feedback(alfred, "turn on the DeskLamp") == invalid(
        "Turn on action failed. DeskLamp is not nearby. Find it first"
    )
    assert feedback(alfred, "turn off the Microwave") == invalid(
        "Turn off action failed. Microwave is not nearby. Find it first"
    )
    run_ok(alfred, "find a SideTable", "turn on the DeskLamp", "find a FloorLamp", "turn on the FloorLamp")
    assert (alfred.world.entities["DeskLamp"].on, alfred.world.entities["FloorLamp"].on) == (True, True)


# ---- slice ------------------------------------------------------------------------------------------------


def test_slice_needs_a_knife_in_hand(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Apple")
    assert feedback(alfred, "slice the Apple") == invalid(
        "Slice action failed. Robot must hold a knife to slice"
    )
    run_ok(alfred, "pick up the Mug")
    assert feedback(alfred, "slice the Apple") == invalid(
        "Slice action failed. Robot must hold a knife to slice"
    )
    assert alfred.world.entities["Apple"].sliced is False


def test_slice_with_a_knife(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Knife", "pick up the Knife")
    assert feedback(alfred, "slice the Apple") == OK_ALFRED
    assert alfred.world.entities["Apple"].sliced is True
    assert alfred.world.held == "Knife"
    assert feedback(alfred, "slice the Apple") == invalid("Slice action failed. The Apple is already sliced")


def test_slice_needs_the_object_nearby(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Knife", "pick up the Knife", "find a Fridge")
    # In the closed fridge right here: not reachable.
    assert feedback(alfred, "slice the Potato") == invalid(
        "Slice action failed. Potato is not nearby. Find it first"
    )
    run_ok(alfred, "open the Fridge")
    assert feedback(alfred, "slice the Potato") == OK_ALFRED
    assert alfred.world.entities["Potato"].sliced is True


# ---- clean / heat / cool ----------------------------------------------------------------------------------


def test_clean_is_in_sink_with_faucet_on(alfred: HouseholdEnv) -> None:
    _holding_apple(alfred)
    run_ok(alfred, "find a Sink", "put down the object in hand")
    assert alfred.world.entities["Apple"].parent == "Sink"
    assert alfred.world.entities["Apple"].clean is False
    run_ok(alfred, "turn on the Faucet")
    assert alfred.world.entities["Apple"].clean is True
    run_ok(alfred, "turn off the Faucet", "pick up the Apple")
    assert alfred.world.entities["Apple"].clean is True  # stays clean


def test_putting_into_a_running_sink_cleans(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Sink", "turn on the Faucet", "find a Mug", "pick up the Mug", "find a Sink")
    run_ok(alfred, "put down the object in hand")
    assert alfred.world.entities["Mug"].clean is True
    assert alfred.world.entities["Apple"].clean is False


def test_heat_is_in_microwave_that_is_on(alfred: HouseholdEnv) -> None:
    _holding_apple(alfred)
    run_ok(
        alfred, "find a Microwave", "open the Microwave", "put down the object in hand", "close the Microwave"
    )
    assert alfred.world.entities["Apple"].hot is False
    run_ok(alfred, "turn on the Microwave")
    assert alfred.world.entities["Apple"].hot is True
    run_ok(alfred, "turn off the Microwave", "open the Microwave", "pick up the Apple")
    assert alfred.world.entities["Apple"].hot is True
    assert alfred.world.entities["Mug"].hot is False


def test_cool_is_in_fridge_and_undoes_heat(alfred: HouseholdEnv) -> None:
    _holding_apple(alfred)
    run_ok(alfred, "find a Microwave", "open the Microwave", "put down the object in hand")
    run_ok(alfred, "turn on the Microwave", "turn off the Microwave", "pick up the Apple")
    assert (alfred.world.entities["Apple"].hot, alfred.world.entities["Apple"].cold) == (True, False)
    run_ok(alfred, "find a Fridge", "open the Fridge", "put down the object in hand")
    assert (alfred.world.entities["Apple"].hot, alfred.world.entities["Apple"].cold) == (False, True)


def test_an_action_elsewhere_does_not_change_what_is_in_the_fridge(alfred: HouseholdEnv) -> None:
    """Object states must not depend on unrelated actions in other places: whatever the potato's
    temperature at the start (it has been in the fridge all along), opening a cabinet does not change it."""
    before = alfred.world.entities["Potato"].cold
    run_ok(alfred, "find a Cabinet", "open the Cabinet")
    assert alfred.world.entities["Potato"].cold is before


# ---- held containers --------------------------------------------------------------------------------------


def test_find_object_inside_the_held_container_keeps_the_agent_at_a_place(alfred: HouseholdEnv) -> None:
    """The apple is in the mug the robot holds: finding it must not move the robot "into" the mug."""
    _holding_apple(alfred)
    run_ok(alfred, "find a Mug", "put down the object in hand", "pick up the Mug")
    assert (alfred.world.held, alfred.world.entities["Apple"].parent) == ("Mug", "Mug")
    act(alfred, "find a Apple")
    assert alfred.world.agent_location == "CounterTop"
    alfred.world.check_invariants()


@pytest.mark.parametrize(
    "action",
    [
        "pick up the Apple",
        "slice the Apple",
        "open the Fridge",
        "turn on the Faucet",
        "find a Tomato",
        "close the Cabinet",
    ],
)
def test_failed_skills_leave_the_world_unchanged(alfred: HouseholdEnv, action: str) -> None:
    run_ok(alfred, "find a Book", "pick up the Book")
    before = alfred.world.to_dict()
    info = act(alfred, action)
    assert info["last_action_success"] is False
    assert alfred.world.to_dict() == before
