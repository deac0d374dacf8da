"""The skill grammars the offline planner and critic speak (EB-ALFRED's ``find a X`` family and EB-Habitat's
``navigate to the X`` family), read only from the skill list an episode offers.

The skill list doubles as a small domain description: which types can be picked, opened, toggled or sliced,
and (ALFRED's appended ``Cabinet_2`` actions, Habitat's per-name actions) which instances exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

__all__ = (
    "ALFRED",
    "COOLERS",
    "DROP",
    "FAUCETS",
    "HABITAT",
    "HEATERS",
    "KNIVES",
    "PUT_DOWN",
    "WASHERS",
    "SkillCall",
    "SkillSet",
    "parse_skill",
)

ALFRED, HABITAT = "alfred", "habitat"
PUT_DOWN = "put down the object in hand"
DROP = "drop the object in hand"

#: Domain knowledge the task types rest on (ALFRED semantics): in a fridge → cold; in a microwave that is on
#: → hot; in a sink whose faucet is on → clean; slicing needs one of the knives.
COOLERS = frozenset({"Fridge", "refrigerator"})
HEATERS = frozenset({"Microwave"})
WASHERS = frozenset({"Sink"})
FAUCETS = frozenset({"Faucet"})
KNIVES = ("Knife", "ButterKnife")

_PREFIXES: tuple[tuple[str, str], ...] = (
    ("find a ", "find"),
    ("navigate to the ", "navigate"),
    ("pick up the ", "pick"),
    ("place at the ", "place"),
    ("open the ", "open"),
    ("close the ", "close"),
    ("turn on the ", "on"),
    ("turn off the ", "off"),
    ("slice the ", "slice"),
)
_ALFRED_SUFFIX = re.compile(r"^(.+)_(\d+)$")
_HABITAT_SUFFIX = re.compile(r"^(.+) (\d+)$")


@dataclass(frozen=True)
class SkillCall:
    """A parsed skill: ``verb`` (``find``, ``navigate``, ``pick``, ``put``, ``drop``, ``place``, ``open``,
    ``close``, ``on``, ``off``, ``slice``) and the name it acts on, if any."""

    verb: str
    arg: str | None = None


def parse_skill(action: str) -> SkillCall | None:
    text = action.strip()
    if text == PUT_DOWN:
        return SkillCall("put")
    if text == DROP:
        return SkillCall("drop")
    for prefix, verb in _PREFIXES:
        if text.startswith(prefix) and len(text) > len(prefix):
            return SkillCall(verb, text[len(prefix) :])
    return None


class SkillSet:
    """One episode's skill list with the lookups the planner needs."""

    def __init__(self, skills: tuple[str, ...], fallback_profile: str = ALFRED) -> None:
        self.skills = skills
        self._set = frozenset(skills)
        if any(s.startswith("find a ") for s in skills):
            self.profile = ALFRED
        elif any(s.startswith("navigate to the ") for s in skills):
            self.profile = HABITAT
        else:
            self.profile = fallback_profile

    def __contains__(self, action: object) -> bool:
        return action in self._set

    @property
    def alfred(self) -> bool:
        return self.profile == ALFRED

    def can(self, verb: str, name: str) -> bool:
        """Whether the list has ``verb`` for ``name`` (ALFRED's first instance uses the type-level skill)."""
        return self.text(verb, name) in self._set

    def text(self, verb: str, name: str | None = None) -> str:
        if verb == "put":
            return PUT_DOWN
        if verb == "drop":
            return DROP
        prefix = next(p for p, v in _PREFIXES if v == verb)
        return prefix + (name or "")

    @cached_property
    def _args(self) -> dict[str, tuple[str, ...]]:
        by_verb: dict[str, list[str]] = {}
        for skill in self.skills:
            call = parse_skill(skill)
            if call is not None and call.arg is not None:
                by_verb.setdefault(call.verb, []).append(call.arg)
        return {verb: tuple(args) for verb, args in by_verb.items()}

    def args(self, verb: str) -> tuple[str, ...]:
        return self._args.get(verb, ())

    @cached_property
    def types(self) -> frozenset[str]:
        """ALFRED: every type of the catalogue (type-level ``find a T``); Habitat: the types of all names."""
        if self.alfred:
            return frozenset(a for a in self.args("find") if _ALFRED_SUFFIX.match(a) is None)
        return frozenset(self.type_of(n) for v in ("navigate", "pick") for n in self.args(v))

    def type_of(self, name: str) -> str:
        """``Cabinet_2`` → ``Cabinet`` (ALFRED), ``table 2`` → ``table`` (Habitat); else the name itself."""
        match = (_ALFRED_SUFFIX if self.alfred else _HABITAT_SUFFIX).match(name)
        return match.group(1) if match else name

    @cached_property
    def _instances(self) -> dict[str, tuple[str, ...]]:
        named: dict[str, list[str]] = {}
        verbs = ("find",) if self.alfred else ("navigate", "pick")
        for verb in verbs:
            for name in self.args(verb):
                named.setdefault(self.type_of(name), []).append(name)
        out: dict[str, tuple[str, ...]] = {}
        for type_name, names in named.items():
            if self.alfred and type_name not in names:
                names.insert(0, type_name)
            out[type_name] = tuple(sorted(dict.fromkeys(names), key=_order))
        return out

    def instances(self, type_name: str) -> tuple[str, ...]:
        """Names the skill list reveals for a type. In ALFRED the first instance is named like its type and
        only exists if the house has that type at all."""
        return self._instances.get(type_name, ())

    def places(self) -> tuple[str, ...]:
        """Habitat: every receptacle one can navigate to, in skill-list (room) order."""
        return self.args("navigate")

    def pickable(self, name: str) -> bool:
        return self.can("pick", name) or self.can("pick", self.type_of(name))

    def openable(self, name: str) -> bool:
        return self.can("open", name) or (self.alfred and self.can("open", self.type_of(name)))

    def toggleable(self, name: str) -> bool:
        return self.can("on", name) or (self.alfred and self.can("on", self.type_of(name)))


def _order(name: str) -> tuple[int, str]:
    """``Cabinet`` < ``Cabinet_2`` < ``Cabinet_10``; ``table 1`` < ``table 2``."""
    for pattern in (_ALFRED_SUFFIX, _HABITAT_SUFFIX):
        match = pattern.match(name)
        if match:
            return int(match.group(2)), match.group(1)
    return 0, name
