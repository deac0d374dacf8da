"""Contract of an action profile: the skill grammar and its semantics on a :class:`World`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from envs.household.world import World
from envs.skill_language import EB_GRAMMAR, EB_ROBOT, skill_text

__all__ = ("Outcome", "Profile", "Skill", "skill")


@dataclass(frozen=True)
class Skill:
    """A parsed skill: its text, a verb (``find``, ``pick``, ...) and the argument it names, if any."""

    text: str
    verb: str
    arg: str | None = None


def skill(verb: str, arg: str | None = None) -> Skill:
    """The skill ``verb`` on ``arg``, its text spelled by the one skill language module
    (:func:`envs.skill_language.skill_text`)."""
    return Skill(skill_text(verb, arg), verb, arg)


@dataclass(frozen=True)
class Outcome:
    """Whether the skill achieved its effect, and the environment feedback string for it."""

    success: bool
    feedback: str


class Profile(ABC):
    name: str
    #: The skill grammar the profile speaks and how prompts name its agent (:attr:`envs.base.Env.grammar`).
    grammar: str = EB_GRAMMAR
    robot: str = EB_ROBOT
    #: Rules of this simulator beyond the profile's shared guide (``envs/guides/<name>.txt``), for planners.
    guide_notes: str = ""

    @abstractmethod
    def skills(self, world: World) -> tuple[Skill, ...]:
        """The skill list for this world (ids index into it)."""

    @abstractmethod
    def execute(self, world: World, skill: Skill) -> Outcome:
        """Apply ``skill`` to ``world`` (mutating it) and describe the result."""

    @abstractmethod
    def invalid(self, message: str) -> Outcome:
        """The outcome of an action the profile cannot execute at all (e.g. not in the skill set)."""

    def on_reset(self, world: World) -> None:
        """Profile bookkeeping at episode start (e.g. ALFRED forgets its implicit put-down target)."""
