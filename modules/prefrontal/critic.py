"""The offline default critic (``critic.type: deterministic``): checks the next action's preconditions against
the current beliefs, the way the paper's critic judges "whether the proposed action remains appropriate under
the latest environment".

It objects only when the beliefs say the action will fail (holding something before ``pick up``, the target
not here, a closed receptacle, no knife for ``slice``, a door already open...), or when **memory** says it
will: an action that failed in this house for a reason that lasts ("The drawer 3 is jammed") in a retrieved
episode, or that a retrieved lesson of this house records (:mod:`.failures`) — and going to a place only to
do such an action there. It says why, so the planner can use the reason as reflection; a memory-based
objection is *lasting* (the loop keeps it for the rest of the episode). The planner never reads those
failures itself: catching them is the critic's job, so ``agent.critic=null`` really loses it.

Whatever it does not know, it lets through: the paper's critic is told to
encourage exploration, and a critic that blocks progress is worse than none. A hand or a location the
perception does not report is unknown, not empty or nowhere (a robot may leave them out). A whole skill
grammar it does not know is another matter: it refuses it (:func:`envs.skill_language.require_grammar`), as
the symbolic planner does, rather than wave every action of that environment through unchecked.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from envs.skill_language import KNIVES, SkillCall, SkillSet, parse_skill, require_grammar
from modules.prefrontal.base import PlanningInput, Verdict
from modules.prefrontal.failures import lasting_failures
from modules.prefrontal.symbolic.beliefs import BeliefState

__all__ = ("DeterministicCritic", "DeterministicCriticConfig")

OK = Verdict(True)


class DeterministicCriticConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["deterministic"] = "deterministic"


class DeterministicCritic:
    def __init__(self, config: DeterministicCriticConfig | None = None) -> None:
        self.config = config or DeterministicCriticConfig()

    def review(self, action: str, remaining: tuple[str, ...], inp: PlanningInput) -> Verdict:
        _require(inp)
        b = BeliefState.from_input(inp)
        if action not in b.skills:
            return Verdict(False, f"'{action}' is not in the skill list; use one of the listed skills.")
        call = parse_skill(action)
        if call is None:
            return OK
        remembered = _remembered(b.skills, call, action, remaining, inp)
        if remembered is not None:
            return remembered
        check = _CHECKS.get(call.verb)
        return check(b, call) if check is not None else OK

    def lasting(self, action: str, remaining: tuple[str, ...], inp: PlanningInput) -> Verdict:
        """Only the lasting (memory-based) objections: the loop asks this about a new plan's first action,
        which :meth:`review` never sees (a lasting veto cannot start a replanning loop: the planner leaves
        the action out for the rest of the episode)."""
        _require(inp)  # asked before the first action of each plan: an unknown grammar stops the run there
        call = parse_skill(action)
        if call is None or not inp.memory:
            return OK
        return _remembered(SkillSet(inp.skills, inp.task.profile), call, action, remaining, inp) or OK


def _require(inp: PlanningInput) -> None:
    require_grammar(inp.grammar, "deterministic critic", key="agent.critic.type")


def _remembered(
    skills: SkillSet, call: SkillCall, action: str, remaining: tuple[str, ...], inp: PlanningInput
) -> Verdict | None:
    """A lasting objection when memory says ``action`` fails here, or that going to a place is only to do
    there what memory says fails (the rest of the plan up to its next move)."""
    failures = lasting_failures(inp.memory, skills, inp.task.scene) if inp.memory else {}
    if not failures:
        return None
    if action in failures:
        return Verdict(False, f"Memory: '{action}' will fail: {failures[action]}. Use another one.", True)
    if call.verb not in ("find", "navigate") or call.arg is None:
        return None
    for later in remaining:
        then = parse_skill(later)
        if then is None or then.verb in ("find", "navigate"):
            break
        if later in failures and then.arg == call.arg:
            why = f"Memory: '{later}' will fail: {failures[later]}. Do not go there; use another one."
            return Verdict(False, why, True)
    return None


def _no(reason: str) -> Verdict:
    return Verdict(False, reason)


def _targets(b: BeliefState, name: str) -> list[str]:
    """What an action on ``name`` may act on: the instance, and for ALFRED's bare type any instance of it."""
    names = [name]
    if b.skills.alfred and name in b.skills.types:
        names += [n for n in b.instances(name) if n != name]
    return names


def _where(b: BeliefState, name: str) -> str:
    place = b.place_of(name)
    if place is not None:
        return f" It is believed to be at {place}."
    hint = b.get(name).hints[0][0] if b.get(name).hints else None
    return f" Memory suggests looking at {hint}." if hint else ""


def _go(b: BeliefState, name: str) -> str:
    return f"find the {name}" if b.skills.alfred else f"navigate to where the {name} is"


def _check_find(b: BeliefState, call: SkillCall) -> Verdict:
    if call.arg in b.facts.missing:
        return _no(f"{call.arg} does not exist here (finding it already failed); explore other instances.")
    return OK


def _check_pick(b: BeliefState, call: SkillCall) -> Verdict:
    name = call.arg or ""
    if b.holding:  # EB's robot holds one thing (the grammars this critic reads)
        release = "put it down or drop it" if b.skills.alfred else "place it somewhere"
        return _no(
            f"I am holding {_held(b)} and can hold only one thing: {release} before picking up {name}."
        )
    if not b.perceived or b.visible_of(_targets(b, name)):
        return OK
    here = b.location
    if here is not None and b.is_open(here) is False:
        return _no(f"{name} is not visible: {here} is closed. Open {here} first.")
    return _no(f"{name} is not within reach here.{_where(b, name)} First {_go(b, name)}.")


def _empty_hand(b: BeliefState) -> bool:
    """The hand is known to be empty; an unreported hand with nothing picked up this episode is unknown."""
    return not b.holding and b.knows("holding")


def _held(b: BeliefState) -> str:
    return " and ".join(b.holding)


def _check_put(b: BeliefState, call: SkillCall) -> Verdict:
    if _empty_hand(b):
        return _no("I am not holding anything to put down.")
    target = b.facts.put_target if call.verb == "put" else call.arg
    if call.verb == "place" and b.perceived and b.knows("location") and target != b.location:
        return _no(f"I am not at the {target}: navigate to it before placing anything there.")
    if target is not None and b.is_open(target) is False and b.nearby(target):
        return _no(f"{target} is closed: open it before putting {_held(b) or 'anything'} in.")
    unfit = [h for h in b.holding if (b.type_of(h), target) in b.facts.unfit]
    if target is not None and unfit:
        return _no(f"{unfit[0]} did not fit in {target} before; use another receptacle.")
    return OK


def _check_drop(b: BeliefState, call: SkillCall) -> Verdict:
    return _no("I am not holding anything to drop.") if _empty_hand(b) else OK


def _check_door(b: BeliefState, call: SkillCall) -> Verdict:
    name, opening = call.arg or "", call.verb == "open"
    targets = [n for n in _targets(b, name) if b.nearby(n)]
    if b.perceived and b.knows("location") and not targets:
        return _no(f"{name} is not nearby.{_where(b, name)} First {_go(b, name)}.")
    states = [b.get(n).states.get("open") for n in targets or [name]]
    if states and all(s is opening for s in states):
        return _no(f"{name} is already {'open' if opening else 'closed'}.")
    return OK


def _check_toggle(b: BeliefState, call: SkillCall) -> Verdict:
    name, on = call.arg or "", call.verb == "on"
    targets = [n for n in _targets(b, name) if b.nearby(n)]
    if b.perceived and b.knows("location") and not targets:
        return _no(f"{name} is not nearby.{_where(b, name)} First {_go(b, name)}.")
    states = [b.get(n).states.get("on") for n in targets or [name]]
    if states and all(s is on for s in states):
        return _no(f"{name} is already {'on' if on else 'off'}.")
    return OK


def _check_slice(b: BeliefState, call: SkillCall) -> Verdict:
    name = call.arg or ""
    if _empty_hand(b) or (b.holding and not any(b.type_of(h) in KNIVES for h in b.holding)):
        return _no(f"Slicing needs a knife in hand; pick up a knife before slicing the {name}.")
    if name in b.holding:
        return _no(f"Put the {name} down before slicing it.")
    targets = _targets(b, name)
    if b.perceived and not b.visible_of(targets):
        return _no(f"{name} is not within reach here.{_where(b, name)} First {_go(b, name)}.")
    if all(b.get(n).states.get("sliced") for n in b.visible_of(targets) or [name]):
        return _no(f"{name} is already sliced.")
    return OK


_CHECKS = {
    "find": _check_find,
    "pick": _check_pick,
    "put": _check_put,
    "place": _check_put,
    "drop": _check_drop,
    "open": _check_door,
    "close": _check_door,
    "on": _check_toggle,
    "off": _check_toggle,
    "slice": _check_slice,
}
