"""Contradictions over time, resolved the way a robot needs: newest wins, old kept as history, nothing
unrelated touched."""

from __future__ import annotations

from modules.hippocampus.base import StepSummary
from modules.hippocampus.spatial import SpatialMemory
from tests.modules.hippocampus.spatial.helpers import KITCHEN, Driver, perception


def edges_of(memory: SpatialMemory, subject: str) -> set[tuple[str, str]]:
    return {(r, o) for (s, r, o), _ in memory.graph().edges() if s == subject}


def test_cup_moved_from_table_to_sink(memory: SpatialMemory, driver: Driver) -> None:
    driver.step(
        perception("Kitchen", furniture=KITCHEN, place="DiningTable", objects={"Cup": ("on", "DiningTable")})
    )
    assert ("on", "DiningTable") in edges_of(memory, "Cup")
    # Someone moved it; the robot later sees it in the sink.
    stats = driver.step(
        perception("Kitchen", furniture=KITCHEN, place="Sink", objects={"Cup": ("in", "Sink")})
    )
    assert edges_of(memory, "Cup") == {("in", "Sink")}
    assert stats.details["superseded"] == 2  # the cup's place, and the agent's own place
    old = [h for h in memory.history("Cup") if h.kind == "edge" and h.relation == "on"]
    assert len(old) == 1
    assert (old[0].subject, old[0].object) == ("Cup", "DiningTable")
    assert "superseded by: Cup in Sink" in old[0].reason
    assert old[0].at.step == 1 and old[0].data["last_seen"]["step"] == 0
    assert memory.graph().violations() == []


def test_unrelated_edges_are_untouched(memory: SpatialMemory, driver: Driver) -> None:
    driver.step(
        perception(
            "Kitchen",
            furniture=KITCHEN,
            place="CounterTop",
            objects={
                "Cup": ("on", "CounterTop"),
                "Fork": ("on", "CounterTop"),
                "Plate": ("on", "CounterTop"),
            },
        )
    )
    before = {k: v for k, v in memory.graph().edges() if k[0] in ("Fork", "Plate") or k[2] == "CounterTop"}
    # The cup (only) is picked up and put in the sink; the fork and plate stay where they are, unseen.
    driver.step(
        perception(
            "Kitchen",
            furniture=KITCHEN,
            place="CounterTop",
            holding="Cup",
            objects={"Fork": ("on", "CounterTop"), "Plate": ("on", "CounterTop")},
        ),
        action="pick up the Cup",
    )
    driver.step(perception("Kitchen", furniture=KITCHEN, place="Sink", holding="Cup"), action="find a Sink")
    driver.step(
        perception("Kitchen", furniture=KITCHEN, place="Sink", objects={"Cup": ("in", "Sink")}),
        action="put down the object in hand",
    )
    graph = memory.graph()
    for key in ("Fork", "on", "CounterTop"), ("Plate", "on", "CounterTop"):
        edge = graph.edge(*key)
        assert edge is not None and edge.confidence == 1.0
        assert edge.first_seen == before[key].first_seen
    assert [h for h in memory.history("Fork")] == []
    assert [h for h in memory.history("Plate")] == []
    # Furniture relations of the room were never superseded either.
    assert all(h.subject in ("Cup", "I") for h in memory.history("CounterTop"))


def test_pick_means_holding_and_no_container(memory: SpatialMemory, driver: Driver) -> None:
    driver.step(
        perception("Kitchen", furniture=KITCHEN, place="DiningTable", objects={"Egg": ("on", "DiningTable")})
    )
    driver.step(
        perception("Kitchen", furniture=KITCHEN, place="DiningTable", holding="Egg"), action="pick up the Egg"
    )
    assert edges_of(memory, "Egg") == set()
    assert ("holding", "Egg") in edges_of(memory, "I")
    reasons = [h.reason for h in memory.history("Egg")]
    assert any(r.startswith("picked up") for r in reasons)
    driver.step(perception("Kitchen", furniture=KITCHEN, place="Sink", holding="Egg"), action="find a Sink")
    driver.step(
        perception("Kitchen", furniture=KITCHEN, place="Sink", objects={"Egg": ("in", "Sink")}),
        action="put down the object in hand",
    )
    assert edges_of(memory, "Egg") == {("in", "Sink")}
    assert not any(r == "holding" for r, _ in edges_of(memory, "I"))
    assert memory.graph().violations() == []


def test_pick_without_perception_is_inferred(memory: SpatialMemory, driver: Driver) -> None:
    driver.step(
        perception("Kitchen", furniture=KITCHEN, place="DiningTable", objects={"Egg": ("on", "DiningTable")})
    )
    # A pixel-only step: the action alone says what happened.
    driver.step(None, action="pick up the Egg")
    graph = memory.graph()
    held = graph.edge("I", "holding", "Egg")
    assert held is not None and held.provenance == "inferred"
    assert edges_of(memory, "Egg") == set()
    driver.step(None, action="find a Sink")
    assert graph.edge("I", "at", "Sink") is not None
    driver.step(None, action="put down the object in hand")
    put = graph.edge("Egg", "in", "Sink")
    assert put is not None and put.provenance == "inferred" and put.confidence < 1.0
    assert graph.edge("I", "holding", "Egg") is None
    # A failed action implies nothing.
    driver.step(None, action="pick up the Egg", success=False)
    assert graph.edge("I", "holding", "Egg") is None


def test_open_closed_flips_keep_one_state_with_history(memory: SpatialMemory, driver: Driver) -> None:
    driver.step(perception("Kitchen", furniture=KITCHEN, place="Fridge", states={"Fridge": {"open": False}}))
    driver.step(
        perception("Kitchen", furniture=KITCHEN, place="Fridge", states={"Fridge": {"open": True}}),
        action="open the Fridge",
    )
    driver.step(
        perception("Kitchen", furniture=KITCHEN, place="Fridge", states={"Fridge": {"open": False}}),
        action="close the Fridge",
    )
    node = memory.graph().node("Fridge")
    assert node.states["open"].value is False and node.states["open"].since.step == 2
    flips = [h for h in memory.history("Fridge") if h.kind == "state"]
    assert [(h.relation, h.object, h.at.step) for h in flips] == [("open", "False", 1), ("open", "True", 2)]
    # States are attributes, never value nodes that would become hubs.
    assert "open" not in memory.graph() and "closed" not in memory.graph()
    assert "Fridge: closed" in memory.retrieve(["fridge"]).lines


def test_negative_evidence_weakens_then_retires(memory: SpatialMemory, driver: Driver) -> None:
    driver.step(
        perception(
            "Kitchen",
            furniture=KITCHEN,
            place="CounterTop",
            objects={"Apple": ("on", "CounterTop"), "Knife": ("on", "CounterTop")},
        )
    )
    driver.step(perception("Kitchen", furniture=KITCHEN, place="Sink"), action="find a Sink")
    # Back at the counter: the knife is there, the apple is not (someone took it).
    stats = driver.step(
        perception("Kitchen", furniture=KITCHEN, place="CounterTop", objects={"Knife": ("on", "CounterTop")}),
        action="find a CounterTop",
    )
    apple = memory.graph().edge("Apple", "on", "CounterTop")
    assert apple is not None and apple.confidence == 0.5 and stats.details["weakened"] == 1
    assert "Apple on CounterTop (seen ep1/step0, conf 0.50)" in memory.retrieve(["apple"]).lines
    # Standing there longer is the same look: once per visit.
    driver.step(
        perception("Kitchen", furniture=KITCHEN, place="CounterTop", objects={"Knife": ("on", "CounterTop")}),
        action="close the Drawer",
        success=False,
    )
    assert memory.graph().edge("Apple", "on", "CounterTop").confidence == 0.5  # type: ignore[union-attr]
    # A second visit that still does not see it retires the belief to history.
    driver.step(perception("Kitchen", furniture=KITCHEN, place="Sink"), action="find a Sink")
    stats = driver.step(
        perception("Kitchen", furniture=KITCHEN, place="CounterTop", objects={"Knife": ("on", "CounterTop")}),
        action="find a CounterTop",
    )
    assert memory.graph().edge("Apple", "on", "CounterTop") is None
    assert stats.details["retired"] == 1
    reasons = [h.reason for h in memory.history("Apple")]
    assert "not seen at CounterTop" in reasons
    assert "isolated" in reasons  # the apple vertex had nothing left and was pruned, into history too
    knife = memory.graph().edge("Knife", "on", "CounterTop")
    assert knife is not None and knife.confidence == 1.0


def test_closed_container_gives_no_negative_evidence(memory: SpatialMemory, driver: Driver) -> None:
    driver.step(
        perception(
            "Kitchen",
            furniture=KITCHEN,
            place="Fridge",
            states={"Fridge": {"open": True}},
            objects={"Milk": ("in", "Fridge")},
        )
    )
    for _ in range(3):
        driver.step(
            perception("Kitchen", furniture=KITCHEN, place="Sink", states={"Fridge": {"open": False}})
        )
        driver.step(
            perception("Kitchen", furniture=KITCHEN, place="Fridge", states={"Fridge": {"open": False}})
        )
    milk = memory.graph().edge("Milk", "in", "Fridge")
    assert milk is not None and milk.confidence == 1.0


def test_reseeing_restores_confidence(memory: SpatialMemory, driver: Driver) -> None:
    driver.step(perception("Kitchen", furniture=KITCHEN, place="Sink", objects={"Cup": ("in", "Sink")}))
    driver.step(perception("Kitchen", furniture=KITCHEN, place="Fridge"))
    driver.step(perception("Kitchen", furniture=KITCHEN, place="Sink"))
    assert memory.graph().edge("Cup", "in", "Sink").confidence == 0.5  # type: ignore[union-attr]
    driver.step(perception("Kitchen", furniture=KITCHEN, place="Sink", objects={"Cup": ("in", "Sink")}))
    edge = memory.graph().edge("Cup", "in", "Sink")
    assert edge is not None and edge.confidence == 1.0 and edge.weakened_at is None


def test_agent_moves_between_rooms_and_places(memory: SpatialMemory, driver: Driver) -> None:
    driver.step(perception("Kitchen", furniture=KITCHEN))
    driver.step(perception("Kitchen", furniture=KITCHEN, place="Sink"), action="find a Sink")
    driver.step(perception("LivingRoom", furniture=("Sofa", "TVStand"), place="Sofa"), action="find a Sofa")
    assert edges_of(memory, "I") == {("in", "LivingRoom"), ("at", "Sofa")}
    # Furniture stays in its own room: seeing the living room says nothing against the kitchen.
    assert ("in", "Kitchen") in edges_of(memory, "Sink")
    history = [(h.relation, h.object) for h in memory.history("I")]
    assert ("in", "Kitchen") in history and ("at", "Sink") in history
    assert memory.graph().violations() == []


def test_same_step_perception_beats_action_inference(memory: SpatialMemory, driver: Driver) -> None:
    driver.step(
        perception(
            "Kitchen",
            furniture=KITCHEN,
            place="CounterTop",
            objects={"Mug_2": ("on", "CounterTop"), "Mug_3": ("on", "CounterTop")},
        )
    )
    # The action names a type; perception says which instance is actually in hand.
    driver.step(
        perception(
            "Kitchen",
            furniture=KITCHEN,
            place="CounterTop",
            holding="Mug_3",
            objects={"Mug_2": ("on", "CounterTop")},
        ),
        action="pick up the Mug",
    )
    graph = memory.graph()
    held = graph.edge("I", "holding", "Mug_3")
    assert held is not None and held.provenance == "observed"
    assert graph.edge("I", "holding", "Mug") is None and "Mug" not in graph


def test_a_late_older_observation_does_not_override_a_newer_one(
    memory: SpatialMemory, driver: Driver
) -> None:
    driver.step(perception("Kitchen", furniture=KITCHEN, place="DiningTable"))
    driver.step_no = 5
    driver.step(perception("Kitchen", furniture=KITCHEN, place="Sink", objects={"Cup": ("in", "Sink")}))
    # A summary of step 3 arrives late (a slow summarizer): it saw the cup on the table back then.
    late = StepSummary(
        driver.context,
        3,
        "late",
        perception=perception(
            "Kitchen", furniture=KITCHEN, place="DiningTable", objects={"Cup": ("on", "DiningTable")}
        ),
    )
    stats = memory.update(late)
    assert edges_of(memory, "Cup") == {("in", "Sink")}
    assert stats.details["rejected"] >= 1
    rejected = [h for h in memory.history("Cup") if h.relation == "on"]
    assert rejected and rejected[0].reason.startswith("older than the current belief")
