"""The planner's output contract (EmbodiedBench's JSON plan) and its parsing rules.

Rules, in order (EmbodiedBench ``planner_utils.py``, plus two decisions of ours marked *):

1. No JSON object, or one without ``executable_plan``, or ``executable_plan`` not a list → output error.
   The other keys are asked for but not needed: EB reads only ``executable_plan`` (and only its ids).
2. ``executable_plan == []`` → the empty plan (EB's ``empty_plan``: the episode ends). Not an error.
3. Each entry resolves to one skill of the *current* list:
   - the name matches a skill (exactly, else case- and whitespace-insensitively and unambiguously) →
     that skill, even when the id points elsewhere*: models miscount ids in long lists far more often
     than they mistype a name they copied, and the name is what they meant;
   - no name given and the id is in range → the id's skill (EB itself reads only the id);
   - otherwise (id out of range and no usable name, or a name that is no skill*) → a bad entry. A name
     that is no skill is not rescued by its id: the model described an action that does not exist,
     so the id is a guess too.
4. A bad *first* entry → output error (EB's -1: invalid, re-plan). A bad *later* entry truncates the
   plan before it (EB's "later bad id truncates").
5. The plan is capped at ``max_len`` actions (EB asks for at most 20).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ("ESSENTIAL_KEYS", "PLAN_KEYS", "ParsedPlan", "parse_plan", "plan_schema")

#: The keys of EB's plan object, in the order the model should write them (describe, reason, then act).
PLAN_KEYS = ("visual_state_description", "reasoning_and_reflection", "language_plan", "executable_plan")
#: What a reply cannot do without (EB's ``json_to_action`` reads nothing else).
ESSENTIAL_KEYS = ("executable_plan",)
_STRIP = " \t\r\n\"'`.;,"


def plan_schema(*, visual: bool) -> dict[str, Any]:
    """The JSON schema of a plan; without images (``visual=False``) EB drops ``visual_state_description``.

    Every property is required and no others are allowed, as OpenAI's strict mode demands."""
    action = {
        "type": "object",
        "properties": {"action_id": {"type": "integer"}, "action_name": {"type": "string"}},
        "required": ["action_id", "action_name"],
        "additionalProperties": False,
    }
    properties: dict[str, Any] = {
        "visual_state_description": {"type": "string"},
        "reasoning_and_reflection": {"type": "string"},
        "language_plan": {"type": "string"},
        "executable_plan": {"type": "array", "items": action},
    }
    if not visual:
        del properties["visual_state_description"]
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class ParsedPlan:
    """``error``: why the reply is unusable (``None``: usable); ``notes``: what was repaired or cut."""

    actions: tuple[str, ...] = ()
    reasoning: str = ""
    empty: bool = False
    error: str | None = None
    notes: tuple[str, ...] = ()


def _norm(text: str) -> str:
    return " ".join(text.strip(_STRIP).split()).lower()


class _Skills:
    """Lookup of the current skill list by id and by (normalized) name."""

    def __init__(self, skills: Sequence[str]) -> None:
        self.skills = tuple(skills)
        self.exact = {s: i for i, s in reversed(list(enumerate(self.skills)))}
        loose: dict[str, list[int]] = {}
        for i, s in enumerate(self.skills):
            loose.setdefault(_norm(s), []).append(i)
        self.loose = loose

    def by_name(self, name: str, hint: int | None) -> int | None:
        if name in self.exact:
            return hint if hint is not None and self.skills[hint] == name else self.exact[name]
        matches = self.loose.get(_norm(name), [])
        if hint in matches:
            return hint
        return matches[0] if len(matches) == 1 else None


def _as_id(value: object) -> int | None:
    if isinstance(value, bool):  # bool is an int subclass; True is no action id
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def _resolve(entry: object, lookup: _Skills) -> tuple[int | None, str]:
    """(skill index or None, a note or the reason it failed)."""
    if not isinstance(entry, Mapping):
        return None, f"entry {entry!r} is not an object with action_id and action_name"
    raw_id, raw_name = entry.get("action_id"), entry.get("action_name")
    action_id = _as_id(raw_id)
    in_range = action_id is not None and 0 <= action_id < len(lookup.skills)
    name = raw_name.strip() if isinstance(raw_name, str) else ""
    if name:
        index = lookup.by_name(name, action_id if in_range else None)
        if index is None:
            return None, f"action {name!r} (id {raw_id!r}) is not in the action list"
        if index != action_id:
            return index, f"id {raw_id!r} does not match {name!r}; used the name (id {index})"
        return index, ""
    if in_range:
        assert action_id is not None
        return action_id, ""
    return None, f"action id {raw_id!r} is out of range 0..{len(lookup.skills) - 1} and has no name"


def parse_plan(
    data: Mapping[str, Any] | None,
    skills: Sequence[str],
    *,
    max_len: int,
    required: Sequence[str] = ESSENTIAL_KEYS,
    json_error: str | None = None,
) -> ParsedPlan:
    """Apply the rules of the module docstring to a parsed reply (``None``: no JSON object, ``json_error``
    says why). ``required``: keys whose absence makes the reply an output error."""
    if data is None:
        return ParsedPlan(error=json_error or "no JSON object in the reply")
    missing = [key for key in required if key not in data]
    if missing:
        return ParsedPlan(error=f"the JSON object lacks the keys {', '.join(missing)}")
    reasoning = "\n".join(
        f"{label}: {text.strip()}"
        for label, key in (("Reasoning", "reasoning_and_reflection"), ("Plan", "language_plan"))
        if isinstance(text := data.get(key), str) and text.strip()
    )
    entries = data.get("executable_plan")
    if not isinstance(entries, list):
        return ParsedPlan(reasoning=reasoning, error="executable_plan is not a list")
    if not entries:
        return ParsedPlan(reasoning=reasoning, empty=True)
    lookup = _Skills(skills)
    actions: list[str] = []
    notes: list[str] = []
    for position, entry in enumerate(entries):
        if len(actions) == max_len:
            notes.append(f"plan capped at {max_len} of {len(entries)} actions")
            break
        index, note = _resolve(entry, lookup)
        if index is None:
            if position == 0:
                return ParsedPlan(reasoning=reasoning, error=f"first action: {note}")
            notes.append(f"plan truncated before entry {position}: {note}")
            break
        if note:
            notes.append(f"entry {position}: {note}")
        actions.append(lookup.skills[index])
    return ParsedPlan(actions=tuple(actions), reasoning=reasoning, notes=tuple(notes))
