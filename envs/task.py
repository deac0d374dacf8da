"""Tasks and their structured goals.

A goal is a list of conditions whose referents are *descriptions* ("the yellow bottle", "the drawer right of
the sink"), never resolved instance ids: an agent has to resolve them from what it perceives and remembers.
Environments bind each description to concrete instances when an episode starts and evaluate conditions
against those bindings; agents only ever see the descriptions.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ("Condition", "LifelongSequence", "Ref", "RefRelation", "Relocation", "Task")

#: States a condition may require of an object ("on" is the toggled-on state of a lamp or appliance).
STATE_NAMES = ("clean", "hot", "cold", "sliced", "on", "open")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RefRelation(_Frozen):
    """A spatial relation from the described thing to another described thing.

    ``relation`` is one of ``left_of``, ``right_of`` (adjacent fixed receptacles in one room) or ``in`` /
    ``on`` (an object's container when the episode starts).
    """

    relation: str
    target: Ref


class Ref(_Frozen):
    """A referent as the instruction states it: a type, optional visual attributes, optional relation."""

    type: str
    attributes: dict[str, str] = Field(default_factory=dict)
    relation: RefRelation | None = None
    text: str = ""


class Condition(_Frozen):
    """One goal condition: at least ``count`` objects matching ``object`` that have every state in
    ``states``, are (transitively) inside something matching ``inside`` when given, and are held by the
    agent when ``held`` is true; with ``back``, are inside the place each was taken from when it was last
    used (picked up in an earlier episode: "put the mug back where it was before you used it"), a place
    the instruction does not describe and only the agent's memory of that episode can tell."""

    object: Ref
    states: tuple[str, ...] = ()
    inside: Ref | None = None
    held: bool = False
    back: bool = False
    count: int = Field(default=1, ge=1)
    text: str = ""


class Relocation(_Frozen):
    """Someone else moved ``object`` into ``to`` before the episode (a lifelong suite's scripted change)."""

    object: str
    to: str


class Task(_Frozen):
    """One episode's task. ``scene`` is the site (house) id: spatial memory is scoped to it."""

    task_id: str
    profile: str
    subset: str
    task_type: str
    instruction: str
    scene: str
    goal: tuple[Condition, ...] = ()
    gold_plan_length: int | None = None
    #: For environments that iterate a fixed dataset (EmbodiedBench), the episode index to select.
    episode_index: int | None = None
    #: The task's own step budget, instead of the environment's ``max_steps`` (memory suites: too few steps
    #: to search the house for what memory should know; a generous one for tasks that show the house).
    max_steps: int | None = Field(default=None, ge=1)
    #: Things moved by someone else just before the episode starts (environments that can move things).
    relocations: tuple[Relocation, ...] = ()
    #: The house is re-staged before the episode (tidied back to its initial state), even in the middle of a
    #: lifelong sequence: what the agent saw of it before no longer holds, what it learnt about it may.
    restage: bool = False


class LifelongSequence(_Frozen):
    """Tasks run one after another in one persistent house, optionally with ``perturb_k`` objects moved
    by "someone else" between tasks (seeded by ``perturb_seed``)."""

    sequence_id: str
    profile: str
    scene: str
    tasks: tuple[Task, ...]
    perturb_k: int = 0
    perturb_seed: int = 0


RefRelation.model_rebuild()
