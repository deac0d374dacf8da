"""Reading where earlier episodes took things from out of episodic memory's retrieved trajectories (and
nothing else)."""

from __future__ import annotations

from envs.skill_language import SkillSet
from envs.task import Condition, Ref
from modules.hippocampus.base import StoreResult
from modules.prefrontal.symbolic.episodes import INSTANCE, bring_back, taken

ALFRED = SkillSet(
    (
        "find a Mug",
        "find a Mug_2",
        "find a Cabinet",
        "find a Cabinet_2",
        "find a Sofa",
        "pick up the Mug",
        "pick up the Mug_2",
        "open the Cabinet",
        "open the Cabinet_2",
        "put down the object in hand",
    )
)


def _episodes(*episodes: tuple[float, str, str]) -> StoreResult:
    data = [
        {
            "id": str(i),
            "text": f"Task: {task} | site: h | outcome: success in 4 steps | {steps}",
            "updated": t,
        }
        for i, (t, task, steps) in enumerate(episodes)
    ]
    return StoreResult("episodic", tuple(str(d["text"]) for d in data), data)


USE = (
    2.0,
    "Put the red mug on the sofa.",
    "1. find a Mug_2 -> ok; 2. open the Cabinet_2 -> ok; 3. pick up the Mug_2 -> ok; "
    "4. find a Sofa -> ok; 5. put down the object in hand -> ok",
)


def test_the_place_a_thing_was_taken_from_is_the_receptacle_opened_there() -> None:
    [use] = taken(_episodes(USE), ALFRED)
    assert (use.thing, use.place) == ("Mug_2", "Cabinet_2")


def test_an_open_receptacle_an_older_episode_showed_names_a_later_pick_up() -> None:
    # Episode 1 opened Cabinet, where Mug was, and left it open; episode 2 took Mug without opening anything.
    first = (1.0, "Put the blue mug on the sofa.", "1. find a Mug -> ok; 2. open the Cabinet -> ok")
    second = (3.0, "Put the green mug on the sofa.", "1. find a Mug -> ok; 2. pick up the Mug -> ok")
    uses = taken(_episodes(second, first), ALFRED)  # retrieved in any order: read oldest first
    assert [(u.thing, u.place) for u in uses] == [("Mug", "Cabinet")]
    # A failed step shows nothing, and without episodic memory nothing is known.
    failed = (1.0, "x", "1. find a Mug -> ok; 2. open the Cabinet -> Cabinet is locked")
    assert taken(_episodes(second, failed), ALFRED) == []
    assert taken(None, ALFRED) == []


def test_put_back_names_the_thing_and_its_place() -> None:
    back = Condition(object=Ref(type="Mug", attributes={"color": "red"}, text="the red mug"), back=True)
    types = {"Mug_2": "Mug", "Cabinet_2": "Cabinet"}
    uses = taken(_episodes(USE), ALFRED)
    # The beliefs do not know which mug is red: the episode's instruction tells ("Put the red mug ...").
    resolved = bring_back(back, (), uses, types)
    assert resolved is not None and not resolved.back
    assert resolved.object.attributes == {INSTANCE: "Mug_2"}
    assert resolved.inside == Ref(type="Cabinet", attributes={INSTANCE: "Cabinet_2"}, text="Cabinet_2")
    # The beliefs know the red mug is another one: this episode says nothing about it.
    assert bring_back(back, ("Mug",), uses, types) is None
