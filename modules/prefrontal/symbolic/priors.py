"""Commonsense priors for searching: where a household robot would look first for a kind of thing.

An LLM planner brings this knowledge for free; the offline planner gets a small, explicit table instead
(``SymbolicPlannerConfig.commonsense_priors`` turns it off). It only orders the search of places the agent
knows nothing about: beliefs and memory always come first. Keywords match type names case-insensitively
(thing types by word, places by substring), so both vocabularies work (``CounterTop`` / ``counter``,
``Fridge`` / ``refrigerator``).
"""

from __future__ import annotations

import re

__all__ = ("is_likely", "likely_places")

_KITCHENWARE = ("counter", "cabinet", "sink", "drawer", "table", "shelf")
_FOOD = ("fridge", "refrigerator", "counter", "table", "cabinet")
_TOOLS = ("drawer", "cabinet", "shelf", "table", "desk")
_LEISURE = ("sofa", "shelf", "table", "chair", "tv stand", "drawer", "desk", "bed")

#: (keywords of a thing's type, keywords of the receptacle types where it is usually kept).
_PRIORS: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("mug", "cup", "bowl", "plate", "pan", "pot", "kettle", "pitcher", "glass"), _KITCHENWARE),
    (("spatula", "ladle", "spoon", "fork", "knife", "sponge", "shaker"), _KITCHENWARE),
    (("apple", "banana", "lemon", "orange", "peach", "strawberry", "tomato", "potato"), _FOOD),
    (("lettuce", "bread", "egg", "can", "cracker", "sugar", "wine", "milk"), _FOOD),
    (("hammer", "screwdriver", "padlock", "marker", "pen", "pencil", "key"), _TOOLS),
    (("toy", "ball", "cube", "book", "remote", "phone", "pillow", "cd"), _LEISURE),
)


def likely_places(type_name: str) -> tuple[str, ...]:
    """Receptacle-type keywords where ``type_name`` is usually kept (empty: no idea)."""
    words = set(re.sub(r"(?<=[a-z])(?=[A-Z])", " ", type_name).lower().replace("'", "").split())
    for things, places in _PRIORS:
        if words.intersection(things):
            return places
    return ()


def is_likely(place_type: str, keywords: tuple[str, ...]) -> bool:
    kind = place_type.lower()
    return any(word in kind for word in keywords)
