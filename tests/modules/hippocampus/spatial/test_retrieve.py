"""Retrieval: seeds and their relations first, short lines, the token budget, structured data."""

from __future__ import annotations

from modules.hippocampus.spatial import SpatialMemory, SpatialRecall
from modules.hippocampus.spatial.retrieve import estimate_tokens
from tests.modules.hippocampus.spatial.helpers import KITCHEN, Driver, make_memory, perception


def stocked(driver: Driver) -> None:
    driver.step(
        perception(
            "Kitchen",
            furniture=KITCHEN,
            place="Fridge",
            states={"Fridge": {"open": True}},
            objects={"Milk": ("in", "Fridge"), "Egg": ("in", "Fridge")},
        )
    )
    driver.step(
        perception(
            "Kitchen",
            furniture=KITCHEN,
            place="Cabinet",
            states={"Cabinet": {"open": True}},
            objects={"Mug_2": ("in", "Cabinet")},
        )
    )
    driver.step(perception("Kitchen", furniture=KITCHEN, place="Sink"), action="find a Sink")


def test_lines_name_where_things_are(memory: SpatialMemory, driver: Driver) -> None:
    stocked(driver)
    result = memory.retrieve(["mug"])
    assert result.store == "spatial"
    assert result.lines[0] == "Mug_2 in Cabinet (seen ep1/step1)"
    assert "Cabinet: open" in result.lines
    assert any(line.startswith("I at Sink") for line in result.lines)
    data = result.data
    assert isinstance(data, SpatialRecall) and data.site == "house" and data.seeds[0] == "Mug_2"
    mug = next(b for b in data.beliefs if b.subject == "Mug_2")
    assert (mug.relation, mug.object, mug.confidence, mug.provenance, mug.hop) == (
        "in",
        "Cabinet",
        1.0,
        "observed",
        0,
    )
    assert mug.last_seen.step == 1 and mug.last_seen.episode_id == "ep-1"
    assert any(s.node == "Cabinet" and s.states == {"open": True} for s in data.states)


def test_budget_cuts_lines_but_not_data(tmp_path: object) -> None:
    from pathlib import Path

    memory = make_memory(Path(str(tmp_path)), token_budget=40)
    try:
        stocked(Driver(memory))
        result = memory.retrieve(["fridge", "milk", "egg", "mug"])
        assert sum(estimate_tokens(line) for line in result.lines) <= 40
        assert 0 < len(result.lines) < len(result.data.beliefs)
        full = make_memory(Path(str(tmp_path)) / "other", token_budget=10_000)
        stocked(Driver(full))
        assert result.lines == full.retrieve(["fridge", "milk", "egg", "mug"]).lines[: len(result.lines)]
        full.close()
    finally:
        memory.close()


def test_retrieval_before_any_episode_is_empty(memory: SpatialMemory) -> None:
    result = memory.retrieve(["mug"])
    assert result.lines == () and isinstance(result.data, SpatialRecall) and result.data.beliefs == ()


def test_weakened_and_inferred_beliefs_say_so(memory: SpatialMemory, driver: Driver) -> None:
    stocked(driver)
    driver.step(
        perception(
            "Kitchen",
            furniture=KITCHEN,
            place="Fridge",
            states={"Fridge": {"open": True}},
            objects={"Egg": ("in", "Fridge")},
        ),
        action="find a Fridge",
    )
    driver.step(None, action="pick up the Egg")
    lines = memory.retrieve(["milk", "egg"]).lines
    assert "Milk in Fridge (seen ep1/step0, conf 0.50)" in lines
    assert "I holding Egg (seen ep1/step4, conf 0.80, inferred)" in lines
