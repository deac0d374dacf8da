"""Relation vocabulary and the functional-relation rules a robot's world obeys.

A relation is *functional* when its subject can have only one value of it at a time; such relations are
grouped, and only edges with the **same subject and the same group** ever conflict (invalidating anything
wider was graphiti's over-invalidation bug, #1728):

* ``location``: an object (or the agent, or an anchored appliance) is ``in`` / ``on`` / ``at`` / ``under``
  exactly one non-room thing: "Mug on Table" and "Mug in Sink" conflict, "Mug in Sink" and "Fork in Sink"
  do not.
* ``room``: a thing (furniture, the agent) is in exactly one room (a vertex of kind ``place``).
* ``holding``: a thing is held by at most one holder. A holder may hold several things (an inventory, as
  :attr:`envs.base.Perception.holding` is): how many is the environment's limit, which it enforces itself
  (EB-ALFRED / EB-Habitat: one). A clear of the group ("I hold nothing", "I hold only these") retires them.
* ``left_of`` / ``right_of``: a piece of furniture has one neighbour on each side.

Cross-group rules: an object that is held is in no container (a new ``holding`` retires the object's
``location`` and ``room`` edges), and an object newly seen somewhere is no longer held.

Perceivable states (``open``, ``on``, ``sliced``) are single-valued node attributes, not relations.
"""

from __future__ import annotations

import re

__all__ = (
    "HOLDING",
    "LOCATION_RELATIONS",
    "functional_group",
    "normalize_relation",
    "normalize_state",
)

HOLDING = "holding"
#: Relations that say where something is.
LOCATION_RELATIONS = frozenset({"in", "on", "at", "under"})
_SIDES = frozenset({"left_of", "right_of"})

#: Synonyms an LLM (or another environment) may use, mapped onto the vocabulary above.
_ALIASES: dict[str, str] = {
    "inside": "in",
    "inside_of": "in",
    "is_in": "in",
    "located_in": "in",
    "within": "in",
    "on_top_of": "on",
    "onto": "on",
    "is_on": "on",
    "atop": "on",
    "located_at": "at",
    "is_at": "at",
    "next_to": "near",
    "beside": "near",
    "close_to": "near",
    "is_near": "near",
    "holds": HOLDING,
    "hold": HOLDING,
    "is_holding": HOLDING,
    "carries": HOLDING,
    "carrying": HOLDING,
    "to_the_left_of": "left_of",
    "to_the_right_of": "right_of",
    "beneath": "under",
    "below": "under",
}
#: Relations stated from the other end: "Fridge contains Apple" is stored as "Apple in Fridge".
_REVERSED: dict[str, str] = {"contains": "in", "held_by": HOLDING, "supports": "on"}

_STATE_ALIASES: dict[str, tuple[str, bool]] = {
    "open": ("open", True),
    "opened": ("open", True),
    "closed": ("open", False),
    "on": ("on", True),
    "turned_on": ("on", True),
    "off": ("on", False),
    "turned_off": ("on", False),
    "sliced": ("sliced", True),
    "clean": ("clean", True),
    "dirty": ("clean", False),
    "hot": ("hot", True),
    "cold": ("cold", True),
}

_WORD = re.compile(r"[^a-z0-9]+")


def _snake(text: str) -> str:
    return _WORD.sub("_", text.strip().lower()).strip("_")


def normalize_relation(subject: str, relation: str, obj: str) -> tuple[str, str, str]:
    """``(subject, relation, object)`` with the relation in the vocabulary, reversed ones turned around."""
    rel = _snake(relation)
    if rel in _REVERSED:
        return obj, _REVERSED[rel], subject
    return subject, _ALIASES.get(rel, rel), obj


def normalize_state(state: str, value: bool) -> tuple[str, bool]:
    """``("closed", True)`` → ``("open", False)``: every state is one boolean per node."""
    name = _snake(state)
    if name in _STATE_ALIASES:
        canonical, positive = _STATE_ALIASES[name]
        return canonical, positive if value else not positive
    return name, value


def functional_group(relation: str, object_kind: str) -> str | None:
    """The group within which a subject holds one value of ``relation``, or ``None`` (e.g. ``near``)."""
    if relation in LOCATION_RELATIONS:
        return "room" if object_kind == "place" else "location"
    if relation == HOLDING:
        return HOLDING
    if relation in _SIDES:
        return relation
    return None
