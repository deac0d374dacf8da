"""Resolving a goal's descriptions ("the black drawer", "the drawer to the left of the side table", "the pot
in the cabinet") against beliefs: each believed instance of the type is a ``yes``, a ``no`` or a ``maybe``
(something the description depends on is not known yet — worth a look)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from envs.task import Ref
from modules.prefrontal.symbolic.beliefs import BeliefState

__all__ = ("MAYBE", "NO", "YES", "Candidates", "Verdict3", "candidates", "match")

Verdict3 = Literal["yes", "no", "maybe"]
YES: Verdict3 = "yes"
NO: Verdict3 = "no"
MAYBE: Verdict3 = "maybe"


def _worst(*verdicts: Verdict3) -> Verdict3:
    if NO in verdicts:
        return NO
    return MAYBE if MAYBE in verdicts else YES


def match(beliefs: BeliefState, ref: Ref, name: str) -> Verdict3:
    """Does ``name`` fit ``ref``, as far as the agent knows?"""
    thing = beliefs.get(name)
    if thing.type != ref.type:
        return NO
    verdicts: list[Verdict3] = []
    for key, value in ref.attributes.items():
        if key == "instance":  # the planner's own description of an instance it remembers
            verdicts.append(YES if name == value else NO)
            continue
        known = thing.attributes.get(key)
        verdicts.append(MAYBE if known is None else (YES if known == value else NO))
    if ref.relation is not None:
        verdicts.append(_relation(beliefs, ref, name))
    verdict = _worst(*verdicts)
    if verdict == MAYBE and name in beliefs.chosen_destinations():
        return YES  # the agent's own earlier choice, made on what it knew then
    return verdict


def _relation(beliefs: BeliefState, ref: Ref, name: str) -> Verdict3:
    assert ref.relation is not None
    relation, target = ref.relation.relation, ref.relation.target
    thing = beliefs.get(name)
    if relation in ("left_of", "right_of"):
        # "X left of Y": Y is X's right-hand neighbour.
        other = thing.right if relation == "left_of" else thing.left
        if other is not None:
            return match(beliefs, target, other)
        return NO if thing.row_known else MAYBE
    if relation in ("in", "on"):
        # Where it was when the episode began. An object the agent moved was chosen because it fitted,
        # and its starting container is no longer observable.
        if name in beliefs.facts.picked or name in beliefs.holding:
            return YES
        if thing.parent is not None and thing.parent_fresh:
            return match(beliefs, target, thing.parent)
        return MAYBE
    return MAYBE


@dataclass(frozen=True)
class Candidates:
    yes: tuple[str, ...]
    maybe: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.yes or self.maybe)


def candidates(beliefs: BeliefState, ref: Ref, *, exclude: frozenset[str] = frozenset()) -> Candidates:
    yes: list[str] = []
    maybe: list[str] = []
    for name in beliefs.instances(ref.type):
        if name in exclude:
            continue
        verdict = match(beliefs, ref, name)
        if verdict == YES:
            yes.append(name)
        elif verdict == MAYBE:
            maybe.append(name)
    return Candidates(tuple(yes), tuple(maybe))
