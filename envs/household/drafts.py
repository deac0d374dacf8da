"""Drafting one task: choose objects and receptacles in a world, describe them in a subset's style, and
state the goal conditions. Drafts are proven solvable by the oracle in ``generate.py``."""

from __future__ import annotations

import random
from dataclasses import dataclass

from envs.household.goals import bind
from envs.household.wording import describe_by_attributes, describe_by_relation, noun, plain, plural, render
from envs.household.world import World
from envs.task import Condition, Ref

__all__ = ("CLEAN", "COOL", "HEAT", "LOOK", "MOVABLE", "SIMPLE", "TWO", "Draft", "Drafter")

SIMPLE, LOOK, CLEAN = "pick_and_place_simple", "look_at_obj_in_light", "pick_clean_then_place_in_recep"
HEAT, COOL = "pick_heat_then_place_in_recep", "pick_cool_then_place_in_recep"
TWO, MOVABLE = "pick_two_obj_and_place", "pick_and_place_with_movable_recep"

EFFECT_TYPES = {"Sink", "Microwave", "Fridge", "GarbageCan", "refrigerator", "sink"}
LAMPS = ("DeskLamp", "FloorLamp")


@dataclass(frozen=True)
class Draft:
    task_type: str
    goal: tuple[Condition, ...]
    instruction: str


class Drafter:
    """Drafts one task of a kind in one world, with referents in a subset's style."""

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng
        self.profile = world.catalog.profile

    # ---- referents -------------------------------------------------------------------------------------
    def _plain(self, name: str, role: str, style: str) -> Ref:
        type_name = self.world.entities[name].type
        if role == "object" and style == "common_sense":
            return Ref(type=type_name, text=self.world.catalog[type_name].common_sense)
        return plain(type_name, definite=role == "target" and len(self.world.instances(type_name)) == 1)

    def _special(self, name: str, style: str, need: int) -> Ref | None:
        if style == "spatial":
            return describe_by_relation(self.world, name)
        return describe_by_attributes(self.world, [name], need=need)

    def refs(self, roles: list[tuple[str, str, int]], style: str) -> list[Ref] | None:
        """(entity, role, how many instances the description must fit) -> descriptions. Spatial and visual
        styles give one role (chosen at random among those that allow it) a relational/attribute referent."""
        refs = [self._plain(name, role, style) for name, role, _ in roles]
        if style not in ("spatial", "visual_appearance"):
            return refs
        order = list(range(len(roles)))
        self.rng.shuffle(order)
        for i in order:
            name, role, need = roles[i]
            if role == "lamp":
                continue
            special = self._special(name, style, need)
            if special is not None:
                refs[i] = special
                return refs
        return None

    # ---- candidates ------------------------------------------------------------------------------------
    def objects(self) -> list[str]:
        names = sorted(n for n in self.world.entities if self.world.spec(n).pickable)
        self.rng.shuffle(names)
        return names

    def targets(self, obj: str, kind: str, style: str) -> list[str]:
        world = self.world
        current = world.entities[world.place_of(obj) or obj].type
        names = sorted(
            n
            for n, e in world.entities.items()
            if world.is_fixed(n)
            and world.spec(n).is_container
            and e.type != "Floor"
            and e.type != current
            and world.fits(obj, n)
            and (kind == SIMPLE or e.type not in EFFECT_TYPES)
        )
        self.rng.shuffle(names)
        if style == "long_horizon" and self.profile == "habitat":
            # Longer chains: the target has to be opened too.
            names.sort(key=lambda n: not world.spec(n).openable)
        return names[:4]

    # ---- drafts ----------------------------------------------------------------------------------------
    def draft(self, kind: str, style: str) -> Draft | None:
        objects = self.objects()
        if style == "long_horizon":
            # EB's long-horizon tasks are mostly about sliced food: try sliceable objects first.
            objects.sort(key=lambda n: not self.world.spec(n).sliceable)
        for obj in objects[:12]:
            draft = self._draft_with(kind, style, obj)
            if draft is not None:
                return draft
        return None

    def _draft_with(self, kind: str, style: str, obj: str) -> Draft | None:
        world, spec = self.world, self.world.spec(obj)
        sliced = style == "long_horizon" and spec.sliceable and self.rng.random() < 0.75
        if kind == LOOK:
            lamps = [n for t in LAMPS for n in world.instances(t)]
            if not lamps or spec.size > 2 or spec.is_container:
                return None
            refs = self.refs([(obj, "object", 1), (self.rng.choice(lamps), "lamp", 1)], style)
            if refs is None:
                return None
            o, lamp = refs
            goal = (
                Condition(object=o, held=True, text=f"holding {o.text}"),
                Condition(object=lamp, states=("on",), text=f"{lamp.text} is on"),
            )
            return Draft(kind, goal, render(kind, self.rng, o=o.text, lamp=lamp.text))
        state = {CLEAN: "clean", HEAT: "hot", COOL: "cold"}.get(kind)
        if (state == "clean" and not spec.cleanable) or (
            state == "hot" and not (spec.heatable and spec.size <= 2)
        ):
            return None
        if state == "cold" and not spec.coolable:
            return None
        if kind == TWO and style == "long_horizon" and self.profile == "habitat":
            # Habitat has no slicing: its long-horizon pairs are chilled first.
            if not spec.coolable:
                return None
            state = "cold"
        states = (("sliced",) if sliced else ()) + ((state,) if state else ())
        for target in self.targets(obj, kind, style):
            draft = self._place_draft(kind, style, obj, target, states, sliced)
            if draft is not None:
                return draft
        return None

    def _place_draft(
        self, kind: str, style: str, obj: str, target: str, states: tuple[str, ...], sliced: bool
    ) -> Draft | None:
        world = self.world
        prep = world.spec(target).preposition
        fridge = "refrigerator" if self.profile == "habitat" else "fridge"

        def pre(o: Ref) -> tuple[Condition, ...]:
            # Long-horizon chains count slicing as its own goal condition, as ALFRED does.
            return (Condition(object=o, states=("sliced",), text=f"{o.text} is sliced"),) if sliced else ()

        if kind == MOVABLE:
            vessels = [
                n
                for n in self.objects()
                if world.spec(n).is_container
                and world.entities[n].type != world.entities[obj].type
                and world.fits(obj, n)
                and world.fits(n, target)
            ]
            if not vessels:
                return None
            refs = self.refs([(obj, "object", 1), (vessels[0], "vessel", 1), (target, "target", 1)], style)
            if refs is None:
                return None
            o, m, r = refs
            mprep = world.spec(vessels[0]).preposition
            goal: tuple[Condition, ...] = (
                Condition(object=o, inside=m, text=f"{o.text} is {mprep} {m.text}"),
                Condition(object=m, inside=r, text=f"{m.text} is {prep} {r.text}"),
                Condition(object=o, inside=r, text=f"{o.text} is {prep} {r.text}"),
            )
            text = render(kind, self.rng, o=o.text, m=m.text, r=r.text, prep=prep, mprep=mprep)
            return Draft(kind, goal, text)
        if kind == TWO and self.profile == "habitat":
            others = [
                n
                for n in self.objects()
                if world.entities[n].type != world.entities[obj].type
                and world.fits(n, target)
                and (not states or world.spec(n).coolable)
            ]
            if not others:
                return None
            refs = self.refs([(obj, "object", 1), (others[0], "object", 1), (target, "target", 1)], style)
            if refs is None:
                return None
            o, o2, r = refs
            goal = (
                Condition(object=o, states=states, inside=r, text=f"{o.text} is {prep} {r.text}"),
                Condition(object=o2, states=states, inside=r, text=f"{o2.text} is {prep} {r.text}"),
            )
            template = "pick_two_cold" if states else kind
            text = render(
                template,
                self.rng,
                o=o.text,
                o2=o2.text,
                r=r.text,
                prep=prep,
                fridge=fridge,
                bare=noun(world.entities[obj].type),
                bare2=noun(world.entities[others[0]].type),
            )
            return Draft(kind, goal, text)
        if kind == TWO:
            if len(world.instances(world.entities[obj].type)) < 2:
                return None
            refs = self.refs([(obj, "object", 2), (target, "target", 1)], style)
            if refs is None:
                return None
            o, r = refs
            if len(bind(world, o)) < 2:
                return None
            many = _many(o, world)
            goal = pre(o) + (
                Condition(object=o, states=states, inside=r, text=f"{o.text} is {prep} {r.text}"),
                Condition(object=o, states=states, inside=r, count=2, text=f"two {many} are {prep} {r.text}"),
            )
            return Draft(
                kind, goal, render("pick_two_same", self.rng, sliced=sliced, many=many, r=r.text, prep=prep)
            )
        refs = self.refs([(obj, "object", 1), (target, "target", 1)], style)
        if refs is None:
            return None
        o, r = refs
        state_goal = (
            (Condition(object=o, states=states, text=f"{o.text} is {' and '.join(states)}"),)
            if states and kind != SIMPLE
            else ()
        )
        goal = (
            pre(o)
            + state_goal
            + (Condition(object=o, states=states, inside=r, text=f"{o.text} is {prep} {r.text}"),)
        )
        bare = noun(world.entities[obj].type)
        return Draft(
            kind,
            goal,
            render(kind, self.rng, sliced=sliced, o=o.text, r=r.text, prep=prep, fridge=fridge, bare=bare),
        )


def _many(ref: Ref, world: World) -> str:
    if ref.attributes:
        words = " ".join(ref.attributes[k] for k in ("color", "material") if k in ref.attributes)
        return f"{words} {plural(noun(ref.type))}"
    if ref.text and not ref.text.startswith(("a ", "an ", "the ")):
        return f"things, each {ref.text},"
    return plural(noun(ref.type))
