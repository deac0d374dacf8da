"""Deterministic extraction: what perception and actions say, and only what changed."""

from __future__ import annotations

import pytest

from envs.skill_language import ParsedAction, parse_action
from modules.hippocampus.spatial import SpatialConfig
from modules.hippocampus.spatial.extract import observe_perception
from modules.hippocampus.spatial.rules import functional_group, normalize_relation, normalize_state
from tests.modules.hippocampus.spatial.helpers import KITCHEN, perception


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("find a Egg", ParsedAction("navigate", "Egg")),
        ("navigate to the table 2", ParsedAction("navigate", "table 2")),
        ("navigate_to(counter)", ParsedAction("navigate", "counter")),
        ("pick up the hammer", ParsedAction("pick", "hammer")),
        ("pick_up(Apple)", ParsedAction("pick", "Apple")),
        ("put down the object in hand", ParsedAction("put", None)),
        ("place at the chair 1", ParsedAction("put", "chair 1")),
        ("put_down_to(Sink)", ParsedAction("put", "Sink")),
        ("drop the object in hand", ParsedAction("drop", None)),
        ("open the Fridge", ParsedAction("open", "Fridge")),
        ("close the refrigerator", ParsedAction("close", "refrigerator")),
        ("turn on the Faucet_2", ParsedAction("on", "Faucet_2")),
        ("turn_off(Microwave)", ParsedAction("off", "Microwave")),
        ("slice the Apple", ParsedAction("slice", "Apple")),
        ("dance", None),
    ],
)
def test_parse_action(text: str, parsed: ParsedAction | None) -> None:
    assert parse_action(text) == parsed


def test_perception_gives_observed_facts_and_what_is_in_view() -> None:
    seen = perception(
        "Kitchen",
        furniture=KITCHEN,
        place="CounterTop",
        objects={"Bowl": ("on", "CounterTop"), "Apple": ("in", "Bowl"), "Box": ("on", "CounterTop")},
        states={"Fridge": {"open": False}, "Box": {"open": False}},
    )
    obs = observe_perception(seen, SpatialConfig())
    assert all(f.provenance == "observed" and f.confidence == 1.0 for f in obs.facts)
    assert {str(f) for f in obs.facts} >= {
        "I in Kitchen",
        "I at CounterTop",
        "Apple in Bowl",
        "Fridge in Kitchen",
    }
    # The place and what is open on it (bowl, apple) are in view; the closed box and the fridge are not.
    assert obs.visible == frozenset({"CounterTop", "Bowl", "Apple"})
    assert obs.perceived is not None and {"Apple", "Bowl", "Fridge", "I", "Kitchen"} <= obs.perceived
    assert [c.group for c in obs.clears] == ["holding"]  # the hand is seen empty
    assert obs.nodes["Kitchen"].kind == "place" and obs.nodes["I"].kind == "agent"
    closed = perception("Kitchen", furniture=KITCHEN, place="Fridge", states={"Fridge": {"open": False}})
    assert observe_perception(closed, SpatialConfig()).visible == frozenset()


def test_vocabulary_normalisation() -> None:
    assert normalize_relation("Fridge", "contains", "Milk") == ("Milk", "in", "Fridge")
    assert normalize_relation("Apple", "held by", "I") == ("I", "holding", "Apple")
    assert normalize_relation("Mug", "On top of", "Table") == ("Mug", "on", "Table")
    assert normalize_state("closed", True) == ("open", False)
    assert normalize_state("off", True) == ("on", False)
    assert functional_group("in", "place") == "room"
    assert functional_group("on", "receptacle") == "location"
    assert functional_group("near", "object") is None


def test_steady_state_updates_are_small(tmp_path: object) -> None:
    from pathlib import Path

    from tests.modules.hippocampus.spatial.helpers import Driver, make_memory

    memory = make_memory(Path(str(tmp_path)))
    try:
        driver = Driver(memory)
        seen = perception("Kitchen", furniture=KITCHEN, place="Sink", objects={"Cup": ("in", "Sink")})
        driver.step(seen)
        for _ in range(3):
            stats = driver.step(seen, action="turn on the Faucet", success=False)
            assert stats.details["new_relations"] == 0 and stats.details["edges_written"] == 0
            assert stats.details["history_written"] == 0
    finally:
        memory.close()


def test_unreported_fields_say_nothing() -> None:
    seen = perception(
        "Kitchen", furniture=KITCHEN, place="CounterTop", objects={"Apple": ("on", "CounterTop")}
    )
    # A robot that reports the hand only as a field (no "I holding" relation) is still heard.
    held = observe_perception(seen.model_copy(update={"holding": ("Mug",)}), SpatialConfig())
    assert "I holding Mug" in {str(f) for f in held.facts}
    # The inventory is all that is held: the clear spares the held mug and retires only other holdings.
    assert [c.keep for c in held.clears if c.group == "holding"] == [("Mug",)]
    # An unreported hand is not an empty one; an unreported view proves nothing absent.
    blind = seen.model_copy(update={"unknown": ("holding", "entities")})
    obs = observe_perception(blind, SpatialConfig())
    assert not [c for c in obs.clears if c.group == "holding"]
    assert obs.perceived is None and obs.visible == frozenset()
    assert {"I at CounterTop", "Apple on CounterTop"} <= {str(f) for f in obs.facts}
