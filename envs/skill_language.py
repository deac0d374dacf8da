"""The EmbodiedBench skill language, in one place: the skill texts (EB-ALFRED's ``find a X`` family and
EB-Habitat's ``navigate to the X`` family), instance names and their types, the feedback kinds the planner
and memory read, and the invalid-action prefix every environment starts a failed step's feedback with.

It lives with the environments because they define the language (the household profiles and the bridge
speak it) and the brain modules read it: ``modules`` may import ``envs``, never the reverse (import-linter
contract in ``pyproject.toml``), so this is the one layer both can import. The core (``robomem.*``) stays
free of any environment's vocabulary.

An environment declares the grammar it speaks (:attr:`envs.base.Env.grammar`); the offline operations that
read skill texts without a model (symbolic planner, deterministic spatial extractor, lesson rules) refuse any
grammar but :data:`EB_GRAMMAR` with :func:`require_grammar`.

The skill list doubles as a small domain description: which types can be picked, opened, toggled or sliced,
and (ALFRED's appended ``Cabinet_2`` actions, Habitat's per-name actions) which instances exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from robomem.errors import ConfigError

__all__ = (
    "ALFRED",
    "COOLERS",
    "DROP",
    "EB_GRAMMAR",
    "EB_ROBOT",
    "FAUCETS",
    "HABITAT",
    "HEATERS",
    "INVALID_PREFIX",
    "KNIVES",
    "PUT_DOWN",
    "WASHERS",
    "Feedback",
    "ParsedAction",
    "SkillCall",
    "SkillSet",
    "UnknownGrammarError",
    "invalid",
    "parse_action",
    "parse_skill",
    "profile_grammar",
    "require_grammar",
    "skill_text",
    "strip_invalid",
)

#: The grammar name environments speaking this language declare (:attr:`envs.base.Env.grammar`).
EB_GRAMMAR = "embodiedbench"

#: How every environment's feedback for a failed step starts (EmbodiedBench's wording).
INVALID_PREFIX = "Last action is invalid."


def invalid(message: str) -> str:
    """A failed step's feedback: the invalid-action prefix, then why."""
    return f"{INVALID_PREFIX} {message}"


def strip_invalid(feedback: str) -> str:
    """The reason in a failed step's feedback, without the invalid-action prefix."""
    return feedback.removeprefix(INVALID_PREFIX).strip()


#: How prompts name the agent of an environment speaking this language ("You are a household robot").
EB_ROBOT = "household robot"


def profile_grammar(profile: str) -> str:
    """The grammar an action profile implies: EmbodiedBench's for ``alfred`` and ``habitat``, else none."""
    return EB_GRAMMAR if profile in ("alfred", "habitat") else ""


class UnknownGrammarError(ConfigError):
    """An offline operation was configured for an environment whose skill grammar it cannot read."""


def require_grammar(grammar: str, operation: str, *, key: str | None = None) -> None:
    """Refuse, with a message saying what to do, a grammar ``operation`` cannot read (``key``: the config
    key that chose the operation)."""
    if grammar != EB_GRAMMAR:
        raise UnknownGrammarError(
            f"the {operation} reads only the {EB_GRAMMAR!r} skill grammar (EB-ALFRED / EB-Habitat skill "
            f"texts), and this environment declares {grammar or 'no grammar'!r}",
            key=key,
            hint="choose the llm variant, which reads any skill list",
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


def skill_text(verb: str, name: str | None = None) -> str:
    """The skill text of ``verb`` on ``name`` (``find``, ``Cabinet_2`` → ``find a Cabinet_2``): the inverse of
    :func:`parse_skill`, and the one place the household profiles and the planner spell a skill."""
    if verb == "put":
        return PUT_DOWN
    if verb == "drop":
        return DROP
    prefix = next((p for p, v in _PREFIXES if v == verb), None)
    if prefix is None:
        raise ValueError(f"no EmbodiedBench skill has the verb {verb!r}")
    return prefix + (name or "")


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
        return skill_text(verb, name)

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


@dataclass(frozen=True)
class ParsedAction:
    """A leniently parsed action (:func:`parse_action`): ``navigate`` also covers ALFRED's ``find``, and
    ``put`` covers ``place at`` (with its target as ``arg``)."""

    verb: str
    arg: str | None


# The skill texts above plus the function-call style of the paper's Table IV and a few synonyms: what a
# model-free reader accepts from actions that may not come from an EB skill list verbatim.
_LOOSE: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (verb, re.compile(pattern, re.IGNORECASE))
    for verb, pattern in (
        ("navigate", r"^(?:find|navigate to|navigate_to|go to)\s*(?:\(|an? |the )?\s*(.+?)\)?$"),
        ("pick", r"^(?:pick up|pick_up|pick)\s*(?:\(|the |an? )?\s*(.+?)\)?$"),
        ("drop", r"^(?:drop(?: the object in hand)?|drop\(\))$"),
        ("put", r"^(?:put down the object in hand|put_down\(\)|put down)$"),
        ("put", r"^(?:place at|place|put down to|put_down_to|put in|put on)\s*(?:\(|the )?\s*(.+?)\)?$"),
        ("open", r"^open\s*(?:\(|the )?\s*(.+?)\)?$"),
        ("close", r"^close\s*(?:\(|the )?\s*(.+?)\)?$"),
        ("on", r"^(?:turn on|turn_on|switch on)\s*(?:\(|the )?\s*(.+?)\)?$"),
        ("off", r"^(?:turn off|turn_off|switch off)\s*(?:\(|the )?\s*(.+?)\)?$"),
        ("slice", r"^(?:slice|cut)\s*(?:\(|the )?\s*(.+?)\)?$"),
    )
)


def parse_action(action: str) -> ParsedAction | None:
    """Lenient reading for the spatial extractor (:func:`parse_skill` is the exact one the planner uses)."""
    text = action.strip()
    for verb, pattern in _LOOSE:
        match = pattern.match(text)
        if match:
            arg = match.group(1).strip().strip("'\"") if match.groups() else None
            return ParsedAction(verb, arg or None)
    return None


class Feedback:
    """The kinds of failure feedback EmbodiedBench's environments give, as patterns (group 1 names the
    thing). Searched in the feedback without its prefix, or with it."""

    #: ``Cannot find X. This object may not exist`` (a name the house does not have).
    MISSING = re.compile(r"Cannot find (.+?)\. This object may not exist")
    #: The same for a one-word name (the lesson rules' reading, which keeps Habitat's ``table 2`` out).
    MISSING_WORD = re.compile(r"Cannot find (\S+)\. This object may not exist")
    #: ``X is not visible because it is in Y.``
    HIDDEN = re.compile(r"^(.+?) is not visible because it is in (.+?)\.")
    PUT_FAILED = re.compile(r"Putting the object on (.+?) failed")
    NO_FIT = re.compile(r"The (.+?) does not fit at the (.+?)\.")
    CLOSED = re.compile(r"The (.+?) is closed\. Open it")
    #: ``Open action failed. The X is already open`` (group 2 the name, group 3 the state).
    ALREADY = re.compile(
        r"(Open|Close|Turn on|Turn off) action failed\. The (.+?) is already (open|closed|on|off)"
    )
    #: A receptacle of this house that does not open by itself ("The drawer 3 is jammed"): it will fail again.
    STUCK = re.compile(
        r"\bThe (.+?) (?:is jammed|is stuck|is locked|will not open|does not open)", re.IGNORECASE
    )
