"""The EB-ALFRED action profile: ``find a X``, ``pick up the X``, ``put down the object in hand``, ``drop the
object in hand``, ``open/close the X``, ``turn on/off the X``, ``slice the X``, with EB-ALFRED's feedback.

Semantics (written from EmbodiedBench's documented interface, not its code):

* ``find`` goes to the place of the named instance (a bare type names the first instance) and remembers
  the implicit receptacle for ``put down``: the found receptacle, or the found object's container.
* ``put down`` puts the held object into the last found or opened receptacle; with none nearby it drops
  the object; after three failed puts on one receptacle the object is dropped.
* Other skills act on something nearby; a bare type also matches a nearby instance of that type.
* ``slice`` needs a knife in hand. Clean = in a sink with its faucet on; heat = in a microwave that is on;
  cool = in a fridge.
"""

from __future__ import annotations

from envs.household.profiles.base import Outcome, Profile, Skill, skill
from envs.household.world import World
from envs.skill_language import invalid

__all__ = ("AlfredProfile",)

OK = Outcome(True, "Last action executed successfully.")
KNIVES = ("Knife", "ButterKnife")
PUT_FAILURES_BEFORE_DROP = 3


def _fail(message: str) -> Outcome:
    return Outcome(False, invalid(message))


class AlfredProfile(Profile):
    name = "alfred"

    def skills(self, world: World) -> tuple[Skill, ...]:
        catalog = world.catalog
        types = list(catalog.types.values())
        skills = [skill("find", t.name) for t in types]
        skills += [skill("pick", t.name) for t in types if t.pickable]
        skills += [skill("put"), skill("drop")]
        for t in types:
            if t.openable:
                skills += [
                    skill("open", t.name),
                    skill("close", t.name),
                ]
        for t in types:
            if t.toggleable:
                skills += [
                    skill("on", t.name),
                    skill("off", t.name),
                ]
        skills += [skill("slice", t.name) for t in types if t.sliceable]
        # Scene-specific actions for repeated instances are appended, as EB-ALFRED does after reset.
        for t in types:
            for name in world.instances(t.name)[1:]:
                skills.append(skill("find", name))
                if t.pickable:
                    skills.append(skill("pick", name))
                if t.openable:
                    skills += [
                        skill("open", name),
                        skill("close", name),
                    ]
                if t.toggleable:
                    skills += [
                        skill("on", name),
                        skill("off", name),
                    ]
                if t.sliceable:
                    skills.append(skill("slice", name))
        return tuple(skills)

    def invalid(self, message: str) -> Outcome:
        return _fail(message)

    def on_reset(self, world: World) -> None:
        world.put_target = None
        world.failed_puts = 0

    def execute(self, world: World, skill: Skill) -> Outcome:
        arg = skill.arg or ""
        if skill.verb == "find":
            return self._find(world, arg)
        if skill.verb == "pick":
            return self._pick(world, arg)
        if skill.verb == "put":
            return self._put(world)
        if skill.verb == "drop":
            return self._drop(world)
        if skill.verb in ("open", "close"):
            return self._open_close(world, arg, skill.verb == "open")
        if skill.verb in ("on", "off"):
            return self._toggle(world, arg, skill.verb == "on")
        if skill.verb == "slice":
            return self._slice(world, arg)
        raise ValueError(f"unknown ALFRED verb {skill.verb!r}")

    # ---- helpers ---------------------------------------------------------------------------------------
    @staticmethod
    def _candidates(world: World, arg: str) -> list[str]:
        names = [arg] if arg in world.entities else []
        if arg in world.catalog.types:
            names += [n for n in world.instances(arg) if n != arg]
        return names

    def _nearby(self, world: World, arg: str) -> str | None:
        return next((n for n in self._candidates(world, arg) if world.nearby(n)), None)

    # ---- skills ----------------------------------------------------------------------------------------
    def _find(self, world: World, arg: str) -> Outcome:
        if arg not in world.entities:
            return _fail(
                f"Cannot find {arg}. This object may not exist in this scene. "
                "Try to explore other instances instead."
            )
        if world.in_hand(arg):
            return OK  # it is already in (or inside what is in) the robot's hand
        place = world.place_of(arg)
        assert place is not None
        world.agent_location = place
        world.agent_room = world.entities[place].room
        entity, spec = world.entities[arg], world.spec(arg)
        if spec.is_container:
            world.put_target = arg
        elif entity.anchor is not None:
            world.put_target = entity.anchor
        elif spec.kind == "object":
            world.put_target = entity.parent
        else:
            world.put_target = None
        world.failed_puts = 0
        return OK

    def _pick(self, world: World, arg: str) -> Outcome:
        if world.held is not None:
            return _fail(f"Robot is currently holding {world.held}")
        pickable = [n for n in self._candidates(world, arg) if world.spec(n).pickable]
        target = next((n for n in pickable if world.nearby(n)), None)
        if target is None:
            for name in pickable:
                place = world.place_of(name)
                hidden = world.hidden_by(name)
                if place == world.agent_location and hidden is not None:
                    return _fail(
                        f"{name} is not visible because it is in {hidden}. "
                        "Go there to pick the object instead."
                    )
            return _fail(f"Cannot find {arg} to pick up. Find the object before picking up it")
        old_parent = world.entities[target].parent
        if world.put_target is not None and (
            world.put_target == target or world.contains_transitively(target, world.put_target)
        ):
            world.put_target = old_parent
        world.move(target, None)
        world.held = target
        return OK

    def _put(self, world: World) -> Outcome:
        held = world.held
        if held is None:
            return _fail("Robot is not holding any object")
        target = world.put_target
        if target is None or target not in world.entities or not world.nearby(target) or target == held:
            return self._drop(world)
        if world.is_closed(target) or not world.fits(held, target):
            world.failed_puts += 1
            if world.failed_puts >= PUT_FAILURES_BEFORE_DROP:
                self._drop(world)
                world.failed_puts = 0
            return _fail(
                f"Putting the object on {target} failed. First check the receptacle is open or not. "
                "Also try other instances of the receptacle"
            )
        world.move(held, target)
        world.held = None
        world.failed_puts = 0
        world.apply_effects()
        return OK

    def _drop(self, world: World) -> Outcome:
        held = world.held
        if held is None:
            return _fail("Robot is not holding any object")
        floor = world.floor_of(world.agent_room)
        if floor is None:
            return _fail("There is no floor to drop the object on")
        world.move(held, floor)
        world.held = None
        return OK

    def _open_close(self, world: World, arg: str, opening: bool) -> Outcome:
        verb = "Open" if opening else "Close"
        target = next(
            (n for n in self._candidates(world, arg) if world.spec(n).openable and world.nearby(n)), None
        )
        if target is None:
            return _fail(f"{verb} action failed. {arg} is not nearby. Find it first")
        if world.entities[target].open == opening:
            return _fail(f"{verb} action failed. The {target} is already {'open' if opening else 'closed'}")
        if opening and target in world.jammed:
            return _fail(f"Open action failed. The {target} is jammed and does not open")
        world.entities[target].open = opening
        if opening:
            world.put_target = target
            world.failed_puts = 0
        world.apply_effects()
        return OK

    def _toggle(self, world: World, arg: str, turning_on: bool) -> Outcome:
        verb = "Turn on" if turning_on else "Turn off"
        target = next(
            (n for n in self._candidates(world, arg) if world.spec(n).toggleable and world.nearby(n)), None
        )
        if target is None:
            return _fail(f"{verb} action failed. {arg} is not nearby. Find it first")
        if world.entities[target].on == turning_on:
            return _fail(f"{verb} action failed. The {target} is already {'on' if turning_on else 'off'}")
        world.entities[target].on = turning_on
        world.apply_effects()
        return OK

    def _slice(self, world: World, arg: str) -> Outcome:
        target = next(
            (n for n in self._candidates(world, arg) if world.spec(n).sliceable and world.nearby(n)), None
        )
        if target is None:
            return _fail(f"Slice action failed. {arg} is not nearby. Find it first")
        if world.held is None or world.entities[world.held].type not in KNIVES:
            return _fail("Slice action failed. Robot must hold a knife to slice")
        if target == world.held:
            return _fail("Slice action failed. Put the object down before slicing it")
        if world.entities[target].sliced:
            return _fail(f"Slice action failed. The {target} is already sliced")
        world.entities[target].sliced = True
        return OK
