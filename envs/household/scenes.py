"""Seeded procedural houses: rooms with furniture in a row, appliances, and objects in plausible places."""

from __future__ import annotations

import random

from envs.household.catalog import CATALOGS, ROOM_LAYOUTS, Catalog, TypeSpec
from envs.household.world import Entity, World

__all__ = ("generate_scene",)

#: Types every house of a profile has at least one of, so every task type can be generated somewhere.
REQUIRED_OBJECTS = {"alfred": ("Knife", "Apple", "Mug", "Book"), "habitat": ("apple", "bowl")}


def _attributes(rng: random.Random, spec: TypeSpec, taken: set[str]) -> dict[str, str]:
    attrs = {}
    if spec.colors:
        # Distinct colours per instance of a type while the palette lasts, so appearance tells them apart.
        fresh = [c for c in spec.colors if c not in taken] or list(spec.colors)
        attrs["color"] = rng.choice(fresh)
        taken.add(attrs["color"])
    if spec.materials:
        attrs["material"] = rng.choice(spec.materials)
    return attrs


class _Namer:
    """ALFRED names instances ``Cabinet``, ``Cabinet_2``; Habitat numbers repeated receptacles ``table 1``."""

    def __init__(self, profile: str, totals: dict[str, int]) -> None:
        self.profile = profile
        self.totals = totals
        self.seen: dict[str, int] = {}

    def __call__(self, type_name: str) -> str:
        n = self.seen.get(type_name, 0) + 1
        self.seen[type_name] = n
        if self.profile == "alfred":
            return type_name if n == 1 else f"{type_name}_{n}"
        if self.totals.get(type_name, 1) > 1:
            return f"{type_name} {n}"
        return type_name if n == 1 else f"{type_name} {n}"


def _rooms(profile: str, rng: random.Random) -> list[tuple[str, list[str]]]:
    layouts = ROOM_LAYOUTS[profile]
    chosen = list(layouts[:2])
    extra = [r for r in layouts[2:] if rng.random() < 0.7]
    chosen += extra or list(layouts[2:3])
    rooms = []
    for layout in chosen:
        furniture = [t for t, lo, hi in layout.furniture for _ in range(rng.randint(lo, hi))]
        rng.shuffle(furniture)
        if layout.floor:
            furniture.append("Floor")
        rooms.append((layout.name, furniture))
    return rooms


def generate_scene(profile: str, scene_id: str, seed: int) -> World:
    rng = random.Random(f"{profile}/{scene_id}/{seed}")
    catalog: Catalog = CATALOGS[profile]
    rooms = _rooms(profile, rng)
    totals: dict[str, int] = {}
    for _, furniture in rooms:
        for t in furniture:
            totals[t] = totals.get(t, 0) + 1
    name = _Namer(profile, totals)
    entities: dict[str, Entity] = {}
    colors: dict[str, set[str]] = {}
    for room, furniture in rooms:
        slot = 0
        for type_name in furniture:
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
            slot += type_name != "Floor"
            entities[entity.name] = entity
    _add_anchored(catalog, entities, name, rng)
    _add_objects(profile, catalog, entities, name, rng)
    world = World(
        scene=scene_id,
        catalog=catalog,
        rooms=tuple(r for r, _ in rooms),
        entities=entities,
        agent_room=rooms[0][0],
    )
    world.apply_effects()  # things that start in the fridge are cold from the start
    world.check_invariants()
    return world


def _add_anchored(catalog: Catalog, entities: dict[str, Entity], name: _Namer, rng: random.Random) -> None:
    for spec in catalog.of_kind("appliance"):
        if not spec.anchored_to:
            continue
        for room in sorted({e.room for e in entities.values()}):
            hosts = [e for e in entities.values() if e.room == room and e.type in spec.anchored_to]
            if not hosts:
                continue
            # Every sink gets its faucet; a lamp goes on one desk or side table per room.
            chosen = hosts if spec.name == "Faucet" else [rng.choice(hosts)]
            for host in chosen:
                entity = Entity(name=name(spec.name), type=spec.name, room=room, anchor=host.name, on=False)
                entities[entity.name] = entity


def _add_objects(
    profile: str, catalog: Catalog, entities: dict[str, Entity], name: _Namer, rng: random.Random
) -> None:
    receptacles = [e for e in entities.values() if catalog[e.type].kind == "receptacle" and e.type != "Floor"]
    colors: dict[str, set[str]] = {}
    for spec in catalog.of_kind("object"):
        hosts = [r for r in receptacles if r.type in spec.spawn_in and catalog[r.type].capacity >= spec.size]
        if not hosts:
            continue
        required = spec.name in REQUIRED_OBJECTS[profile]
        if not required and rng.random() < 0.35:
            continue
        count = rng.choices((1, 2, 3), weights=(6, 3, 1))[0]
        for _ in range(count):
            host = rng.choice(hosts)
            entity = Entity(
                name=name(spec.name),
                type=spec.name,
                room=host.room,
                attributes=_attributes(rng, spec, colors.setdefault(spec.name, set())),
                parent=host.name,
            )
            entities[entity.name] = entity
