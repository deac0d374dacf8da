"""Symbolic world state of one house: rooms, fixed receptacles laid out in a row per room, appliances,
objects (some of them movable receptacles), their states, and the agent.

The world knows nothing about action grammars; the profiles (``alfred.py``, ``habitat.py``) act on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from envs.household.catalog import Catalog, TypeSpec

__all__ = ("Entity", "World")

#: Object states tracked by the simulator (``open`` and ``on`` live on receptacles and appliances).
OBJECT_STATES = ("sliced", "clean", "hot", "cold")


@dataclass
class Entity:
    """One thing in the house. Names are unique and are what the skill set calls the thing.

    Fixed things (receptacles, standalone appliances) have a ``slot`` in their room's row; anchored
    appliances have an ``anchor`` (the receptacle they sit at); objects have a ``parent`` (their container,
    ``None`` while held).
    """

    name: str
    type: str
    room: str
    attributes: dict[str, str] = field(default_factory=dict)
    slot: int | None = None
    anchor: str | None = None
    parent: str | None = None
    open: bool | None = None
    on: bool | None = None
    sliced: bool = False
    clean: bool = False
    hot: bool = False
    cold: bool = False

    def has_state(self, state: str) -> bool:
        return bool(getattr(self, state, False))


@dataclass
class World:
    """The full (privileged) state. Agents never see this; they get perceptions of it."""

    scene: str
    catalog: Catalog
    rooms: tuple[str, ...]
    entities: dict[str, Entity]
    agent_room: str
    agent_location: str | None = None
    held: str | None = None
    #: ALFRED's implicit receptacle for "put down": the last found or opened receptacle.
    put_target: str | None = None
    failed_puts: int = 0
    #: Object -> the place it was at before the episode that last picked it up first did so ("put the mug
    #: back where it was before you used it"). Saved only when non-empty, so scenes keep their bytes.
    taken_from: dict[str, str] = field(default_factory=dict)
    #: Objects picked up in the current episode (the environment clears it when an episode starts).
    picked_this_episode: set[str] = field(default_factory=set)
    #: Receptacles of this house that are jammed shut: opening them fails, every time (a house-specific
    #: failure only trying it reveals; never perceived). Saved only when non-empty, like ``taken_from``.
    jammed: frozenset[str] = frozenset()

    # ---- queries -------------------------------------------------------------------------------------
    def spec(self, name: str) -> TypeSpec:
        return self.catalog[self.entities[name].type]

    def is_fixed(self, name: str) -> bool:
        return self.spec(name).kind != "object" and self.entities[name].anchor is None

    def children(self, name: str) -> Iterator[Entity]:
        return (e for e in self.entities.values() if e.parent == name)

    def ancestors(self, name: str) -> list[str]:
        """Containers of ``name`` from the innermost outwards (empty while held)."""
        chain: list[str] = []
        parent = self.entities[name].parent
        while parent is not None:
            chain.append(parent)
            parent = self.entities[parent].parent
        return chain

    def place_of(self, name: str) -> str | None:
        """The fixed receptacle (or standalone appliance) where ``name`` is; ``None`` while held."""
        entity = self.entities[name]
        if entity.anchor is not None:
            return entity.anchor
        if self.spec(name).kind != "object":
            return name
        chain = self.ancestors(name)
        if not chain or self.in_hand(name):
            return None
        return chain[-1]

    def in_hand(self, name: str) -> bool:
        """Held, or inside the container the agent holds (it travels with the hand)."""
        return self.held is not None and (name == self.held or self.held in self.ancestors(name))

    def is_closed(self, name: str) -> bool:
        return self.entities[name].open is False

    def hidden_by(self, name: str) -> str | None:
        """The closed container that hides ``name`` from view, if any (outermost first)."""
        for container in reversed(self.ancestors(name)):
            if self.is_closed(container):
                return container
        return None

    def room_fixed(self, room: str) -> list[Entity]:
        """Fixed things of a room in row order (floors last: they have no place in the row)."""
        fixed = [e for e in self.entities.values() if e.room == room and self.is_fixed(e.name)]
        return sorted(fixed, key=lambda e: (e.slot is None, e.slot if e.slot is not None else 0, e.name))

    def neighbours(self, name: str) -> tuple[str | None, str | None]:
        """(left, right) neighbours of a fixed thing in its room's row."""
        entity = self.entities[name]
        if entity.slot is None:
            return None, None
        left = right = None
        for other in self.entities.values():
            if other.room != entity.room or other.slot is None or not self.is_fixed(other.name):
                continue
            if other.slot == entity.slot - 1:
                left = other.name
            elif other.slot == entity.slot + 1:
                right = other.name
        return left, right

    def floor_of(self, room: str) -> str | None:
        for e in self.entities.values():
            if e.room == room and e.type == "Floor":
                return e.name
        return None

    def is_visible(self, name: str) -> bool:
        """Perceivable now: held, or inside the agent's place (or its room's floor) and not hidden."""
        if self.in_hand(name):
            return self.hidden_by(name) is None
        place = self.place_of(name)
        if place is None:
            return False
        at_place = place == self.agent_location or (
            self.entities[place].type == "Floor" and self.entities[place].room == self.agent_room
        )
        return at_place and self.hidden_by(name) is None

    def nearby(self, name: str) -> bool:
        """Within reach (open/close/toggle/pick/slice): the agent's place, its appliances, visible objects."""
        entity = self.entities.get(name)
        if entity is None:
            return False
        if self.spec(name).kind == "object":
            return self.is_visible(name)
        return self.place_of(name) == self.agent_location and self.agent_location is not None

    def instances(self, type_name: str) -> list[str]:
        return sorted((e.name for e in self.entities.values() if e.type == type_name), key=_instance_order)

    def contains_transitively(self, container: str, name: str) -> bool:
        return container in self.ancestors(name)

    def fits(self, obj: str, container: str) -> bool:
        if obj == container or self.contains_transitively(obj, container):
            return False
        return 0 < self.spec(obj).size <= self.spec(container).capacity

    # ---- effects -------------------------------------------------------------------------------------
    def apply_effects(self) -> None:
        """ALFRED semantics: in a sink with its faucet on → clean; in a microwave that is on → hot;
        in a fridge → cold."""
        for container in self.entities.values():
            effect = self.catalog[container.type].effect
            if not effect:
                continue
            if effect == "heat" and not container.on:
                continue
            if effect == "clean" and not self._faucet_on(container.name):
                continue
            for obj in self.entities.values():
                if self.spec(obj.name).kind != "object" or not self.contains_transitively(
                    container.name, obj.name
                ):
                    continue
                if effect == "clean":
                    obj.clean = True
                elif effect == "heat":
                    obj.hot, obj.cold = True, False
                else:
                    obj.cold, obj.hot = True, False

    def _faucet_on(self, sink: str) -> bool:
        return any(e.anchor == sink and e.on for e in self.entities.values())

    def move(self, obj: str, container: str | None) -> None:
        entity = self.entities[obj]
        if container is None and obj not in self.picked_this_episode:
            place = self.place_of(obj)
            if place is not None:
                self.taken_from[obj] = place
            self.picked_this_episode.add(obj)
        entity.parent = container
        entity.room = self.entities[container].room if container is not None else self.agent_room
        for child in self.children(obj):  # contents travel along
            self.move(child.name, obj)

    # ---- invariants and serialisation ------------------------------------------------------------------
    def check_invariants(self) -> None:
        """Raise AssertionError when the state is inconsistent (used by tests and after every step)."""
        held = [
            e.name for e in self.entities.values() if self.spec(e.name).kind == "object" and e.parent is None
        ]
        assert held == ([self.held] if self.held else []), f"held mismatch: {held} vs {self.held}"
        for e in self.entities.values():
            if self.spec(e.name).kind == "object" and e.parent is not None:
                assert e.parent in self.entities, f"{e.name} in unknown {e.parent}"
                assert e.name not in self.ancestors(e.parent), f"containment cycle at {e.name}"
                assert self.catalog[self.entities[e.parent].type].capacity > 0, f"{e.parent} is no container"
        if self.agent_location is not None:
            assert self.is_fixed(self.agent_location), f"agent at non-place {self.agent_location}"

    def to_dict(self) -> dict[str, Any]:
        return (
            {
                "scene": self.scene,
                "profile": self.catalog.profile,
                "rooms": list(self.rooms),
                "agent_room": self.agent_room,
                "agent_location": self.agent_location,
                "held": self.held,
                "entities": [_entity_dict(e) for e in self.entities.values()],
            }
            | ({"taken_from": dict(self.taken_from)} if self.taken_from else {})
            | ({"jammed": sorted(self.jammed)} if self.jammed else {})
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any], catalog: Catalog) -> World:
        entities = {}
        for raw in data["entities"]:
            entity = Entity(**raw)
            if entity.type not in catalog.types:
                raise ValueError(f"scene {data['scene']!r}: unknown type {entity.type!r}")
            entities[entity.name] = entity
        world = cls(
            scene=data["scene"],
            catalog=catalog,
            rooms=tuple(data["rooms"]),
            entities=entities,
            agent_room=data["agent_room"],
            agent_location=data.get("agent_location"),
            held=data.get("held"),
            taken_from=dict(data.get("taken_from", {})),
            jammed=frozenset(data.get("jammed", ())),
        )
        world.check_invariants()
        return world


def _entity_dict(entity: Entity) -> dict[str, Any]:
    """Compact form: default-valued fields are left out so suites stay small and diffs readable."""
    defaults = Entity(name="", type="", room="")
    return {
        k: v for k, v in asdict(entity).items() if k in ("name", "type", "room") or v != getattr(defaults, k)
    }


def _instance_order(name: str) -> tuple[int, str]:
    """``Cabinet`` < ``Cabinet_2`` < ``Cabinet_10``; ``table 1`` < ``table 2``."""
    for sep in ("_", " "):
        head, _, tail = name.rpartition(sep)
        if head and tail.isdigit():
            return int(tail), head
    return (1 if not name[-1].isdigit() else 0), name
