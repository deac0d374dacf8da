"""The goal as an agenda of items, and which believed instances already satisfy each one.

Conditions about the same description merge into one item (``an egg is clean`` + ``an egg is on a counter``
→ one egg, clean, on a counter). Semantics match ``envs/household/goals.py``: at least ``count`` distinct
instances fitting the description, with every state, (transitively) inside something fitting ``inside``,
held when ``held``. Nesting (``o in m``, ``m in r``, ``o in r``) becomes "put o in m" then "put m in r".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from envs.task import Condition, Ref
from modules.prefrontal.symbolic.beliefs import BeliefState
from modules.prefrontal.symbolic.resolve import YES, match

__all__ = ("Item", "agenda", "satisfying")


@dataclass(frozen=True)
class Item:
    ref: Ref
    states: tuple[str, ...] = ()
    #: Where the instances must end up (``None``: anywhere).
    inside: Ref | None = None
    count: int = 1
    held: bool = False
    #: Other items' instances go into this item's instances first (a bowl carrying the apple).
    vessel: bool = False
    #: Working order: items of a lower stage come first; items of one stage may go in any order.
    stage: int = 0

    @property
    def placement(self) -> bool:
        return self.inside is not None


def _key(ref: Ref) -> str:
    return ref.model_dump_json()


@dataclass
class _Merged:
    ref: Ref
    states: list[str] = field(default_factory=list)
    insides: list[Ref] = field(default_factory=list)
    count: int = 1
    held: bool = False


def agenda(goal: tuple[Condition, ...]) -> list[Item]:
    """Items in working order: contents of vessels, other placements, vessels, held things, then states of
    things that stay put (a lamp turned on)."""
    merged: dict[str, _Merged] = {}
    for c in goal:
        entry = merged.setdefault(_key(c.object), _Merged(c.object))
        entry.states.extend(s for s in c.states if s not in entry.states)
        if c.inside is not None and _key(c.inside) not in {_key(r) for r in entry.insides}:
            entry.insides.append(c.inside)
        entry.count = max(entry.count, c.count)
        entry.held = entry.held or c.held
    vessels: set[str] = set()
    inner: dict[str, Ref | None] = {}
    for key, entry in merged.items():
        inner[key] = entry.insides[-1] if entry.insides else None
        mine = {_key(r) for r in entry.insides}
        for candidate in entry.insides if len(entry.insides) > 1 else ():
            # The innermost container is the one that is itself put into one of the others.
            outer = merged.get(_key(candidate))
            if outer is not None and any(_key(o) in mine for o in outer.insides):
                inner[key] = candidate
                vessels.add(_key(candidate))
    items = []
    for key, e in merged.items():
        inside = inner[key]
        if inside is not None:
            stage = 0 if _key(inside) in vessels else (2 if key in vessels else 1)
        else:
            stage = 3 if e.held else 4
        items.append(Item(e.ref, tuple(e.states), inside, e.count, e.held, key in vessels, stage))
    return sorted(items, key=lambda item: item.stage)


def satisfying(beliefs: BeliefState, item: Item) -> list[str]:
    """Instances believed to satisfy ``item`` (it is done when there are ``count`` of them)."""
    done = []
    for name in beliefs.instances(item.ref.type):
        if match(beliefs, item.ref, name) != YES:
            continue
        thing = beliefs.get(name)
        if not all(thing.states.get(s, False) for s in item.states):
            continue
        if item.held and name not in beliefs.holding:
            continue
        if item.inside is not None and not any(
            match(beliefs, item.inside, c) == YES for c in beliefs.ancestors(name)
        ):
            continue
        done.append(name)
    return done
