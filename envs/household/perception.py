"""What the agent perceives: the furniture of the room it is in (with open/on states and left/right
relations) and the objects at its place — never the contents of closed containers, never other places.

Perceivable object states are ``sliced`` only; ``clean``, ``hot`` and ``cold`` are not visible (as on a real
camera), so an agent has to remember what it did.
"""

from __future__ import annotations

from envs.base import PerceivedEntity, Perception, Relation
from envs.household.world import Entity, World

__all__ = ("perceive", "render_text")

AGENT = "I"


def _perceived(world: World, entity: Entity) -> PerceivedEntity:
    spec = world.catalog[entity.type]
    states: dict[str, bool] = {}
    if entity.open is not None:
        states["open"] = entity.open
    if entity.on is not None:
        states["on"] = entity.on
    if spec.sliceable:
        states["sliced"] = entity.sliced
    return PerceivedEntity(
        name=entity.name, type=entity.type, kind=spec.kind, attributes=dict(entity.attributes), states=states
    )


def _visible_objects(world: World) -> list[Entity]:
    return [
        e for e in world.entities.values() if world.spec(e.name).kind == "object" and world.is_visible(e.name)
    ]


def perceive(world: World) -> Perception:
    entities: list[PerceivedEntity] = []
    relations: list[Relation] = [Relation(subject=AGENT, relation="in", object=world.agent_room)]
    if world.agent_location is not None:
        relations.append(Relation(subject=AGENT, relation="at", object=world.agent_location))
    if world.held is not None:
        relations.append(Relation(subject=AGENT, relation="holding", object=world.held))
    for fixed in world.room_fixed(world.agent_room):
        entities.append(_perceived(world, fixed))
        relations.append(Relation(subject=fixed.name, relation="in", object=world.agent_room))
        _, right = world.neighbours(fixed.name)
        if right is not None:
            relations.append(Relation(subject=fixed.name, relation="left_of", object=right))
            relations.append(Relation(subject=right, relation="right_of", object=fixed.name))
    for appliance in world.entities.values():
        if appliance.anchor is not None and appliance.room == world.agent_room:
            entities.append(_perceived(world, appliance))
            relations.append(Relation(subject=appliance.name, relation="at", object=appliance.anchor))
    for obj in _visible_objects(world):
        entities.append(_perceived(world, obj))
        if obj.parent is not None:
            prep = world.catalog[world.entities[obj.parent].type].preposition
            relations.append(Relation(subject=obj.name, relation=prep, object=obj.parent))
    return Perception(
        location=world.agent_location,
        room=world.agent_room,
        holding=() if world.held is None else (world.held,),  # one hand: the profiles enforce it
        entities=tuple(entities),
        relations=tuple(relations),
    )


def _describe(entity: PerceivedEntity) -> str:
    words = [v for k, v in sorted(entity.attributes.items()) if k in ("size", "color", "material")]
    flags = [state for state in ("open", "on", "sliced") if entity.states.get(state)]
    if "open" in entity.states and not entity.states["open"]:
        flags.append("closed")
    text = entity.name + (f" ({' '.join(words)})" if words else "")
    return text + (f" [{', '.join(flags)}]" if flags else "")


def render_text(perception: Perception) -> str:
    """A short natural-language rendering of the same perception (for text-only planners)."""
    by_name = {e.name: e for e in perception.entities}
    furniture = [e for e in perception.entities if e.kind != "object"]
    where = f"You are in the {perception.room}"
    where += f", at {perception.location}." if perception.location else "."
    lines = [where, "In this room, from left to right: " + ", ".join(_describe(e) for e in furniture) + "."]
    contents: dict[str, list[str]] = {}
    for rel in perception.relations:
        if rel.relation in ("in", "on") and rel.subject in by_name and by_name[rel.subject].kind == "object":
            contents.setdefault(f"{rel.relation.capitalize()} {rel.object}", []).append(
                _describe(by_name[rel.subject])
            )
    for place, items in contents.items():
        lines.append(f"{place}: {', '.join(items)}.")
    if perception.location and not contents:
        lines.append(f"You see no objects at {perception.location}.")
    held = [_describe(by_name[name]) for name in perception.holding if name in by_name]
    if len(held) > 1:
        held = [", ".join(held[:-1]) + " and " + held[-1]]
    lines.append(f"You are holding {held[0]}." if held else "You are holding nothing.")
    return " ".join(lines)
