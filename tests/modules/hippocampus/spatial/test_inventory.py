"""The agent's hand is an inventory in spatial memory: ``I holding X`` for each held thing, several at once;
a perception's inventory is the whole of what is held (what it leaves out is put down), and a thing is
still held by one holder at most. The limit is the environment's (it used to be one, by the graph's rules)."""

from __future__ import annotations

from pathlib import Path

from envs.base import Perception, Relation
from modules.hippocampus.spatial import SpatialConfig, SpatialMemory
from modules.hippocampus.spatial.extract import observe_perception
from tests.modules.hippocampus.spatial.helpers import KITCHEN, Driver, entity, make_memory, perception


def _holding(seen: Perception, *held: str) -> Perception:
    relations = [r for r in seen.relations if r.relation != "holding"]
    relations += [Relation(subject="I", relation="holding", object=name) for name in held]
    entities = (*seen.entities, *(entity(name, "object") for name in held))
    return seen.model_copy(update={"holding": held, "relations": tuple(relations), "entities": entities})


def _held(memory: SpatialMemory) -> set[str]:
    graph = memory.graph("house")
    return {key[2] for key, _ in graph.out_edges("I") if key[1] == "holding"}


def test_several_held_things_are_all_remembered_and_what_is_put_away_is_not(tmp_path: Path) -> None:
    memory = make_memory(tmp_path)
    try:
        driver = Driver(memory)
        here = perception("Kitchen", furniture=KITCHEN, place="CounterTop")
        driver.step(_holding(here, "Mug_1", "Spoon_2"), action="pick up the Spoon_2")
        assert _held(memory) == {"Mug_1", "Spoon_2"}
        assert memory.graph("house").violations() == []
        driver.step(_holding(here, "Spoon_2"), action="put down the object in hand")
        assert _held(memory) == {"Spoon_2"}
        driver.step(_holding(here), action="put down the object in hand")
        assert _held(memory) == set()
    finally:
        memory.close()


def test_one_held_thing_is_read_as_before() -> None:
    seen = perception("Kitchen", furniture=KITCHEN, place="Sink", holding="Cup")
    obs = observe_perception(seen, SpatialConfig())
    assert [str(f) for f in obs.facts if f.relation == "holding"] == ["I holding Cup", "I holding Cup"]
    empty = observe_perception(perception("Kitchen", furniture=KITCHEN, place="Sink"), SpatialConfig())
    assert [(c.group, c.reason, c.keep) for c in empty.clears] == [("holding", "hand seen empty", ())]
