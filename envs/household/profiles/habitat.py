"""The EB-Habitat action profile: ``navigate to the R``, ``pick up the O``, ``place at the R``,
``open/close the R`` (openable receptacles), with EB-Habitat's feedback style ("Last action executed
successfully and you are holding nothing.").

Objects can only be picked at the receptacle the agent stands at, and only when they are not shut away in a
closed receptacle. The skill list is fixed per scene: receptacles in room order, then objects by name.
"""

from __future__ import annotations

from envs.household.profiles.base import Outcome, Profile, Skill, skill
from envs.household.world import World
from envs.skill_language import invalid

__all__ = ("HabitatProfile",)

SUCCESS = "Last action executed successfully"


def _fail(hint: str) -> Outcome:
    return Outcome(False, invalid(hint))


def _holding(world: World) -> Outcome:
    held = world.held if world.held is not None else "nothing"
    return Outcome(True, f"{SUCCESS} and you are holding {held}.")


class HabitatProfile(Profile):
    name = "habitat"
    # Cooling is this simulator's addition to EB-Habitat's rearrangement (its cool tasks need it).
    guide_notes = (
        "There is no chill action: an object placed in the refrigerator becomes cold and stays cold after "
        "you take it out again."
    )

    def skills(self, world: World) -> tuple[Skill, ...]:
        receptacles = [e.name for room in world.rooms for e in world.room_fixed(room)]
        objects = sorted(n for n, e in world.entities.items() if world.spec(n).pickable)
        skills = [skill("navigate", r) for r in receptacles]
        skills += [skill("pick", o) for o in objects]
        skills += [skill("place", r) for r in receptacles]
        for r in receptacles:
            if world.spec(r).openable:
                skills += [skill("open", r), skill("close", r)]
        return tuple(skills)

    def invalid(self, message: str) -> Outcome:
        return _fail(message)

    def execute(self, world: World, skill: Skill) -> Outcome:
        arg = skill.arg or ""
        if skill.verb == "navigate":
            world.agent_location = arg
            world.agent_room = world.entities[arg].room
            return _holding(world)
        if skill.verb == "pick":
            return self._pick(world, arg)
        if skill.verb == "place":
            return self._place(world, arg)
        if skill.verb in ("open", "close"):
            return self._open_close(world, arg, skill.verb == "open")
        raise ValueError(f"unknown Habitat verb {skill.verb!r}")

    def _pick(self, world: World, obj: str) -> Outcome:
        if world.held is not None:
            return _fail("Robot cannot pick any object when holding something. Place the held object first.")
        if not world.is_visible(obj):
            return _fail(
                "Robot cannot pick any object that is not near the robot. "
                "Navigate to other place to find the object."
            )
        world.move(obj, None)
        world.held = obj
        return _holding(world)

    def _place(self, world: World, recep: str) -> Outcome:
        held = world.held
        if held is None:
            return _fail("Robot cannot place any object when it is not holding anything.")
        if world.agent_location != recep:
            return _fail(
                "Robot cannot place at a receptacle that is not near the robot. Navigate to it first."
            )
        if world.is_closed(recep):
            return _fail(f"The {recep} is closed. Open it before placing anything there.")
        if not world.fits(held, recep):
            return _fail(f"The {held} does not fit at the {recep}.")
        world.move(held, recep)
        world.held = None
        world.apply_effects()
        return _holding(world)

    def _open_close(self, world: World, recep: str, opening: bool) -> Outcome:
        state = "open" if opening else "closed"
        if world.agent_location != recep or world.entities[recep].open == opening:
            return _fail(
                f"Check whether the receptacle is already {state} or the robot is not near the receptacle."
            )
        if opening and recep in world.jammed:
            return _fail(f"The {recep} is jammed and does not open.")
        world.entities[recep].open = opening
        world.apply_effects()
        return Outcome(True, f"{SUCCESS} and now {recep} is {state}.")
