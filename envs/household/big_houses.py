"""Big houses for the memory suites: seven rooms, many closed receptacles, everyday clutter, and the helpers
that place and describe things in them (see :mod:`envs.household.memory`)."""

from __future__ import annotations

import random
from dataclasses import replace

from envs.household.catalog import CATALOGS, ROOM_LAYOUTS, Catalog, RoomLayout
from envs.household.goals import bind
from envs.household.scenes import _add_anchored, _attributes, _Namer
from envs.household.wording import noun, plain
from envs.household.world import Entity, World
from envs.task import Ref, RefRelation

__all__ = ("EXTRA_ROOMS", "SETUP_TYPES", "TARGET_TYPES", "Namer", "add_thing", "build_house", "unique_ref")

Namer = _Namer

_R = RoomLayout
EXTRA_ROOMS: dict[str, tuple[RoomLayout, ...]] = {
    "alfred": (
        replace(ROOM_LAYOUTS["alfred"][2], name="Bedroom_2"),
        _R(
            "Office",
            (("Desk", 1, 1), ("Shelf", 1, 2), ("Drawer", 2, 3), ("Cabinet", 1, 2), ("SideTable", 1, 1)),
        ),
        replace(ROOM_LAYOUTS["alfred"][3], name="Bathroom_2"),
    ),
    "habitat": (
        _R(
            "bedroom",
            (("table", 1, 1), ("chair", 1, 1), ("cabinet", 1, 2), ("drawer", 2, 3), ("shelf", 1, 2)),
            False,
        ),
        _R(
            "bedroom 2",
            (("table", 1, 1), ("chair", 1, 1), ("cabinet", 1, 1), ("drawer", 2, 2), ("shelf", 1, 1)),
            False,
        ),
        _R(
            "office",
            (("table", 1, 2), ("chair", 1, 2), ("drawer", 2, 3), ("shelf", 1, 2), ("cabinet", 1, 1)),
            False,
        ),
        _R("bathroom", (("sink", 1, 1), ("counter", 1, 1), ("cabinet", 1, 2), ("drawer", 1, 1)), False),
        _R("garage", (("shelf", 2, 2), ("cabinet", 1, 2), ("drawer", 1, 2), ("table", 1, 1)), False),
    ),
}
#: Types a scored task names (five colours or more) and unique things a setup task fetches.
TARGET_TYPES = {
    "alfred": ("Mug", "Cup", "Bowl", "Book", "AlarmClock", "Vase"),
    "habitat": ("mug", "cup", "bowl", "toy airplane", "ball"),
}
SETUP_TYPES = {
    "alfred": (
        "KeyChain",
        "CreditCard",
        "Watch",
        "Pen",
        "Pencil",
        "CD",
        "RemoteControl",
        "SoapBar",
        "Candle",
        "TissueBox",
        "SaltShaker",
        "Ladle",
        "Spatula",
        "Cloth",
        "SprayBottle",
        "Statue",
    ),
    "habitat": (
        "apple",
        "banana",
        "lemon",
        "orange",
        "peach",
        "strawberry",
        "cracker box",
        "sugar box",
        "sponge",
        "spatula",
        "padlock",
        "rubik's cube",
        "screwdriver",
        "marker",
        "can",
        "hammer",
    ),
}


def build_house(profile: str, scene: str, reserved: set[str], rng: random.Random) -> tuple[World, _Namer]:
    catalog = CATALOGS[profile]
    rooms = []
    for layout in ROOM_LAYOUTS[profile] + EXTRA_ROOMS[profile]:
        furniture = [t for t, lo, hi in layout.furniture for _ in range(rng.randint(lo, hi))]
        rng.shuffle(furniture)
        rooms.append((layout.name, furniture + (["Floor"] if layout.floor else [])))
    totals: dict[str, int] = {}
    for _, furniture in rooms:
        for t in furniture:
            totals[t] = totals.get(t, 0) + 1
    name = _Namer(profile, totals)
    entities: dict[str, Entity] = {}
    colors: dict[str, set[str]] = {}
    for room, furniture in rooms:
        for slot, type_name in enumerate(furniture):
            spec = catalog[type_name]
            entity = Entity(
                name=name(type_name),
                type=type_name,
                room=room,
                attributes=_attributes(rng, spec, colors.setdefault(type_name, set())),
                slot=None if type_name == "Floor" else slot,
                open=False if spec.openable else None,
                on=False if spec.toggleable else None,
            )
            entities[entity.name] = entity
    _add_anchored(catalog, entities, name, rng)
    _fill(catalog, entities, name, rng, reserved)
    world = World(
        scene=scene,
        catalog=catalog,
        rooms=tuple(r for r, _ in rooms),
        entities=entities,
        agent_room=rooms[0][0],
    )
    return world, name  # the items are added with the same namer


def _fill(
    catalog: Catalog, entities: dict[str, Entity], name: _Namer, rng: random.Random, reserved: set[str]
) -> None:
    """Everyday clutter of the types no task is about, so searching means looking past things."""
    hosts = [e for e in entities.values() if catalog[e.type].kind == "receptacle" and e.type != "Floor"]
    colors: dict[str, set[str]] = {}
    for spec in catalog.of_kind("object"):
        fits = [h for h in hosts if h.type in spec.spawn_in and catalog[h.type].capacity >= spec.size]
        if spec.name in reserved or not fits or rng.random() < 0.4:
            continue
        for _ in range(rng.choice((1, 1, 2))):
            host = rng.choice(fits)
            attrs = _attributes(rng, spec, colors.setdefault(spec.name, set()))
            entity = Entity(
                name=name(spec.name), type=spec.name, room=host.room, attributes=attrs, parent=host.name
            )
            entities[entity.name] = entity


def add_thing(world: World, name: _Namer, type_name: str, parent: str, attributes: dict[str, str]) -> str:
    entity = Entity(
        name=name(type_name),
        type=type_name,
        room=world.entities[parent].room,
        attributes=attributes,
        parent=parent,
    )
    world.entities[entity.name] = entity
    return entity.name


def unique_ref(world: World, name: str) -> Ref | None:
    """A description that fits ``name`` and nothing else: its type alone, or a neighbour in its row."""
    entity = world.entities[name]
    if len(world.instances(entity.type)) == 1:
        return plain(entity.type, definite=True)
    left, right = world.neighbours(name)
    for relation, other in (("left_of", right), ("right_of", left)):
        if other is None:
            continue
        target = world.entities[other].type
        side = "left" if relation == "left_of" else "right"
        ref = Ref(
            type=entity.type,
            relation=RefRelation(relation=relation, target=plain(target, definite=True)),
            text=f"the {noun(entity.type)} to the {side} of the {noun(target)}",
        )
        if bind(world, ref) == {name}:
            return ref
    return None
