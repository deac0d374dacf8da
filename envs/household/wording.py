"""Natural-language instructions in each subset's style, and the referent descriptions they use.

Every description here is also a :class:`envs.task.Ref`, so the words an LLM reads and the structured goal a
symbolic planner reads say the same thing.
"""

from __future__ import annotations

import random
import re

from envs.household.goals import bind
from envs.household.world import World
from envs.task import Ref, RefRelation

__all__ = (
    "article",
    "complexify",
    "describe_by_attributes",
    "describe_by_relation",
    "noun",
    "plain",
    "plural",
    "render",
)

_SPECIAL_NOUNS = {
    "CounterTop": "counter",
    "TVStand": "TV stand",
    "BathtubBasin": "bathtub",
    "CD": "CD",
    "DeskLamp": "desk lamp",
    "FloorLamp": "floor lamp",
}


def noun(type_name: str) -> str:
    """``DishSponge`` -> ``dish sponge``; Habitat names are already words."""
    if type_name in _SPECIAL_NOUNS:
        return _SPECIAL_NOUNS[type_name]
    if " " in type_name or not type_name[:1].isupper():
        return type_name
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type_name).lower()


def plural(word: str) -> str:
    if word.endswith(("s", "sh", "ch", "x")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith("knife"):
        return word[:-5] + "knives"
    return word + "s"


def article(phrase: str) -> str:
    return ("an " if phrase[:1].lower() in "aeiou" else "a ") + phrase


def plain(type_name: str, *, definite: bool = False) -> Ref:
    text = noun(type_name)
    return Ref(type=type_name, text=f"the {text}" if definite else article(text))


def describe_by_attributes(world: World, names: list[str], *, need: int = 1) -> Ref | None:
    """The shortest attribute description that fits ``names`` (at least ``need`` instances) but not every
    instance of their type — so the attributes really matter."""
    type_name = world.entities[names[0]].type
    everyone = set(world.instances(type_name))
    attrs = world.entities[names[0]].attributes
    options: list[dict[str, str]] = [{k: v} for k, v in sorted(attrs.items())]
    options.append(dict(sorted(attrs.items())))
    for chosen in options:
        fits = {
            n for n in everyone if all(world.entities[n].attributes.get(k) == v for k, v in chosen.items())
        }
        if len(fits) >= need and fits < everyone and set(names) <= fits:
            words = " ".join(chosen[k] for k in ("color", "material") if k in chosen)
            return Ref(type=type_name, attributes=chosen, text=f"the {words} {noun(type_name)}")
    return None


def describe_by_relation(world: World, name: str) -> Ref | None:
    """A relational description that singles out a strict subset of ``name``'s type containing it:
    neighbours in the room's row for furniture, the starting container for objects."""
    entity = world.entities[name]
    everyone = set(world.instances(entity.type))
    candidates: list[Ref] = []
    if world.is_fixed(name):
        left, right = world.neighbours(name)
        if right is not None:
            target = world.entities[right].type
            candidates.append(
                Ref(
                    type=entity.type,
                    relation=RefRelation(relation="left_of", target=plain(target, definite=True)),
                    text=f"the {noun(entity.type)} to the left of the {noun(target)}",
                )
            )
        if left is not None:
            target = world.entities[left].type
            candidates.append(
                Ref(
                    type=entity.type,
                    relation=RefRelation(relation="right_of", target=plain(target, definite=True)),
                    text=f"the {noun(entity.type)} to the right of the {noun(target)}",
                )
            )
    elif entity.parent is not None:
        container = world.entities[entity.parent]
        prep = world.catalog[container.type].preposition
        candidates.append(
            Ref(
                type=entity.type,
                relation=RefRelation(relation=prep, target=plain(container.type, definite=True)),
                text=f"the {noun(entity.type)} {prep} the {noun(container.type)}",
            )
        )
    for ref in candidates:
        fits = set(bind(world, ref))
        if name in fits and fits < everyone:
            return ref
    return None


TEMPLATES: dict[str, tuple[str, ...]] = {
    "pick_and_place_simple": ("Put {o} {prep} {r}.", "Place {o} {prep} {r}.", "Move {o} to {r}."),
    "look_at_obj_in_light": (
        "Examine {o} under {lamp}.",
        "Look at {o} in the light of {lamp}.",
        "Pick up {o} and turn on {lamp} to inspect it.",
    ),
    "pick_clean_then_place_in_recep": (
        "Rinse off {o} and put it {prep} {r}.",
        "Clean {o}, then place it {prep} {r}.",
        "Wash {o} in the sink and put it {prep} {r}.",
    ),
    "pick_heat_then_place_in_recep": (
        "Heat {o} in the microwave, then put it {prep} {r}.",
        "Warm up {o} and place it {prep} {r}.",
    ),
    "pick_cool_then_place_in_recep": (
        "Chill {o} in the {fridge}, then put it {prep} {r}.",
        "Cool {o} and place it {prep} {r}.",
    ),
    "pick_two_obj_and_place": ("Put {o} and {o2} {prep} {r}.", "Move {o} and {o2} to {r}."),
    "pick_two_same": ("Put two {many} {prep} {r}.", "Place a pair of {many} {prep} {r}."),
    "pick_two_cold": (
        "Chill {o} and {o2} in the {fridge}, then put both {prep} {r}.",
        "Put a cold {bare} and a cold {bare2} {prep} {r}.",
    ),
    "pick_and_place_with_movable_recep": (
        "Put {o} {mprep} {m} and move it to {r}.",
        "Place {m} with {o} {mprep} it {prep} {r}.",
    ),
}

SLICED_TEMPLATES: dict[str, tuple[str, ...]] = {
    "pick_and_place_simple": ("Slice {o} and put a slice {prep} {r}.",),
    "pick_heat_then_place_in_recep": (
        "Slice {o}, heat a slice in the microwave, then put it {prep} {r}.",
        "Put a microwaved slice of {bare} {prep} {r}.",
    ),
    "pick_cool_then_place_in_recep": (
        "Slice {o}, chill a slice in the {fridge}, then put it {prep} {r}.",
        "Put a chilled slice of {bare} {prep} {r}.",
    ),
    "pick_two_same": ("Slice two {many} and put a slice of each {prep} {r}.",),
}


def render(kind: str, rng: random.Random, *, sliced: bool = False, **parts: str) -> str:
    templates = SLICED_TEMPLATES.get(kind, TEMPLATES[kind]) if sliced else TEMPLATES[kind]
    text = rng.choice(templates).format(**parts)
    return text[0].upper() + text[1:]


_DISTRACTIONS = (
    "Although there is {x} {xprep} the {y}, {instr}",
    "{Instr} Don't worry about the {xn} {xprep} the {y}; it can stay where it is.",
    "My guests are coming over soon and the place is a bit of a mess. {Instr}",
    "{Instr} After that you can take a break, the {xn} {xprep} the {y} is someone else's job.",
    "I was going to tidy up the {y} myself, but first things first: {instr}",
)


def complexify(instruction: str, world: World, rng: random.Random) -> str:
    """Wrap an instruction in true but irrelevant context about the house (complex_instruction style)."""
    objects = sorted(n for n, e in world.entities.items() if world.spec(n).pickable and e.parent is not None)
    distractor = world.entities[rng.choice(objects)]
    container = world.entities[distractor.parent or ""]
    parts = {
        "x": article(noun(distractor.type)),
        "xn": noun(distractor.type),
        "xprep": world.catalog[container.type].preposition,
        "y": noun(container.type),
        "instr": instruction[0].lower() + instruction[1:],
        "Instr": instruction,
    }
    return rng.choice(_DISTRACTIONS).format(**parts)
