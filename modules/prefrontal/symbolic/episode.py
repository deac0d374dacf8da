"""What the episode's own history says: a replay of the executed actions and their feedback.

Perception cannot show ``clean``, ``hot`` or ``cold``; the agent knows them because it caused them (put in a
sink, faucet turned on → clean). The replay also yields what no single observation holds: places visited
and opened, instances found, things picked (their starting container is no longer observable), names that
do not exist, receptacles that did not take an object, and ALFRED's implicit ``put down`` target.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from envs.skill_language import (
    COOLERS,
    FAUCETS,
    HEATERS,
    WASHERS,
    Feedback,
    SkillSet,
    parse_skill,
    strip_invalid,
)
from modules.prefrontal.base import ExecutedAction
from modules.prefrontal.failures import stuck_name

__all__ = ("EpisodeFacts", "replay")

#: A name on the floor of whatever room the agent was in (ALFRED ``drop``; a put with no target).
FLOOR = "<floor>"


@dataclass
class EpisodeFacts:
    #: Index in the history of the last visit (find / navigate) of each place, and of each opening.
    visits: dict[str, int] = field(default_factory=dict)
    opened: dict[str, int] = field(default_factory=dict)
    #: States the agent set itself (``open``, ``on``), newest value per name.
    set_states: dict[str, dict[str, bool]] = field(default_factory=dict)
    #: Unperceivable states the agent caused (``clean``, ``hot``, ``cold``) and things it sliced.
    caused: dict[str, dict[str, bool]] = field(default_factory=dict)
    #: Where the agent put things (container, or ``FLOOR``).
    contents: dict[str, str] = field(default_factory=dict)
    #: ALFRED: instances found this episode (history index); Habitat: unused.
    found: dict[str, int] = field(default_factory=dict)
    picked: set[str] = field(default_factory=set)
    missing: set[str] = field(default_factory=set)
    hidden_in: dict[str, str] = field(default_factory=dict)
    #: (object type, receptacle) pairs that refused the object although they were open.
    unfit: set[tuple[str, str]] = field(default_factory=set)
    #: Receptacles a put failed on because they were closed (as far as the feedback says).
    closed: set[str] = field(default_factory=set)
    #: Receptacles that would not open although the agent was there ("is jammed"): not worth another try.
    stuck: set[str] = field(default_factory=set)
    failures: Counter[str] = field(default_factory=Counter)
    held: str | None = None
    at: str | None = None
    put_target: str | None = None
    #: The last successful move (``find`` / ``navigate``), with its history index.
    last_find: tuple[str, int] | None = None


def replay(
    history: tuple[ExecutedAction, ...],
    skills: SkillSet,
    *,
    parent_of: Callable[[str], str | None],
    place_of: Callable[[str], str | None],
    is_container: Callable[[str], bool],
) -> EpisodeFacts:
    """Replay ``history``. ``parent_of`` / ``place_of`` / ``is_container`` are the current beliefs about
    things the history alone cannot place (ALFRED's ``find a Mug`` goes to wherever the mug is)."""
    facts = EpisodeFacts()
    for i, step in enumerate(history):
        call = parse_skill(step.action)
        if call is None:
            continue
        if not step.success:
            facts.failures[step.action] += 1
            _learn_from_failure(facts, skills, step.feedback)
            if call.verb == "open" and (name := stuck_name(step.feedback)) is not None:
                facts.stuck.add(name if name in skills.args("open") or not call.arg else call.arg)
            continue
        _apply(facts, skills, call.verb, call.arg, i, parent_of, place_of, is_container)
    return facts


def _learn_from_failure(facts: EpisodeFacts, skills: SkillSet, feedback: str) -> None:
    feedback = strip_invalid(feedback)
    if match := Feedback.MISSING.search(feedback):
        facts.missing.add(match.group(1))
    if match := Feedback.HIDDEN.search(feedback):
        facts.hidden_in[match.group(1)] = match.group(2)
        facts.closed.add(match.group(2))
        facts.at = match.group(2)  # ALFRED says so only when the agent stands at that receptacle
    if match := Feedback.ALREADY.search(feedback):
        state = "open" if match.group(3) in ("open", "closed") else "on"
        facts.set_states.setdefault(match.group(2), {})[state] = match.group(3) in ("open", "on")
    if match := Feedback.PUT_FAILED.search(feedback):
        target = match.group(1)
        if facts.held is not None:
            # Open (we opened it, or it cannot be closed) and still refused: the object does not fit.
            if facts.set_states.get(target, {}).get("open") or not skills.openable(target):
                facts.unfit.add((skills.type_of(facts.held), target))
            else:
                facts.closed.add(target)
    if match := Feedback.NO_FIT.search(feedback):
        facts.unfit.add((skills.type_of(match.group(1)), match.group(2)))
    if match := Feedback.CLOSED.search(feedback):
        facts.closed.add(match.group(1))


def _apply(
    facts: EpisodeFacts,
    skills: SkillSet,
    verb: str,
    arg: str | None,
    i: int,
    parent_of: Callable[[str], str | None],
    place_of: Callable[[str], str | None],
    is_container: Callable[[str], bool],
) -> None:
    if verb in ("find", "navigate") and arg is not None:
        facts.found[arg] = i
        facts.last_find = (arg, i)
        if skills.pickable(arg):
            # ALFRED goes to wherever the object is; "put down" then aims at the object's container, or
            # at the object itself when it is a container.
            facts.at = place_of(arg)
            facts.put_target = arg if is_container(arg) else parent_of(arg)
        else:
            # An anchored appliance (a faucet at its sink) is reached at its anchor.
            facts.at = parent_of(arg) or arg
            facts.put_target = facts.at
        if facts.at is not None:
            facts.visits[facts.at] = i
    elif verb == "pick" and arg is not None:
        facts.held = arg
        facts.picked.add(arg)
        facts.hidden_in.pop(arg, None)
        was_in = facts.contents.pop(arg, None) or facts.at
        if was_in is not None and skills.type_of(was_in) in COOLERS:
            _cause(facts, arg, cold=True, hot=False)  # taken out of a fridge: it is cold
        if facts.put_target == arg:
            facts.put_target = facts.at
    elif verb in ("put", "place", "drop"):
        held, facts.held = facts.held, None
        if held is None:
            return
        target = arg if verb == "place" else (facts.put_target if verb == "put" else None)
        facts.contents[held] = target or FLOOR
        if target is not None:
            _effects_of_entering(facts, skills, held, target, parent_of)
    elif verb in ("open", "close") and arg is not None:
        facts.set_states.setdefault(arg, {})["open"] = verb == "open"
        facts.at = arg  # opening and closing happen where the receptacle is
        if verb == "open":
            facts.opened[arg] = i
            facts.put_target = arg
            facts.closed.discard(arg)
    elif verb in ("on", "off") and arg is not None:
        _toggle(facts, skills, arg, verb == "on", parent_of)
    elif verb == "slice" and arg is not None:
        _cause(facts, arg, sliced=True)


def _cause(facts: EpisodeFacts, name: str, **states: bool) -> None:
    facts.caused.setdefault(name, {}).update(states)


def _effects_of_entering(
    facts: EpisodeFacts, skills: SkillSet, obj: str, target: str, parent_of: Callable[[str], str | None]
) -> None:
    kind = skills.type_of(target)
    if kind in COOLERS:
        _cause(facts, obj, cold=True, hot=False)
    elif kind in HEATERS and facts.set_states.get(target, {}).get("on"):
        _cause(facts, obj, hot=True, cold=False)
    elif kind in WASHERS and any(
        s.get("on") and parent_of(f) == target
        for f, s in facts.set_states.items()
        if skills.type_of(f) in FAUCETS
    ):
        _cause(facts, obj, clean=True)


def _toggle(
    facts: EpisodeFacts, skills: SkillSet, name: str, on: bool, parent_of: Callable[[str], str | None]
) -> None:
    facts.set_states.setdefault(name, {})["on"] = on
    if not on:
        return
    kind = skills.type_of(name)
    if kind in FAUCETS:
        # The faucet one can turn on is the one at the sink where the agent stands.
        sink = facts.at if facts.at is not None and skills.type_of(facts.at) in WASHERS else parent_of(name)
        for obj, where in facts.contents.items():
            if where == sink:
                _cause(facts, obj, clean=True)
    elif kind in HEATERS:
        for obj, where in facts.contents.items():
            if where == name:
                _cause(facts, obj, hot=True, cold=False)
