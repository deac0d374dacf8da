"""What exists in a household: the type catalog of each action profile.

ALFRED-profile names follow ALFRED's object types (``Mug``, ``CounterTop``); Habitat-profile names follow
EB-Habitat's receptacle and YCB object vocabulary (``table``, ``refrigerator``, ``toy airplane``). The catalog
is self-authored: only type names are shared with those benchmarks, as interface facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ("CATALOGS", "ROOM_LAYOUTS", "Catalog", "RoomLayout", "TypeSpec")

Kind = Literal["object", "receptacle", "appliance"]

COLORS_DISH = ("white", "blue", "red", "green", "black", "yellow")
COLORS_ANY = ("red", "blue", "green", "yellow", "black", "white", "orange", "purple")
COLORS_WOOD = ("brown", "white", "black")


@dataclass(frozen=True)
class TypeSpec:
    """One type. ``capacity``: largest object size (1 small .. 3 large) it can hold; 0 = not a container.

    ``anchored_to``: an appliance that sits at one receptacle (a faucet at its sink, a desk lamp on a desk)
    rather than having a place of its own. ``effect``: what being inside does to an object (``cool`` for a
    fridge; ``heat`` for a microwave and ``clean`` for a sink apply only while it, or its faucet, is on).
    """

    name: str
    kind: Kind
    size: int = 1
    capacity: int = 0
    openable: bool = False
    toggleable: bool = False
    sliceable: bool = False
    preposition: Literal["in", "on"] = "on"
    colors: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    anchored_to: tuple[str, ...] = ()
    effect: Literal["", "cool", "heat", "clean"] = ""
    #: Receptacle types an object of this type may start in.
    spawn_in: tuple[str, ...] = ()
    #: Task roles: can be cleaned / heated / cooled (ALFRED's task constraints).
    cleanable: bool = False
    heatable: bool = False
    coolable: bool = False
    #: An indirect description for common-sense instructions.
    common_sense: str = ""

    @property
    def pickable(self) -> bool:
        return self.kind == "object"

    @property
    def is_container(self) -> bool:
        return self.capacity > 0


@dataclass(frozen=True)
class RoomLayout:
    """Furniture of one room: (type, min count, max count). ``floor`` adds a floor to drop things on."""

    name: str
    furniture: tuple[tuple[str, int, int], ...]
    floor: bool = True


@dataclass(frozen=True)
class Catalog:
    profile: str
    types: dict[str, TypeSpec] = field(default_factory=dict)

    def __getitem__(self, name: str) -> TypeSpec:
        return self.types[name]

    def of_kind(self, kind: Kind) -> tuple[TypeSpec, ...]:
        return tuple(t for t in self.types.values() if t.kind == kind)


def _catalog(profile: str, specs: list[TypeSpec]) -> Catalog:
    return Catalog(profile, {s.name: s for s in specs})


def _r(name: str, capacity: int, prep: Literal["in", "on"], **kw: object) -> TypeSpec:
    return TypeSpec(name=name, kind="receptacle", size=3, capacity=capacity, preposition=prep, **kw)  # type: ignore[arg-type]


def _o(name: str, size: int, spawn: tuple[str, ...], sense: str, **kw: object) -> TypeSpec:
    return TypeSpec(name=name, kind="object", size=size, spawn_in=spawn, common_sense=sense, **kw)  # type: ignore[arg-type]


_KITCHEN = ("CounterTop", "Cabinet", "Drawer", "DiningTable", "Shelf")
_DISH_PLACES = ("CounterTop", "Cabinet", "DiningTable", "Shelf", "Sink")
_FOOD_PLACES = ("CounterTop", "Fridge", "DiningTable")
_DESK = ("Desk", "SideTable", "Dresser", "Shelf", "Drawer", "CoffeeTable", "Bed")
_LIVING = ("Sofa", "CoffeeTable", "SideTable", "TVStand", "Shelf", "ArmChair")
_BATH = ("CounterTop", "Cabinet", "Shelf", "Toilet", "BathtubBasin")
_D = {"colors": COLORS_DISH, "materials": ("ceramic", "glass", "plastic")}
_M = {"colors": ("silver", "black", "red"), "materials": ("metal", "wooden", "plastic")}
_F = {"colors": ("red", "green", "yellow"), "materials": ("organic",)}

# fmt: off
ALFRED = _catalog(
    "alfred",
    [
        # Fixed receptacles.
        _r("CounterTop", 3, "on", colors=("white", "black", "grey"), materials=("granite", "wooden")),
        _r("Cabinet", 3, "in", openable=True, colors=COLORS_WOOD, materials=("wooden",)),
        _r("Drawer", 2, "in", openable=True, colors=COLORS_WOOD, materials=("wooden",)),
        _r("Fridge", 3, "in", openable=True, effect="cool", colors=("white", "silver")),
        _r("Microwave", 2, "in", openable=True, toggleable=True, effect="heat", colors=("black", "silver")),
        _r("Sink", 3, "in", effect="clean", colors=("white", "silver")),
        _r("DiningTable", 3, "on", colors=COLORS_WOOD, materials=("wooden", "glass")),
        _r("GarbageCan", 2, "in", colors=("grey", "black")),
        _r("Shelf", 2, "on", colors=COLORS_WOOD, materials=("wooden", "metal")),
        _r("Sofa", 3, "on", colors=("grey", "blue", "red")),
        _r("ArmChair", 3, "on", colors=("grey", "brown")),
        _r("CoffeeTable", 3, "on", colors=COLORS_WOOD, materials=("wooden", "glass")),
        _r("SideTable", 3, "on", colors=COLORS_WOOD),
        _r("TVStand", 3, "on", colors=("black", "brown")),
        _r("Bed", 3, "on", colors=("white", "blue")),
        _r("Desk", 3, "on", colors=COLORS_WOOD),
        _r("Dresser", 3, "on", colors=COLORS_WOOD),
        _r("Safe", 2, "in", openable=True, colors=("grey", "black"), materials=("metal",)),
        _r("Toilet", 2, "on", colors=("white",)),
        _r("BathtubBasin", 3, "in", colors=("white",)),
        _r("Floor", 3, "on"),
        # Appliances that are not receptacles.
        TypeSpec("Faucet", "appliance", toggleable=True, anchored_to=("Sink",)),
        TypeSpec("DeskLamp", "appliance", toggleable=True, anchored_to=("Desk", "SideTable")),
        TypeSpec("FloorLamp", "appliance", toggleable=True),
        # Movable receptacles.
        _o("Mug", 1, _DISH_PLACES, "something you drink hot coffee from", capacity=1, preposition="in", cleanable=True, heatable=True, coolable=True, **_D),
        _o("Cup", 1, _DISH_PLACES, "something you drink water from", capacity=1, preposition="in", cleanable=True, heatable=True, coolable=True, **_D),
        _o("Bowl", 2, _DISH_PLACES, "something you eat cereal from", capacity=1, preposition="in", cleanable=True, heatable=True, coolable=True, **_D),
        _o("Plate", 2, _DISH_PLACES, "something you serve a meal on", capacity=1, preposition="on", cleanable=True, heatable=True, coolable=True, **_D),
        _o("Pan", 3, ("CounterTop", "Cabinet", "Shelf"), "something you fry eggs in", capacity=1, preposition="in", cleanable=True, coolable=True, colors=("black", "silver"), materials=("metal",)),
        _o("Pot", 3, ("CounterTop", "Cabinet", "Shelf"), "something you boil pasta in", capacity=2, preposition="in", cleanable=True, coolable=True, colors=("black", "silver"), materials=("metal",)),
        _o("Box", 2, ("Shelf", "Dresser", "SideTable", "CoffeeTable", "Desk"), "something to pack things in", capacity=1, preposition="in", colors=("brown", "white"), materials=("cardboard",)),
        # Food.
        _o("Apple", 1, _FOOD_PLACES, "a fruit that keeps the doctor away", sliceable=True, cleanable=True, heatable=True, coolable=True, **_F),
        _o("Tomato", 1, _FOOD_PLACES, "a red fruit used in salads and sauces", sliceable=True, cleanable=True, heatable=True, coolable=True, colors=("red", "yellow"), materials=("organic",)),
        _o("Potato", 1, _FOOD_PLACES + ("Cabinet",), "a vegetable used to make fries", sliceable=True, cleanable=True, heatable=True, coolable=True, colors=("brown", "yellow"), materials=("organic",)),
        _o("Lettuce", 1, _FOOD_PLACES, "a leafy vegetable for salads", sliceable=True, cleanable=True, coolable=True, colors=("green",), materials=("organic",)),
        _o("Bread", 1, _FOOD_PLACES + ("Cabinet",), "something you make toast from", sliceable=True, heatable=True, coolable=True, colors=("brown", "white"), materials=("organic",)),
        _o("Egg", 1, _FOOD_PLACES, "something a hen lays", cleanable=True, heatable=True, coolable=True, colors=("white", "brown"), materials=("organic",)),
        # Utensils and kitchenware.
        _o("Knife", 1, _KITCHEN + ("Sink",), "something sharp for cutting bread", cleanable=True, **_M),
        _o("ButterKnife", 1, _KITCHEN, "a blunt knife for spreading butter", cleanable=True, **_M),
        _o("Spoon", 1, _KITCHEN + ("Sink",), "something you eat soup with", cleanable=True, **_M),
        _o("Fork", 1, _KITCHEN, "something you eat spaghetti with", cleanable=True, **_M),
        _o("Ladle", 1, _KITCHEN, "something for serving soup", cleanable=True, **_M),
        _o("Spatula", 1, _KITCHEN, "something for flipping pancakes", cleanable=True, **_M),
        _o("Kettle", 2, ("CounterTop", "Shelf", "Cabinet"), "something to boil water for tea", cleanable=True, colors=("silver", "red", "black"), materials=("metal",)),
        _o("DishSponge", 1, ("Sink", "CounterTop", "Cabinet"), "something for scrubbing dishes", cleanable=True, colors=("yellow", "green", "blue"), materials=("foam",)),
        _o("WineBottle", 2, ("CounterTop", "Fridge", "DiningTable", "Shelf", "Cabinet"), "something that holds red wine", coolable=True, colors=("green", "red", "black"), materials=("glass",)),
        _o("SaltShaker", 1, ("CounterTop", "Cabinet", "DiningTable", "Shelf"), "something that seasons food", colors=("white", "silver"), materials=("glass", "ceramic")),
        # Living room, bedroom and bathroom things.
        _o("RemoteControl", 1, _LIVING, "something that changes the TV channel", colors=("black", "grey"), materials=("plastic",)),
        _o("Book", 1, _DESK + _LIVING, "something you read stories in", colors=COLORS_ANY, materials=("paper",)),
        _o("Newspaper", 1, _LIVING + ("DiningTable",), "something with today's headlines", colors=("white", "grey"), materials=("paper",)),
        _o("KeyChain", 1, _DESK + _LIVING + ("CounterTop",), "something that holds house keys", colors=("silver", "gold"), materials=("metal",)),
        _o("CreditCard", 1, _DESK + ("CounterTop",), "something you pay with at a shop", colors=("blue", "gold", "black"), materials=("plastic",)),
        _o("CellPhone", 1, _DESK + _LIVING, "something you make calls with", colors=("black", "white"), materials=("plastic", "glass")),
        _o("Laptop", 2, ("Desk", "Bed", "CoffeeTable", "Sofa", "DiningTable"), "a portable computer", colors=("grey", "black", "silver"), materials=("metal", "plastic")),
        _o("AlarmClock", 1, _DESK, "something that wakes you up in the morning", colors=COLORS_ANY, materials=("plastic",)),
        _o("CD", 1, _DESK + _LIVING, "a disc that plays music", colors=("silver", "gold"), materials=("plastic",)),
        _o("Pen", 1, _DESK, "something you sign a letter with", colors=("blue", "black", "red"), materials=("plastic",)),
        _o("Pencil", 1, _DESK, "something you sketch with and can erase", colors=("yellow", "green"), materials=("wooden",)),
        _o("Watch", 1, _DESK, "something you wear to tell the time", colors=("silver", "gold", "black"), materials=("metal", "leather")),
        _o("Vase", 2, _LIVING + ("DiningTable", "Shelf"), "something you put flowers in", colors=COLORS_ANY, materials=("glass", "ceramic")),
        _o("Statue", 2, _LIVING + ("Desk", "Dresser"), "a small sculpture for decoration", colors=("white", "gold", "black"), materials=("stone", "metal")),
        _o("Pillow", 2, ("Sofa", "Bed", "ArmChair"), "something you rest your head on", colors=COLORS_ANY, materials=("cotton",)),
        _o("TissueBox", 1, _DESK + _LIVING + _BATH, "something you grab when you sneeze", colors=("white", "blue"), materials=("cardboard",)),
        _o("SoapBar", 1, _BATH + ("Sink",), "something you wash your hands with", cleanable=True, colors=("white", "green", "pink"), materials=("soap",)),
        _o("SoapBottle", 1, _BATH + ("CounterTop",), "a bottle of liquid soap", colors=("green", "blue", "pink"), materials=("plastic",)),
        _o("ToiletPaper", 1, _BATH, "something you need in the bathroom stall", colors=("white",), materials=("paper",)),
        _o("Candle", 1, _BATH + _LIVING, "something that gives light when the power is out", colors=("white", "red", "yellow"), materials=("wax",)),
        _o("SprayBottle", 1, _BATH + ("Cabinet",), "something for misting plants or cleaning glass", colors=("blue", "white", "green"), materials=("plastic",)),
        _o("Cloth", 1, _BATH + ("Cabinet", "Drawer"), "something for wiping the table", cleanable=True, colors=("white", "blue", "red"), materials=("cotton",)),
    ],
)

_HAB_KITCHEN = ("counter", "cabinet", "drawer", "table")
_HAB_FOOD = ("counter", "refrigerator", "table")
_HAB_ANY = ("counter", "table", "sofa", "TV stand", "shelf", "chair")

HABITAT = _catalog(
    "habitat",
    [
        _r("table", 3, "on", colors=COLORS_WOOD, materials=("wooden", "glass")),
        _r("chair", 2, "on", colors=COLORS_WOOD),
        _r("cabinet", 3, "in", openable=True, colors=COLORS_WOOD, materials=("wooden",)),
        _r("drawer", 2, "in", openable=True, colors=COLORS_WOOD, materials=("wooden",)),
        _r("refrigerator", 3, "in", openable=True, effect="cool", colors=("white", "silver")),
        _r("counter", 3, "on", colors=("white", "black", "grey")),
        _r("sink", 3, "in", colors=("white", "silver")),
        _r("sofa", 3, "on", colors=("grey", "blue", "red")),
        _r("TV stand", 3, "on", colors=("black", "brown")),
        _r("shelf", 2, "on", colors=COLORS_WOOD),
        _o("apple", 1, _HAB_FOOD, "a fruit that keeps the doctor away", coolable=True, **_F),
        _o("banana", 1, _HAB_FOOD, "a long yellow fruit monkeys love", coolable=True, colors=("yellow", "green"), materials=("organic",)),
        _o("lemon", 1, _HAB_FOOD, "a sour yellow citrus fruit", coolable=True, colors=("yellow",), materials=("organic",)),
        _o("orange", 1, _HAB_FOOD, "a citrus fruit you squeeze for juice", coolable=True, colors=("orange",), materials=("organic",)),
        _o("peach", 1, _HAB_FOOD, "a fuzzy stone fruit", coolable=True, colors=("orange", "pink"), materials=("organic",)),
        _o("strawberry", 1, _HAB_FOOD, "a small red berry with seeds outside", coolable=True, colors=("red",), materials=("organic",)),
        _o("bowl", 2, _HAB_KITCHEN + ("sink",), "something you eat cereal from", coolable=True, **_D),
        _o("mug", 1, _HAB_KITCHEN + ("sink",), "something you drink hot coffee from", coolable=True, **_D),
        _o("plate", 2, _HAB_KITCHEN + ("sink",), "something you serve a meal on", coolable=True, **_D),
        _o("cup", 1, _HAB_KITCHEN + ("sink",), "something you drink water from", coolable=True, **_D),
        _o("can", 1, _HAB_FOOD + ("cabinet",), "a tin of soup", coolable=True, colors=("red", "silver", "blue"), materials=("metal",)),
        _o("pitcher", 2, _HAB_KITCHEN + ("refrigerator",), "something you pour lemonade from", coolable=True, colors=("blue", "white", "red"), materials=("plastic", "glass")),
        _o("cracker box", 1, ("counter", "cabinet", "shelf", "table"), "a box of salty snacks", colors=("red", "yellow"), materials=("cardboard",)),
        _o("sugar box", 1, ("counter", "cabinet", "shelf"), "a box of something sweet for baking", colors=("yellow", "white"), materials=("cardboard",)),
        _o("sponge", 1, ("sink", "counter", "cabinet"), "something for scrubbing dishes", colors=("yellow", "green", "blue"), materials=("foam",)),
        _o("spatula", 1, _HAB_KITCHEN, "something for flipping pancakes", **_M),
        _o("toy airplane", 1, _HAB_ANY + ("drawer",), "a toy that flies in a child's imagination", colors=COLORS_ANY, materials=("plastic", "wooden")),
        _o("ball", 1, _HAB_ANY + ("drawer",), "something you throw and catch", colors=COLORS_ANY, materials=("rubber", "leather")),
        _o("hammer", 2, ("cabinet", "drawer", "shelf", "table"), "a tool for driving nails", colors=("black", "red"), materials=("metal", "wooden")),
        _o("screwdriver", 1, ("cabinet", "drawer", "shelf", "table"), "a tool for turning screws", colors=("yellow", "red", "blue"), materials=("metal", "plastic")),
        _o("padlock", 1, ("drawer", "shelf", "table", "cabinet"), "something that locks a gate", colors=("silver", "gold"), materials=("metal",)),
        _o("marker", 1, ("drawer", "table", "shelf", "TV stand"), "something you draw on a whiteboard with", colors=("black", "blue", "red", "green"), materials=("plastic",)),
        _o("rubik's cube", 1, _HAB_ANY + ("drawer",), "a colourful puzzle you twist", colors=("multicolor",), materials=("plastic",)),
    ],
)

# fmt: on

CATALOGS: dict[str, Catalog] = {"alfred": ALFRED, "habitat": HABITAT}

ROOM_LAYOUTS: dict[str, tuple[RoomLayout, ...]] = {
    "alfred": (
        RoomLayout(
            "Kitchen",
            (
                ("CounterTop", 2, 3),
                ("Cabinet", 2, 4),
                ("Drawer", 2, 3),
                ("Sink", 1, 1),
                ("Fridge", 1, 1),
                ("Microwave", 1, 1),
                ("DiningTable", 0, 1),
                ("GarbageCan", 1, 1),
                ("Shelf", 0, 1),
            ),
        ),
        RoomLayout(
            "LivingRoom",
            (
                ("Sofa", 1, 1),
                ("CoffeeTable", 1, 1),
                ("SideTable", 1, 2),
                ("TVStand", 1, 1),
                ("Shelf", 1, 2),
                ("Drawer", 0, 2),
                ("FloorLamp", 1, 1),
                ("ArmChair", 0, 1),
                ("Cabinet", 0, 1),
            ),
        ),
        RoomLayout(
            "Bedroom",
            (
                ("Bed", 1, 1),
                ("Desk", 1, 1),
                ("Dresser", 1, 1),
                ("Drawer", 1, 2),
                ("Shelf", 1, 2),
                ("SideTable", 1, 1),
                ("Safe", 0, 1),
                ("GarbageCan", 0, 1),
            ),
        ),
        RoomLayout(
            "Bathroom",
            (
                ("Toilet", 1, 1),
                ("Sink", 1, 1),
                ("CounterTop", 1, 1),
                ("Cabinet", 1, 2),
                ("Drawer", 0, 2),
                ("BathtubBasin", 1, 1),
                ("GarbageCan", 1, 1),
                ("Shelf", 0, 1),
            ),
        ),
    ),
    "habitat": (
        RoomLayout(
            "kitchen",
            (
                ("counter", 2, 2),
                ("cabinet", 2, 3),
                ("drawer", 2, 2),
                ("refrigerator", 1, 1),
                ("sink", 1, 1),
                ("table", 1, 1),
                ("chair", 1, 2),
            ),
            floor=False,
        ),
        RoomLayout(
            "living room",
            (
                ("sofa", 1, 1),
                ("TV stand", 1, 1),
                ("table", 1, 2),
                ("chair", 1, 2),
                ("shelf", 1, 2),
                ("cabinet", 0, 1),
            ),
            floor=False,
        ),
    ),
}
