"""The memory contract: every store (temporal, spatial, episodic, semantic) is updated with the step summary
and retrieved with the step's queries; :class:`modules.hippocampus.system.MemorySystem` fans both out in
parallel.

Lifecycle per episode: ``begin_episode`` → (``update`` then ``retrieve``) per step → ``end_episode`` (where
long-term stores write the episode) → ``flush``. Stores persist under one memory directory and are never
wiped implicitly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from envs.base import Perception
from envs.skill_language import EB_GRAMMAR, EB_ROBOT

__all__ = (
    "EpisodeContext",
    "EpisodeOutcome",
    "MemoryStore",
    "StepRecord",
    "StepSummary",
    "StoreResult",
    "UpdateStats",
)


@dataclass(frozen=True)
class EpisodeContext:
    """Who is remembering what: ``site`` scopes spatial memory (one house), ``episode_id`` temporal memory."""

    site: str
    episode_id: str
    instruction: str
    task_type: str = ""
    #: ``False`` when the episode starts in a restored scene (EmbodiedBench, the simulator's episodic mode):
    #: what spatial memory knew of the site's previous world no longer holds.
    world_persists: bool = True
    #: The skill grammar the environment speaks and how prompts name the agent (:attr:`envs.base.Env.grammar`,
    #: :attr:`envs.base.Env.robot`).
    grammar: str = EB_GRAMMAR
    robot: str = EB_ROBOT


@dataclass(frozen=True)
class StepSummary:
    """Sensory memory s_t: the thalamus' account of the step just executed (step 0 = initial observation)."""

    context: EpisodeContext
    step: int
    text: str
    action: str | None = None
    feedback: str | None = None
    action_success: bool | None = None
    #: Structured perception after the step, when the environment gives one.
    perception: Perception | None = None
    #: Seconds on the injected clock (never read from the wall clock inside stores).
    time: float = 0.0


@dataclass(frozen=True)
class StepRecord:
    action: str
    feedback: str
    success: bool


@dataclass(frozen=True)
class EpisodeOutcome:
    """A finished episode, handed to every store's ``end_episode`` (long-term memory writes it)."""

    context: EpisodeContext
    success: bool
    progress: float
    steps: tuple[StepRecord, ...]
    #: Final structured perception, for task-level lessons ("mugs are usually in Cabinet_2").
    final_perception: Perception | None = None
    time: float = 0.0
    #: Who judged ``success``: ``simulator`` (an evaluator's ground truth, privileged) or ``agent`` (the
    #: planner declared the task done, or the environment ended the episode within its limits).
    judged_by: str = "simulator"


@dataclass(frozen=True)
class StoreResult:
    """What one store returns for the planner: short text lines (already within the store's budget) and,
    for programmatic consumers such as the symbolic planner, structured ``data``."""

    store: str
    lines: tuple[str, ...] = ()
    data: Any = None

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class UpdateStats:
    """What an update did: items/edges touched (the locality benchmark reads ``touched``)."""

    store: str
    touched: int = 0
    details: dict[str, Any] = field(default_factory=dict)


class MemoryStore(ABC):
    """One of the four memory modules."""

    name: str = ""

    def begin_episode(self, context: EpisodeContext) -> None:
        """Called before the first update of an episode."""

    @abstractmethod
    def update(self, summary: StepSummary) -> UpdateStats:
        """M_t = U(M_{t-1}, s_t) for this store."""

    @abstractmethod
    def retrieve(self, queries: Sequence[str]) -> StoreResult:
        """r_t = R(M_t, q_t) for this store."""

    def end_episode(self, outcome: EpisodeOutcome) -> UpdateStats:
        """Write what the episode taught (long-term stores); short-term stores may just reset."""
        return UpdateStats(self.name)

    def flush(self) -> None:
        """Make everything written so far durable."""

    def close(self) -> None:
        """Flush and release resources. Safe to call twice."""
        self.flush()
