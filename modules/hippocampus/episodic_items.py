"""Episodic memory's items: an episode's rendered trajectory, the candidates it consolidates (the episode, and
after a success the retraction of the same task's stored failure), and the Creators that write the item: the
trajectory itself, or the model's account (the paper's Long-term Memory Creator). The store is
:mod:`modules.hippocampus.episodic`, which re-exports these names."""

from __future__ import annotations

import re
from typing import Any, Protocol

from envs.skill_language import INVALID_PREFIX
from modules.hippocampus.base import EpisodeOutcome
from modules.hippocampus.lessons import outcome_text
from modules.hippocampus.longterm import Candidate
from modules.hippocampus.prompting import ask_json
from robomem.llm.base import LLMClient
from robomem.llm.policy import attempt

__all__ = (
    "ACCOUNT_SCHEMA",
    "CREATOR_ROLE",
    "DeterministicEpisodeCreator",
    "EpisodeCreator",
    "LLMEpisodeCreator",
    "episode_candidates",
    "render_trajectory",
)


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


def _head(outcome: EpisodeOutcome) -> str:
    ctx = outcome.context
    verdict = f"{outcome_text(outcome)} in {len(outcome.steps)} steps"
    return f"Task: {ctx.instruction} | site: {ctx.site} | outcome: {verdict}"


def render_trajectory(outcome: EpisodeOutcome) -> str:
    steps = "; ".join(
        f"{i}. {s.action} -> {'ok' if s.success else s.feedback.removeprefix(f'{INVALID_PREFIX} ')}"
        for i, s in enumerate(outcome.steps, 1)
    )
    return f"{_head(outcome)} | {steps}"


def episode_candidates(outcome: EpisodeOutcome, text: str | None = None) -> list[Candidate]:
    """The episode itself (its item ``text``: the rendered trajectory unless a creator wrote one), plus —
    after a success — a retraction of the stored failure of the same task."""
    ctx = outcome.context
    task_key = f"{ctx.site}:{_norm(ctx.instruction)}"
    meta: dict[str, str | int | float | bool] = {
        "kind": "episode",
        "site": ctx.site,
        "success": outcome.success,
        "steps": len(outcome.steps),
        "progress": outcome.progress,
        "task_type": ctx.task_type,
        "episode_id": ctx.episode_id,
        "actions": _norm(" | ".join(s.action for s in outcome.steps)),
    }
    embed_text = f"Task: {ctx.instruction}"
    key = f"episode:{'ok' if outcome.success else 'fail'}:{task_key}"
    item = text if text is not None else render_trajectory(outcome)
    candidates = [Candidate(item, meta, key=key, embed_text=embed_text)]
    if outcome.success:
        retract: dict[str, str | int | float | bool] = {"kind": "episode", "site": ctx.site, "retract": True}
        candidates.append(
            Candidate(
                f"retract failure of {task_key}",
                retract,
                key=f"episode:fail:{task_key}",
                embed_text=embed_text,
            )
        )
    return candidates


ACCOUNT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"account": {"type": "string"}},
    "required": ["account"],
    "additionalProperties": False,
}
CREATOR_ROLE = "memory.episodic.creator"


class EpisodeCreator(Protocol):
    """Writes the episode's memory items (:func:`episode_candidates` with the item's text)."""

    def create(self, outcome: EpisodeOutcome) -> list[Candidate]: ...


class DeterministicEpisodeCreator:
    """The memory item is the rendered trajectory."""

    def create(self, outcome: EpisodeOutcome) -> list[Candidate]:
        return episode_candidates(outcome)


class LLMEpisodeCreator:
    """The paper's Long-term Memory Creator for episodic memory: the model writes the account. A failure
    follows the role's policy (:mod:`robomem.llm.policy`): the run stops, or the trajectory is the item."""

    def __init__(
        self, llm: LLMClient, fallback: DeterministicEpisodeCreator, *, max_chars: int = 1200
    ) -> None:
        self.llm = llm
        self.fallback = fallback
        self.max_chars = max_chars
        self.failures = 0

    def create(self, outcome: EpisodeOutcome) -> list[Candidate]:
        account, _ = attempt(self.llm, CREATOR_ROLE, lambda: self._ask(outcome))
        if account is None:
            self.failures += 1
            return self.fallback.create(outcome)
        return episode_candidates(outcome, f"{_head(outcome)} | {account}")

    def _ask(self, outcome: EpisodeOutcome) -> tuple[str | None, str | None]:
        lines = [
            f"{i}. {s.action} -> {'ok' if s.success else 'FAILED: ' + s.feedback}"
            for i, s in enumerate(outcome.steps, 1)
        ]
        data, error = ask_json(
            self.llm,
            role=CREATOR_ROLE,
            prompt="episodic_create",
            schema=ACCOUNT_SCHEMA,
            robot=outcome.context.robot,
            instruction=outcome.context.instruction,
            site=outcome.context.site,
            outcome=outcome_text(outcome),
            steps=str(len(outcome.steps)),
            trajectory="\n".join(lines) or "(no actions)",
        )
        account = data.get("account") if data else None
        if not isinstance(account, str) or not account.strip():
            return None, error or "no account in the reply"
        account = " ".join(account.split())
        return (account if len(account) <= self.max_chars else account[: self.max_chars - 3] + "..."), None
