"""A synthetic but realistic large site: a building of many rooms, each with a row of furniture holding
objects, toured by a robot that also moves things around. Drives :class:`SpatialMemory` through the same
perceptions the household simulator produces."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from envs.base import Perception
from modules.hippocampus.base import UpdateStats
from tests.modules.hippocampus.spatial.helpers import Driver, perception

FURNITURE = ("Cabinet", "Drawer", "CounterTop", "Shelf", "Table", "Desk", "Sofa", "Fridge", "Sink", "Dresser")
OBJECTS = ("Mug", "Cup", "Apple", "Book", "Pen", "Plate", "Bowl", "Spoon", "Laptop", "Box", "Key", "Vase")


@dataclass
class Room:
    name: str
    furniture: tuple[str, ...]
    contents: dict[str, list[str]] = field(default_factory=dict)


class Building:
    def __init__(self, seed: int = 0, objects_per_place: int = 6) -> None:
        self.rng = random.Random(seed)
        self.rooms: list[Room] = []
        self.counter: dict[str, int] = {}
        self.objects_per_place = objects_per_place

    def _name(self, kind: str) -> str:
        self.counter[kind] = self.counter.get(kind, 0) + 1
        return f"{kind}_{self.counter[kind]}"

    def new_room(self) -> Room:
        furniture = tuple(self._name(f) for f in FURNITURE)
        room = Room(self._name("Room"), furniture)
        for place in furniture:
            room.contents[place] = [
                self._name(self.rng.choice(OBJECTS)) for _ in range(self.objects_per_place)
            ]
        self.rooms.append(room)
        return room

    def seen(self, room: Room, place: str | None, holding: str | None = None) -> Perception:
        """What the robot sees; it opens a cabinet, drawer or fridge when it stands at it."""
        openable = [f for f in room.furniture if f.startswith(("Fridge", "Cabinet", "Drawer"))]
        objects = {} if place is None else {o: ("on", place) for o in room.contents[place]}
        return perception(
            room.name,
            furniture=room.furniture,
            place=place,
            holding=holding,
            objects=objects,
            states={f: {"open": f == place} for f in openable},
        )

    def tour(self, driver: Driver, room: Room, *, moves: int = 2) -> Iterator[UpdateStats]:
        """Enter, visit every place, and carry ``moves`` objects from one place to another."""
        yield driver.step(
            self.seen(room, None), action=f"find a {room.furniture[0]}", text=f"I enter {room.name}."
        )
        for place in room.furniture:
            yield driver.step(
                self.seen(room, place),
                action=f"find a {place}",
                text=f"I am at {place} in {room.name}. I see {', '.join(room.contents[place][:3])}.",
            )
        for _ in range(moves):
            src, dst = self.rng.sample(list(room.furniture), 2)
            if not room.contents[src]:
                continue
            obj = room.contents[src].pop()
            yield driver.step(self.seen(room, src), action=f"find a {src}", text=f"I go to {src}.")
            yield driver.step(
                self.seen(room, src, holding=obj),
                action=f"pick up the {obj}",
                text=f"I pick up the {obj} from {src}.",
            )
            yield driver.step(
                self.seen(room, dst, holding=obj), action=f"find a {dst}", text=f"I carry {obj} to {dst}."
            )
            room.contents[dst].append(obj)
            yield driver.step(
                self.seen(room, dst), action="put down the object in hand", text=f"I put {obj} on {dst}."
            )
