"""What episodic memory's retrieved trajectories tell the symbolic planner: where an earlier episode took a
thing from ("put the red mug back where it was before you used it"). Only the retrieved episodes are read
(never the simulator), so without episodic memory the agent cannot know.

An episode's trajectory names a place when the agent went to it (``navigate to the cabinet 5``, ``find a
Cabinet_2``) or opened it (``open the Cabinet_2``); ALFRED's ``find a Mug_3`` walks to a mug without naming
its place, so a pick-up after it counts only when a step at the same spot named the place (opening the
receptacle the mug was in, as taking it out of a closed one needs). The episode's instruction tells which
thing it used ("Put the red mug on the sofa" and ``pick up the mug 3``: mug 3 is the red mug), which the agent
may not otherwise know.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from envs.skill_language import SkillSet, parse_skill
from envs.task import Condition, Ref
from modules.hippocampus.base import StoreResult
from modules.prefrontal.recall import parse_trajectory

__all__ = ("INSTANCE", "Taken", "bring_back", "heading_back", "taken")

#: A planner-internal description attribute: the one instance the agent remembers (see ``resolve.match``).
INSTANCE = "instance"
_MOVES = ("find", "navigate", "open")


@dataclass(frozen=True)
class Taken:
    """One earlier episode's use of a thing: its instruction and where the thing was picked up."""

    task: str
    thing: str
    place: str


def taken(result: StoreResult | None, skills: SkillSet, site: str | None = None) -> list[Taken]:
    """Where the retrieved episodes took things from: each episode's first pick-up of a thing, most recent
    episode first. Episodes are read oldest first, so a place one of them showed ("find a Mug_3", then
    "open the Cabinet_2": the mug was in Cabinet_2) names the place of a later pick-up that did not name it
    (the cabinet was still open). ``site``: only episodes in this house count."""
    if result is None:
        return []
    items = (
        [d for d in result.data if isinstance(d, dict)]
        if isinstance(result.data, list)
        else [{"text": line} for line in result.lines]
    )
    if site is not None:  # another house's Mug_3 is another mug
        items = [d for d in items if d.get("site") in (None, site)]
    items.sort(key=lambda d: float(d.get("updated", d.get("created", 0.0)) or 0.0))
    located: dict[str, str] = {}  # thing -> the place the trajectories last showed it at
    found: list[Taken] = []
    for item in items:
        trajectory = parse_trajectory(str(item.get("text", "")))
        if trajectory is None:
            continue
        place: str | None = None
        near: str | None = None  # the thing the agent went to, at a place not named yet
        held: str | None = None
        mine: dict[str, str] = {}
        for action, failure in trajectory.steps:
            call = parse_skill(action)
            if call is None or failure is not None:
                continue
            if call.verb in _MOVES and call.arg is not None:
                if skills.pickable(call.arg):  # went to a thing: where it was last shown, if anywhere
                    place, near = located.get(call.arg), call.arg
                else:  # went to (or opened) a receptacle: the agent is there
                    if near is not None and call.verb == "open":
                        located[near] = call.arg
                    place, near = call.arg, (near if call.verb == "open" else None)
            elif call.verb == "pick" and call.arg is not None:
                if place is not None:
                    mine.setdefault(call.arg, place)
                held, near = call.arg, None
            elif call.verb in ("put", "place") and held is not None and place is not None:
                located[held] = place
                held = None
        found = [Taken(trajectory.task, thing, where) for thing, where in mine.items()] + found
    return found


def heading_back(history: Iterable[tuple[str, bool]], skills: SkillSet, task: str) -> list[Taken]:
    """This episode's own choice: after its last pick-up, the receptacle the agent went to (it went there
    because memory said the thing came from there; the episodes retrieved now, for other queries, may no
    longer say so)."""
    thing: str | None = None
    place: str | None = None
    for action, success in history:
        call = parse_skill(action)
        if call is None or not success:
            continue
        if call.verb == "pick":
            thing, place = call.arg, None
        elif call.verb in ("find", "navigate") and call.arg is not None and not skills.pickable(call.arg):
            place = call.arg
        elif call.verb in ("put", "place", "drop"):
            thing = None
    return [Taken(task, thing, place)] if thing is not None and place is not None else []


def _mentions(text: str, ref: Ref) -> bool:
    words = [*ref.attributes.values(), ref.type]
    return all(re.search(rf"(?<!\w){re.escape(w)}", text, re.IGNORECASE) for w in words)


def bring_back(
    condition: Condition, known: tuple[str, ...], uses: list[Taken], type_of: dict[str, str]
) -> Condition | None:
    """``condition`` (a ``back`` one) with the thing and the place it was taken from named, or ``None`` when
    the retrieved episodes do not tell. ``known``: instances the beliefs say fit the description;
    ``type_of``: instance -> type for the skill list's names."""
    ref = condition.object
    for use in uses:
        mine = use.thing in known or (not known and _mentions(use.task, ref))
        if not mine or type_of.get(use.thing) != ref.type:
            continue
        thing = Ref(type=ref.type, attributes={INSTANCE: use.thing}, text=use.thing)
        place = Ref(type=type_of.get(use.place, use.place), attributes={INSTANCE: use.place}, text=use.place)
        return condition.model_copy(update={"object": thing, "inside": place, "back": False})
    return None
