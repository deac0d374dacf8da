"""``Perception.holding`` is an inventory (a tuple of held names), and the single form of older data still
reads: saved traces and checkpoints (``"holding": "Mug"`` or ``null``), the EB bridge's and a robot's
messages. How many things can be held is the environment's limit, not the type's."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from envs.base import Observation, PerceivedEntity, Perception
from envs.household.perception import render_text


def test_several_things_can_be_held() -> None:
    perception = Perception(holding=("Mug_1", "Spoon_2"))
    assert perception.holding == ("Mug_1", "Spoon_2")
    assert Perception.model_validate_json(perception.model_dump_json()) == perception


@pytest.mark.parametrize(
    ("old", "inventory"), [("Mug_1", ("Mug_1",)), (None, ()), ("", ()), (["Mug_1"], ("Mug_1",))]
)
def test_the_single_form_of_older_traces_and_checkpoints_still_reads(
    old: object, inventory: tuple[str, ...]
) -> None:
    saved = {"instruction": "x", "text": "y", "perception": {"location": "Sink", "holding": old}}
    observation = Observation.model_validate_json(json.dumps(saved))
    assert observation.perception is not None and observation.perception.holding == inventory


def test_a_held_thing_needs_a_name_and_is_held_once() -> None:
    with pytest.raises(ValidationError, match="every held thing needs a name"):
        Perception(holding=("Mug_1", ""))
    with pytest.raises(ValidationError, match="a thing is held once"):
        Perception(holding=("Mug_1", "Mug_1"))


def test_the_household_text_of_one_held_thing_is_unchanged_and_several_are_listed() -> None:
    mug = PerceivedEntity(name="Mug_1", type="Mug", kind="object", attributes={"color": "red"})
    spoon = PerceivedEntity(name="Spoon_2", type="Spoon", kind="object")
    one = render_text(Perception(location="Sink", room="Kitchen", holding="Mug_1", entities=(mug,)))
    assert one.endswith("You see no objects at Sink. You are holding Mug_1 (red).")  # as before
    both = Perception(location="Sink", room="Kitchen", holding=("Mug_1", "Spoon_2"), entities=(mug, spoon))
    assert render_text(both).endswith("You are holding Mug_1 (red) and Spoon_2.")
    assert render_text(Perception(room="Kitchen")).endswith("You are holding nothing.")
