"""Belief fusion: perception is authoritative for what it shows, memory fills in (this episode's beliefs as
facts, older ones as hints), the history adds the unperceivable states the agent caused."""

from __future__ import annotations

import ast
from pathlib import Path

import modules.prefrontal as prefrontal
from envs import skill_language
from envs.skill_language import SkillSet, parse_skill
from envs.task import Condition
from modules.prefrontal.symbolic.beliefs import BeliefState
from tests.modules.prefrontal.symbolic.helpers import (
    Scene,
    alfred_skills,
    habitat_skills,
    history,
    planning_input,
    recall,
    ref,
    task,
)

KITCHEN = Scene(
    "Kitchen",
    ["CounterTop", "Cabinet", "Sink", "Fridge", "Microwave", "Cabinet_2"],
    states={
        "Cabinet": {"open": False},
        "Cabinet_2": {"open": False},
        "Fridge": {"open": False},
        "Microwave": {"open": False, "on": False},
        "Faucet": {"on": False},
    },
    attributes={"Cabinet": {"color": "white"}, "Cabinet_2": {"color": "black"}},
    anchors={"Faucet": "Sink"},
)
TASK = task(Condition(object=ref("Mug"), inside=ref("CounterTop")))


def beliefs(perception=None, *, memory=None, steps=(), the_task=TASK, skills=None) -> BeliefState:
    inp = planning_input(the_task, skills or alfred_skills(), perception, memory=memory, steps=steps)
    return BeliefState.from_input(inp)


def test_skill_grammar_and_profile_detection() -> None:
    alfred, habitat = SkillSet(alfred_skills()), SkillSet(habitat_skills())
    assert (alfred.profile, habitat.profile) == ("alfred", "habitat")
    assert alfred.instances("Mug") == ("Mug", "Mug_2", "Mug_3")
    assert habitat.instances("apple") == ("apple", "apple 2") and habitat.type_of("cabinet 2") == "cabinet"
    assert alfred.openable("Cabinet_2") and not alfred.openable("CounterTop") and alfred.pickable("Mug_3")
    assert parse_skill("put down the object in hand") is not None
    assert parse_skill("navigate to the table 1") == parse_skill("navigate to the table 1")
    call = parse_skill("turn on the Faucet")
    assert call is not None and (call.verb, call.arg) == ("on", "Faucet")


def test_perception_is_authoritative_for_what_it_shows() -> None:
    b = beliefs(KITCHEN.perceive(at="CounterTop", objects={"Mug_2": "CounterTop"}, holding="Knife"))
    assert (b.location, b.room, b.holding) == ("CounterTop", "Kitchen", ("Knife",))
    assert b.get("Mug_2").visible and b.get("Mug_2").parent == "CounterTop" and b.get("Mug_2").parent_fresh
    assert b.get("Cabinet").attributes == {"color": "white"} and b.is_open("Cabinet") is False
    assert b.is_open("CounterTop") is True  # cannot be closed at all
    assert b.get("Cabinet").right == "Sink" and b.get("Sink").left == "Cabinet" and b.get("Sink").row_known
    assert b.get("Faucet").parent == "Sink" and b.faucet_of("Sink") == "Faucet"
    assert b.nearby("Mug_2") and not b.nearby("Fridge") and b.place_of("Mug_2") == "CounterTop"


def test_memory_this_episode_is_belief_older_episodes_are_hints() -> None:
    memory = recall(
        beliefs=[
            ("I", "in", "Kitchen", 1.0, 3),
            ("Mug_2", "in", "Cabinet_2", 1.0, 3),  # seen this episode
            ("Mug_3", "in", "Drawer", 0.5, 2),  # an older episode: a hint only
            ("Drawer_2", "left_of", "Drawer_3", 1.0, 1),
        ],
        nodes=[
            ("Mug_2", "Mug", "object", {}, {"color": "red"}, 3),
            ("Mug_3", "Mug", "object", {}, {"color": "blue"}, 2),
            ("Cabinet_2", "Cabinet", "receptacle", {"open": True}, {}, 3),
            ("Drawer", "Drawer", "receptacle", {"open": True}, {}, 2),  # an old episode's door state
            ("Kitchen", "room", "place", {}, {}, 3),
        ],
    )
    b = beliefs(None, memory=memory)
    mug2, mug3 = b.get("Mug_2"), b.get("Mug_3")
    assert (mug2.parent, mug2.parent_fresh, mug2.attributes) == ("Cabinet_2", True, {"color": "red"})
    assert mug3.parent is None and mug3.hints == [("Drawer", 0.5)] and mug3.attributes == {"color": "blue"}
    assert b.get("Cabinet_2").states == {"open": True} and b.get("Drawer").states == {}
    assert b.get("Drawer_2").right == "Drawer_3"


def test_perception_overrides_memory_what_is_not_seen_is_not_there() -> None:
    memory = recall(
        beliefs=[
            ("I", "in", "Kitchen", 1.0, 1),
            ("Mug", "on", "CounterTop", 1.0, 1),
            ("Apple", "in", "Fridge", 1.0, 1),
        ]
    )
    b = beliefs(KITCHEN.perceive(at="CounterTop"), memory=memory)
    assert b.get("Mug").parent is None  # the counter is in view and the mug is not on it
    assert b.get("Apple").parent == "Fridge"  # the fridge is elsewhere: memory still holds
    assert b.get("Apple").states.get("cold") is True  # what is in a fridge is cold


def test_history_tracks_states_the_agent_caused() -> None:
    clean = history(
        "find a Mug", "pick up the Mug", "find a Sink", "put down the object in hand", "turn on the Faucet"
    )
    b = beliefs(KITCHEN.perceive(at="Sink", objects={"Mug": "Sink"}), steps=clean)
    assert b.get("Mug").states.get("clean") is True and b.get("Faucet").states == {
        "on": False
    }  # perceived off
    heat = history(
        "pick up the Apple",
        "find a Microwave",
        "open the Microwave",
        "put down the object in hand",
        "close the Microwave",
        "turn on the Microwave",
        "turn off the Microwave",
        "open the Microwave",
        "pick up the Apple",
    )
    b = beliefs(KITCHEN.perceive(at="Microwave", holding="Apple"), steps=heat)
    assert b.get("Apple").states.get("hot") is True and not b.get("Apple").states.get("cold")
    cool = history("pick up the Apple", "find a Fridge", "open the Fridge", "put down the object in hand")
    b = beliefs(None, steps=cool)
    assert b.get("Apple").states.get("cold") is True and b.get("Apple").parent == "Fridge"
    assert b.facts.put_target == "Fridge" and "Apple" in b.facts.picked


def test_history_learns_from_feedback() -> None:
    steps = history(
        ("find a Mug_3", "Cannot find Mug_3. This object may not exist in this scene. Try to explore other."),
        "find a Mug",
        (
            "pick up the Mug",
            "Mug is not visible because it is in Cabinet. Go there to pick the object instead.",
        ),
        "open the Cabinet",
    )
    b = beliefs(KITCHEN.perceive(at="Cabinet", objects={"Mug": "Cabinet"}), steps=steps)
    assert "Mug_3" in b.facts.missing and b.instances("Mug") == ["Mug", "Mug_2"]
    assert b.facts.hidden_in == {"Mug": "Cabinet"} and b.facts.found.keys() >= {"Mug"}


def test_found_object_behind_a_closed_door_is_believed_inside() -> None:
    b = beliefs(KITCHEN.perceive(at="Cabinet_2"), steps=history("find a Mug_2"))
    assert b.get("Mug_2").parent == "Cabinet_2" and b.place_of("Mug_2") == "Cabinet_2"


def test_habitat_searched_places() -> None:
    room = Scene(
        "kitchen",
        ["counter 1", "refrigerator", "cabinet 1", "table 1"],
        types={"counter 1": "counter", "cabinet 1": "cabinet", "table 1": "table"},
        states={"refrigerator": {"open": False}, "cabinet 1": {"open": True}},
    )
    steps = history("navigate to the counter 1", "navigate to the refrigerator", "navigate to the cabinet 1")
    habitat_task = task(Condition(object=ref("apple"), inside=ref("table")), profile="habitat")
    b = beliefs(room.perceive(at="cabinet 1"), steps=steps, the_task=habitat_task, skills=habitat_skills())
    # The closed refrigerator was only visited, not looked into.
    assert b.searched() == {"counter 1", "cabinet 1"}


def test_planner_modules_never_import_the_simulator() -> None:
    folder = Path(prefrontal.__file__).parent
    # The symbolic planner's whole folder, the critic and the skill language they read (shared with the envs).
    paths = [*sorted((folder / "symbolic").glob("*.py")), folder / "critic.py", Path(skill_language.__file__)]
    assert len(paths) >= 12
    for path in paths:
        name = path.name
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)] + [
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
        ]
        assert not [m for m in imported if m.startswith("envs.household")], name


def test_what_the_perception_does_not_report_comes_from_memory_and_history() -> None:
    seen = KITCHEN.perceive(at="CounterTop")
    # The hand and the place unreported: the history's pick and find say where the agent is and what it holds.
    steps = history("find a Sink", "find a Mug_2", "pick up the Mug_2")
    memory = recall(beliefs=[("Mug_2", "in", "Sink", 1.0, 3)])
    b = beliefs(seen.model_copy(update={"unknown": ("location", "holding")}), memory=memory, steps=steps)
    assert (b.location, b.holding) == ("Sink", ("Mug_2",))
    assert not b.knows("holding") and b.knows("entities") and b.perceived
    # The view unreported: nothing is inferred from what is not in it.
    memory = recall(beliefs=[("Mug_2", "on", "CounterTop", 1.0, 3)])
    assert beliefs(seen, memory=memory).get("Mug_2").parent is None  # in view, not seen: gone
    b = beliefs(seen.model_copy(update={"unknown": ("entities",)}), memory=memory)
    assert b.get("Mug_2").parent == "CounterTop" and not b.perceived
