"""The one environment contract: the household simulator, the EmbodiedBench bridge and a ROS robot all
implement :class:`Env`.

Designed for a real robot as much as for a simulator:

* ``step`` executes one high-level skill and may take time. A skill that runs but does not achieve its
  effect is a normal result with ``last_action_success=False`` and a feedback string. A skill that does
  not finish within ``timeout_s`` raises :class:`robomem.errors.EnvTimeoutError` after the environment has
  stopped it; it counts as a failed step (toward the episode's limits; the error's ``done`` says whether it
  ended the episode). An unreachable robot or env server raises :class:`robomem.errors.EnvConnectionError`.
* The skill list (EmbodiedBench's ``language_skill_set``) may change at every ``reset``: re-read
  :attr:`Env.skills` after each one.
* ``reset(task, keep_world=True)`` continues in the same world instead of restoring the scene's initial
  state; a physical robot can only ever do that. After each ``reset``, :attr:`Env.world_persists` says
  whether the episode continues the previous episode's world (memory of where things are stays valid) or
  starts a restored scene (EmbodiedBench: every episode).
* :attr:`Env.privileged_success` says whether ``task_success`` / ``task_progress`` are a simulator's
  ground truth (an evaluator's score a deployed robot does not have) rather than something the agent sees.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from typing_extensions import TypedDict

from envs.guides import profile_guide
from envs.skill_language import EB_GRAMMAR, EB_ROBOT, profile_grammar
from envs.task import LifelongSequence, Task

__all__ = (
    "PERCEPTION_FIELDS",
    "Budget",
    "Env",
    "EnvCapabilities",
    "Observation",
    "PerceivedEntity",
    "Perception",
    "PerceptionField",
    "Relation",
    "StepInfo",
    "StepResult",
)

EntityKind = Literal["object", "receptacle", "appliance", "place", "agent"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Relation(_Frozen):
    """A directed relation ``subject --relation--> object``, e.g. ``Mug in Cabinet_2``."""

    subject: str
    relation: str
    object: str


class PerceivedEntity(_Frozen):
    """One thing the agent perceives now, by the name the skill set uses for it."""

    name: str
    type: str
    kind: EntityKind
    attributes: dict[str, str] = Field(default_factory=dict)
    #: Only states that are perceivable and meaningful for the entity (e.g. ``open`` for a cabinet).
    states: dict[str, bool] = Field(default_factory=dict)


PerceptionField = Literal["location", "room", "holding", "entities", "relations"]
PERCEPTION_FIELDS: tuple[PerceptionField, ...] = ("location", "room", "holding", "entities", "relations")


class Perception(_Frozen):
    """Structured perception of what is perceivable at the agent's location (and nothing else)."""

    #: The place the agent is at; ``None``: at no particular place (in the open room).
    location: str | None = None
    room: str | None = None
    #: What the agent holds, by name: an inventory, empty when nothing is held. How many things it can hold
    #: at once is the environment's own limit (EB-ALFRED / EB-Habitat: one), not this type's. The older
    #: single form is still read (a name, ``None`` or ``""``): saved traces and checkpoints, older servers.
    holding: tuple[str, ...] = ()
    #: Everything in view: what is not listed is not in view.
    entities: tuple[PerceivedEntity, ...] = ()
    relations: tuple[Relation, ...] = ()
    #: Fields the source did not report (a robot may leave any out): their values above are placeholders,
    #: not observations. An unreported hand is not an empty hand.
    unknown: tuple[PerceptionField, ...] = ()

    @field_validator("holding", mode="before")
    @classmethod
    def _inventory(cls, value: object) -> object:
        if value is None or value == "":
            return ()
        if isinstance(value, str):
            return (value,)
        return value

    @field_validator("holding")
    @classmethod
    def _named(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not name for name in value):
            raise ValueError("holding: every held thing needs a name")
        if len(set(value)) != len(value):
            raise ValueError(f"holding: a thing is held once, got {list(value)}")
        return value

    @field_validator("unknown")
    @classmethod
    def _canonical(cls, value: tuple[PerceptionField, ...]) -> tuple[PerceptionField, ...]:
        return tuple(f for f in PERCEPTION_FIELDS if f in value)  # one order, so dumps compare equal

    def knows(self, name: PerceptionField) -> bool:
        """Whether ``name`` was reported (``False``: its value is a placeholder)."""
        return name not in self.unknown


class Observation(_Frozen):
    """What the agent receives after ``reset`` or ``step``.

    ``perception`` is ``None`` for environments that only give pixels (real EmbodiedBench); ``images`` are
    base64-encoded PNG/JPEG frames ready for an ``image_url`` data URL.
    """

    instruction: str
    text: str
    perception: Perception | None = None
    images: tuple[str, ...] = ()


class _StepRewards(TypedDict, total=False):
    """Optional step keys (a base class: ``NotRequired`` is not seen through postponed annotations)."""

    #: The step's reward, from environments that have one (EmbodiedBench through the bridge); ``None``
    #: when the environment reported something that is not a finite number.
    reward: float | None
    #: EB-Habitat's ``subgoal_reward`` measure after the step.
    subgoal_reward: float | None


class StepInfo(_StepRewards):
    """EmbodiedBench's ``info`` keys, plus the running invalid-action count."""

    task_success: float
    task_progress: float
    last_action_success: bool
    env_feedback: str
    env_step: int
    action_id: int
    action_description: str
    instruction: str
    num_invalid_actions: int


class StepResult(_Frozen):
    observation: Observation
    done: bool
    info: StepInfo


class Budget(_Frozen):
    """What the current episode may still spend before the environment ends it (EmbodiedBench: 30 steps and
    10 invalid actions per episode). ``None``: that limit is not enforced or not known."""

    steps_left: int | None = Field(default=None, ge=0)
    invalid_actions_left: int | None = Field(default=None, ge=0)


class EnvCapabilities(_Frozen):
    """The optional parts of :class:`Env` an environment has, declared rather than found out by calling a
    method that raises ``NotImplementedError``."""

    #: :meth:`Env.tasks` / :meth:`Env.subsets`: built-in task suites.
    tasks: bool = False
    #: :meth:`Env.lifelong_sequences`.
    lifelong: bool = False
    #: :meth:`Env.perturb`: objects can be moved as "someone else" would.
    perturb: bool = False
    #: :meth:`Env.budget` reports the environment's own limits.
    budget: bool = False


class Env(ABC):
    """Contract for every environment. Implementations register in :data:`envs.registry.ENVS`."""

    #: Action grammar the environment speaks: ``alfred`` or ``habitat`` (or another profile name).
    profile: str = ""
    #: Set by ``reset``: ``True`` when this episode continues the previous episode's world (a robot always
    #: does; the household simulator with ``keep_world``), ``False`` when the scene was restored.
    world_persists: bool = False
    #: ``True`` when ``info["task_success"]`` is a simulator's ground truth that the agent could not know on
    #: a real robot (memory then records it as such, or uses the agent's own judgement instead).
    privileged_success: bool = True

    @property
    @abstractmethod
    def skills(self) -> tuple[str, ...]:
        """The current skill list; action ids index into it. Re-read after every reset."""

    @abstractmethod
    def reset(self, task: Task, *, keep_world: bool = False) -> Observation:
        """Start an episode of ``task``. With ``keep_world`` the world is not restored."""

    @abstractmethod
    def step(self, action: int | str, *, timeout_s: float | None = None) -> StepResult:
        """Execute one skill, given by id or by its exact text."""

    @property
    def grammar(self) -> str:
        """The skill grammar the environment speaks: :data:`envs.skill_language.EB_GRAMMAR` for
        EmbodiedBench's skill texts; ``""`` for any other. The offline operations that read skill texts
        without a model (symbolic planner, deterministic spatial extractor and lesson rules) refuse any
        grammar but EB's.
        Default: what :attr:`profile` implies (``alfred`` and ``habitat`` speak EB's)."""
        return profile_grammar(self.profile)

    @property
    def robot(self) -> str:
        """How prompts name the agent ("You are a household robot"). Default: by :attr:`grammar`."""
        return EB_ROBOT if self.grammar == EB_GRAMMAR else "robot"

    def budget(self) -> Budget:
        """The current episode's remaining budget, as the environment itself counts it (a planner is told
        this, not the agent's own safety bound). Default: no known limit."""
        return Budget()

    def skill_guide(self) -> str:
        """What each skill family does and when it is valid, for a planner's prompt (``""``: nothing known).
        Default: robomem's text for :attr:`profile` (``envs/guides/<profile>.txt``)."""
        return profile_guide(self.profile)

    def tasks(self, subset: str) -> tuple[Task, ...]:
        """Tasks of one evaluation subset, for environments that carry their own suites."""
        raise NotImplementedError(f"{type(self).__name__} has no built-in task suites")

    def subsets(self) -> tuple[str, ...]:
        return ()

    def lifelong_sequences(self) -> tuple[LifelongSequence, ...]:
        """Task sequences for lifelong evaluation, run one after another in one persistent world."""
        raise NotImplementedError(f"{type(self).__name__} has no lifelong sequences")

    def perturb(self, k: int, seed: int) -> tuple[str, ...]:
        """Move ``k`` objects as "someone else" would (seeded); returns human-readable descriptions."""
        raise NotImplementedError(f"{type(self).__name__} cannot perturb its world")

    def capabilities(self) -> EnvCapabilities:
        """Which optional parts this environment has. Default: the methods its class implements (an env
        whose support depends on what it connects to, a robot's skill server, says so itself)."""
        cls = type(self)
        return EnvCapabilities(
            tasks=cls.tasks is not Env.tasks,
            lifelong=cls.lifelong_sequences is not Env.lifelong_sequences,
            perturb=cls.perturb is not Env.perturb,
            budget=cls.budget is not Env.budget,
        )

    def close(self) -> None:
        """Release resources (processes, sockets, robot connections). Safe to call twice."""

    def action_id(self, action: int | str) -> int:
        """The id of ``action`` in the current skill list, or -1 when it is not in it."""
        skills = self.skills
        if isinstance(action, int):
            return action if 0 <= action < len(skills) else -1
        try:
            return skills.index(action)
        except ValueError:
            return -1

    def __enter__(self) -> Env:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
