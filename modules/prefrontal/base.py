"""The planning contracts: a :class:`Planner` proposes a multi-step plan of skills, a :class:`Critic` gates
each action before it runs (except the first action of every new plan — the paper's fix for endless
replanning).

Both see the same :class:`PlanningInput`: the task (instruction and, where the environment gives one, the
structured goal), the current observation, the skill list and the environment's description of it, what
memory retrieved this step, what happened so far in the episode, the critic's last objection and the
episode's remaining budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from envs.base import Observation
from envs.skill_language import EB_GRAMMAR, EB_ROBOT
from envs.task import Task
from modules.hippocampus.base import StoreResult

__all__ = ("Critic", "ExecutedAction", "Plan", "Planner", "PlanningInput", "Verdict")


@dataclass(frozen=True)
class ExecutedAction:
    action: str
    feedback: str
    success: bool
    step: int
    #: The action's id in the skill list it was chosen from, recorded when it ran (the list may change from
    #: step to step); ``None`` in a history from before it was recorded: looked up in the current list.
    action_id: int | None = None


@dataclass(frozen=True)
class PlanningInput:
    task: Task
    observation: Observation
    skills: tuple[str, ...]
    #: Retrieved memory per store (``temporal``, ``spatial``, ``episodic``, ``semantic``); absent stores are
    #: simply missing (ablations).
    memory: Mapping[str, StoreResult] = field(default_factory=dict)
    history: tuple[ExecutedAction, ...] = ()
    #: Why the critic rejected the last proposal, if it did.
    reflection: str | None = None
    #: Steps left before the episode ends (the environment's own budget, bounded by the agent's), and invalid
    #: actions left before the environment ends it; ``None`` when there is no such limit.
    steps_left: int | None = None
    invalid_left: int | None = None
    #: What each skill family does and when it is valid (:meth:`envs.base.Env.skill_guide`).
    skill_guide: str = ""
    #: Actions the critic vetoed this episode for good (:attr:`Verdict.lasting`): a planner should not
    #: propose them again (the critic cannot review the first action of a new plan).
    vetoed: tuple[str, ...] = ()
    #: The skill grammar the environment speaks and how prompts name the agent (:attr:`envs.base.Env.grammar`,
    #: :attr:`envs.base.Env.robot`).
    grammar: str = EB_GRAMMAR
    robot: str = EB_ROBOT


@dataclass(frozen=True)
class Plan:
    """Skill texts to execute in order. ``output_error``: the planner's reply was malformed or named actions
    outside the skill set (EmbodiedBench's ``planner_output_error``); ``empty``: the planner chose to do
    nothing (EmbodiedBench's ``empty_plan``, which ends the episode)."""

    actions: tuple[str, ...]
    reasoning: str = ""
    output_error: bool = False
    empty: bool = False
    raw: str = ""


@runtime_checkable
class Planner(Protocol):
    def plan(self, inp: PlanningInput) -> Plan: ...


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""
    #: The rejected action will fail whatever happens this episode (memory says the house makes it fail),
    #: not just now: the loop remembers it for the rest of the episode (:attr:`PlanningInput.vetoed`).
    lasting: bool = False


@runtime_checkable
class Critic(Protocol):
    def review(self, action: str, remaining: tuple[str, ...], inp: PlanningInput) -> Verdict:
        """Is ``action`` (followed by ``remaining``) still appropriate now?"""
        ...
