"""Partial observability: what the agent perceives (structured and as text) and what it does not."""

from __future__ import annotations

from envs.base import Observation, PerceivedEntity, Perception, Relation
from envs.household.env import HouseholdEnv
from envs.household.perception import perceive
from tests.envs.household.worlds import alfred_world, make_env, make_task, run_ok


def _observe(env: HouseholdEnv, action: str) -> Observation:
    result = env.step(action)
    assert result.info["last_action_success"], result.info["env_feedback"]
    return result.observation


def _perception(obs: Observation) -> Perception:
    assert obs.perception is not None
    return obs.perception


def _names(obs: Observation) -> set[str]:
    return {e.name for e in _perception(obs).entities}


def _objects(obs: Observation) -> set[str]:
    return {e.name for e in _perception(obs).entities if e.kind == "object"}


def _entity(obs: Observation, name: str) -> PerceivedEntity:
    return next(e for e in _perception(obs).entities if e.name == name)


def _rel(subject: str, relation: str, obj: str) -> Relation:
    return Relation(subject=subject, relation=relation, object=obj)


def test_start_of_episode_sees_the_room_and_nothing_in_closed_places() -> None:
    env = make_env(alfred_world())
    obs = env.reset(make_task("alfred"))
    p = _perception(obs)
    assert (p.room, p.location, p.holding) == ("Kitchen", None, ())
    assert [e.name for e in p.entities] == [
        "CounterTop",
        "Cabinet",
        "Cabinet_2",
        "Sink",
        "Fridge",
        "Microwave",
        "Floor",
        "Faucet",
    ]
    assert obs.text == (
        "You are in the Kitchen. In this room, from left to right: CounterTop (white granite), "
        "Cabinet (brown) [closed], Cabinet_2 (white) [closed], Sink, Fridge [closed], "
        "Microwave [closed], Floor, Faucet. You are holding nothing."
    )


def test_furniture_relations_and_states(alfred: HouseholdEnv) -> None:
    obs = _observe(alfred, "find a Sink")
    p = _perception(obs)
    assert _rel("I", "in", "Kitchen") in p.relations
    assert _rel("I", "at", "Sink") in p.relations
    assert _rel("CounterTop", "left_of", "Cabinet") in p.relations
    assert _rel("Cabinet", "right_of", "CounterTop") in p.relations
    assert _rel("Microwave", "right_of", "Fridge") in p.relations
    assert _rel("Faucet", "at", "Sink") in p.relations
    assert not any(r.subject == "Floor" and r.relation in ("left_of", "right_of") for r in p.relations)
    assert _entity(obs, "Fridge").states == {"open": False}
    assert _entity(obs, "Microwave").states == {"open": False, "on": False}
    assert _entity(obs, "Faucet").states == {"on": False}
    assert _entity(obs, "Sink").states == {}
    assert _entity(obs, "Cabinet_2").attributes == {"color": "white"}
    assert _entity(obs, "Faucet").kind == "appliance"
    assert _entity(obs, "Fridge").kind == "receptacle"


def test_only_objects_at_the_agents_place_are_perceived(alfred: HouseholdEnv) -> None:
    obs = _observe(alfred, "find a CounterTop")
    assert _objects(obs) == {"Apple", "Mug", "Knife", "Pot"}
    assert _rel("Apple", "on", "CounterTop") in _perception(obs).relations
    assert "On CounterTop: Apple (red), Mug (white), Knife, Pot (black)." in obs.text
    obs = _observe(alfred, "find a Sink")
    assert _objects(obs) == set()
    assert obs.text.endswith("You see no objects at Sink. You are holding nothing.")
    assert "Apple" not in obs.text


def test_other_rooms_are_not_perceived(alfred: HouseholdEnv) -> None:
    obs = _observe(alfred, "find a CounterTop")
    assert not {"Sofa", "SideTable", "FloorLamp", "DeskLamp", "Book", "Floor_2"} & _names(obs)
    obs = _observe(alfred, "find a Sofa")
    assert _perception(obs).room == "LivingRoom"
    assert _names(obs) == {"Sofa", "SideTable", "FloorLamp", "Floor_2", "DeskLamp", "Book"}
    assert "CounterTop" not in obs.text
    assert "Apple" not in obs.text


def test_closed_receptacle_hides_its_contents_until_opened(alfred: HouseholdEnv) -> None:
    obs = _observe(alfred, "find a Cabinet_2")
    assert _objects(obs) == set()
    assert "Apple_2" not in obs.text
    assert "You see no objects at Cabinet_2." in obs.text
    obs = _observe(alfred, "open the Cabinet_2")
    assert _objects(obs) == {"Apple_2"}
    assert _rel("Apple_2", "in", "Cabinet_2") in _perception(obs).relations
    assert "In Cabinet_2: Apple_2 (green)." in obs.text
    assert "Cabinet_2 (white) [open]" in obs.text
    obs = _observe(alfred, "close the Cabinet_2")
    assert _objects(obs) == set()
    assert "Apple_2" not in obs.text


def test_finding_a_hidden_object_does_not_reveal_it(alfred: HouseholdEnv) -> None:
    obs = _observe(alfred, "find a Potato")
    assert _perception(obs).location == "Fridge"
    assert "Potato" not in _names(obs)
    assert "Potato" not in obs.text


def test_held_object_is_always_perceived(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Apple")
    obs = _observe(alfred, "pick up the Apple")
    assert _perception(obs).holding == ("Apple",)
    obs = _observe(alfred, "find a FloorLamp")
    p = _perception(obs)
    assert (p.room, p.location, p.holding) == ("LivingRoom", "FloorLamp", ("Apple",))
    assert "Apple" in _objects(obs)
    assert _rel("I", "holding", "Apple") in p.relations
    assert not any(r.subject == "Apple" and r.relation in ("in", "on") for r in p.relations)
    assert obs.text.endswith("You see no objects at FloorLamp. You are holding Apple (red).")


def test_floor_of_the_room_is_seen_from_anywhere_in_it(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Apple", "pick up the Apple", "drop the object in hand")
    obs = _observe(alfred, "find a Fridge")
    assert _objects(obs) == {"Apple"}
    assert "On Floor: Apple (red)." in obs.text
    obs = _observe(alfred, "find a Sofa")
    assert "Apple" not in _objects(obs)


def test_contents_of_a_movable_receptacle_are_seen_with_it(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Knife", "pick up the Knife", "find a Mug")
    obs = _observe(alfred, "put down the object in hand")
    assert _rel("Knife", "in", "Mug") in _perception(obs).relations
    assert "In Mug: Knife." in obs.text


def test_clean_hot_cold_are_not_perceivable_sliced_is(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Knife", "pick up the Knife")
    obs = _observe(alfred, "find a Apple")
    assert _entity(obs, "Apple").states == {"sliced": False}
    assert _entity(obs, "Knife").states == {}
    obs = _observe(alfred, "slice the Apple")
    assert _entity(obs, "Apple").states == {"sliced": True}
    assert "Apple (red) [sliced]" in obs.text
    apple = alfred.world.entities["Apple"]
    apple.clean = apple.hot = True
    alfred.world.entities["Knife"].cold = True
    obs = _observe(alfred, "find a Apple")
    assert _entity(obs, "Apple").states == {"sliced": True}
    assert _entity(obs, "Knife").states == {}
    for word in ("clean", "hot", "cold"):
        assert word not in obs.text


def test_observation_matches_the_world(alfred: HouseholdEnv) -> None:
    run_ok(alfred, "find a Fridge", "open the Fridge")
    obs = _observe(alfred, "find a Fridge")
    assert obs.perception == perceive(alfred.world)
    assert _objects(obs) == {"Potato"}


def test_habitat_perception(habitat: HouseholdEnv) -> None:
    obs = _observe(habitat, "navigate to the counter 1")
    assert _objects(obs) == {"apple"}
    assert obs.text == (
        "You are in the kitchen, at counter 1. In this room, from left to right: counter 1 (white), "
        "counter 2 (black), refrigerator [closed], cabinet 1 [closed], sink, table 1. "
        "On counter 1: apple (red). You are holding nothing."
    )
    obs = _observe(habitat, "navigate to the refrigerator")
    assert _objects(obs) == set()
    assert "apple 2" not in obs.text
    obs = _observe(habitat, "open the refrigerator")
    assert _objects(obs) == {"apple 2"}
    assert "In refrigerator: apple 2 (green)." in obs.text
    obs = _observe(habitat, "navigate to the sofa")
    assert _objects(obs) == {"ball"}
    assert "refrigerator" not in obs.text
