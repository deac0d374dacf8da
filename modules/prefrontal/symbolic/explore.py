"""Exploration: where to look when no believed instance fits a description.

ALFRED can ``find`` any instance by name, so it looks at candidates one by one (opening the closed receptacle
a found one hides in). Habitat can only go to receptacles, so it searches them: first where memory puts a
candidate (this episode's beliefs, then older hints, most confident first, then where semantic lessons say
the house keeps such things), then receptacles not searched this
episode (for "the apple on the table", tables first; then where such things are usually kept, see
:mod:`.priors`; open surfaces before doors to open), and only when
everything was searched, the ones searched longest ago — memory may have lost what it saw there.
"""

from __future__ import annotations

from envs.task import Ref
from modules.prefrontal.symbolic.priors import is_likely, likely_places
from modules.prefrontal.symbolic.resolve import NO, YES, Candidates, match
from modules.prefrontal.symbolic.tactics import Builder

__all__ = ("explore_container", "explore_object")


def explore_object(
    builder: Builder,
    ref: Ref,
    cands: Candidates,
    unlocated: tuple[str, ...] = (),
    anyway: tuple[str, ...] = (),
    *,
    priors: bool = True,
) -> bool:
    """Plan a look for an instance of ``ref``: ``maybe`` candidates, plus ``yes`` ones whose place is
    unknown (Habitat). ``anyway``: places the task will visit regardless (the fridge of a cooling task, the
    target receptacle), searched first because looking there costs little extra. Returns whether anything
    was planned."""
    if builder.skills.alfred:
        return _look_kept(builder, ref) or _look_alfred(builder, cands.maybe)
    return _search_habitat(builder, ref, (*cands.maybe, *unlocated), anyway, priors)


def _look_kept(builder: Builder, ref: Ref) -> bool:
    """ALFRED: look where lessons say this house keeps such things, before looking at instances one by one
    (Habitat orders them into its search instead)."""
    b = builder.b
    searched, before = b.searched(), len(builder.actions)
    relation = ref.relation
    target = relation.target if relation is not None and relation.relation in ("in", "on") else None
    for place in b.kept.get(ref.type, ()):
        if place in searched or (place in b.facts.visits and place != b.location):
            continue  # seen inside, or went there and could not open it: look elsewhere
        if target is not None and match(b, target, place) == NO:
            continue  # "the mug in the cabinet left of the fridge": not where another mug was found
        if place != b.location:
            builder.go(place)
        builder.open_here(place)
        if len(builder.actions) > before:
            builder.stop(f"lessons say {ref.type} is kept at {place}")
            return True
        builder.stopped = False
    return False


def _look_alfred(builder: Builder, names: tuple[str, ...]) -> bool:
    b = builder.b

    def priority(name: str) -> tuple[bool, bool, int]:
        hidden = b.place_of(name) is not None and b.is_open(b.place_of(name) or "") is False
        return (not hidden, name in b.facts.found, names.index(name))

    before = len(builder.actions)
    for name in sorted(names, key=priority):
        place = b.place_of(name)
        if place is not None and b.is_open(place) is False:
            if place != b.location:
                builder.go(name)
            builder.open_here(place)
        elif name in b.facts.found and (b.get(name).visible or place is not None):
            continue  # already looked at it; looking again tells nothing new
        else:
            builder.go(name)
        if len(builder.actions) > before:
            builder.stop(f"looking at {name}")
            return True
        builder.stopped = False  # that one offered nothing to do; try the next
    return False


def _search_habitat(
    builder: Builder, ref: Ref, names: tuple[str, ...], anyway: tuple[str, ...], priors: bool
) -> bool:
    b = builder.b
    places = list(b.skills.places())
    searched = b.searched()
    suggested: list[str] = []
    for name in names:
        place = b.place_of(name)
        if place is not None:
            suggested.append(place)  # believed there this episode (behind a door, or it would be a 'yes')
    hints = sorted(((h, conf) for n in names for h, conf in b.get(n).hints), key=lambda h: -h[1])
    suggested += [h for h, _ in hints if h not in searched]
    suggested += [p for p in b.kept.get(ref.type, ()) if p not in searched and p in places]
    suggested += [p for p in anyway if p in places and p not in searched]
    relation = ref.relation
    target = relation.target if relation is not None and relation.relation in ("in", "on") else None

    likely = likely_places(ref.type) if priors else ()

    def order(place: str) -> tuple[bool, bool, bool, bool, int]:
        verdict = YES if target is None else match(b, target, place)
        fits_relation = verdict != NO
        usual = is_likely(b.type_of(place), likely)
        # Places not visited this episode before those visited: a visit may have shown that a place fits
        # no description, which the agent can forget once it left the room (without spatial memory), and
        # going back and forth between two such places would never end. Cheap looks first: an open surface
        # takes one step, a door two.
        visited = place in b.facts.visits and place != b.location and verdict != YES
        return (not fits_relation, visited, not usual, b.skills.openable(place), places.index(place))

    avoided = b.avoided()  # would not open, or the critic vetoed it: nothing to see there
    suggested = [p for p in suggested if p not in avoided]
    places = [p for p in places if p not in avoided]
    fresh = sorted((p for p in places if p not in searched), key=order)
    if not fresh:
        # Everything searched: memory may have dropped what it saw; revisit the oldest visits first.
        fresh = sorted((p for p in places if p != b.location), key=lambda p: b.facts.visits.get(p, -1))
    before = len(builder.actions)
    for place in dict.fromkeys([*suggested, *fresh]):
        _search(builder, place)
        if len(builder.actions) > before:
            builder.stop(f"searching {place}")
            return True
        builder.stopped = False  # that one offered nothing to do; try the next
    return False


def _search(builder: Builder, place: str) -> None:
    builder.go(place)
    if builder.is_open(place) is False:
        builder.open_here(place)


def explore_container(builder: Builder, ref: Ref, cands: Candidates) -> bool:
    """Go and look at a receptacle that may fit: one in a room not seen yet reveals that whole room. A
    movable container (a mug to put things in) is looked for like any object."""
    b = builder.b
    if any(b.skills.pickable(n) for n in cands.maybe):
        return explore_object(builder, ref, cands)
    names = sorted(cands.maybe, key=lambda n: (b.get(n).room is not None, n in b.facts.found))
    before = len(builder.actions)
    for name in names:
        if name == builder.at:
            continue
        builder.go(name)
        if len(builder.actions) > before:
            builder.stop(f"looking at {name}")
            return True
        builder.stopped = False  # that one offered nothing to do; try the next
    return False
