"""The LLM critic: a CLEA-style per-action gate (the paper's Critic C). It reasons first, then answers
``ok`` with feedback; it is told to encourage exploration and to object rarely, because every objection
costs a re-plan.

Only ``ok`` is needed: the reasoning and feedback are asked for, but a reply without them is still a verdict.
An unusable reply (malformed JSON, no ``ok``, ``ok`` not a boolean) is never an objection: the
``fallback`` critic decides if there is one (and can read the environment's skill grammar), else the action
is approved. ``failures`` counts such replies. Transport failures (:class:`robomem.errors.LLMError`)
propagate.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from envs.skill_language import UnknownGrammarError
from modules.prefrontal.base import Critic, PlanningInput, Verdict
from modules.prefrontal.prompting import (
    clip,
    history_section,
    memory_section,
    render,
    section,
    temporal_last_step,
    user_message,
)
from robomem.llm.base import LLMClient

__all__ = ("CRITIC_SCHEMA", "LLMCritic", "LLMCriticConfig")

log = logging.getLogger(__name__)

ROLE = "critic"
UNUSABLE = "critic reply unusable"
#: The reason given to the planner for a rejection that states none.
NO_REASON = "the critic gave no reason"
#: What a reply cannot do without.
ESSENTIAL_KEYS = ("ok",)

CRITIC_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "reasoning": {"type": "string"},
        "ok": {"type": "boolean"},
        "feedback": {"type": "string"},
    },
    "required": ["reasoning", "ok", "feedback"],
    "additionalProperties": False,
}
# Small models write booleans as words; anything else is not an answer.
_WORDS = {"true": True, "yes": True, "false": False, "no": False}


class LLMCriticConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["llm"] = "llm"
    memory_chars: int = Field(default=800, ge=0)
    #: Past episodes, whole, in this many tokens (the best-ranked one is always shown).
    recall_tokens: int = Field(default=400, ge=0)
    observation_chars: int = Field(default=2000, ge=0)
    #: The critic judges the present: a short recent history is enough (see LLMPlannerConfig.history).
    history_steps: int = Field(default=3, ge=0)
    history: Literal["after_temporal", "last"] = "after_temporal"
    history_chars: int = Field(default=1200, ge=0)
    #: How many of the plan's remaining actions to show after the proposed one.
    remaining_actions: int = Field(default=10, ge=0)
    feedback_chars: int = Field(default=600, ge=1)
    max_images: int = Field(default=1, ge=0, le=8)


def _as_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _WORDS.get(value.strip().lower())
    return None


class LLMCritic:
    def __init__(self, config: LLMCriticConfig, *, llm: LLMClient, fallback: Critic | None = None) -> None:
        self.config = config
        self.llm = llm
        self.fallback = fallback
        self.failures = 0

    def prompt(self, action: str, remaining: tuple[str, ...], inp: PlanningInput) -> str:
        cfg = self.config
        shown = remaining[: cfg.remaining_actions]
        rest = "\n".join(f"- {a}" for a in shown) or "(nothing: this is the last action of the plan)"
        if len(remaining) > len(shown):
            rest += f"\n- ... and {len(remaining) - len(shown)} more"
        return render(
            "critic",
            robot=inp.robot,
            instruction=inp.task.instruction.strip(),
            observation=clip(inp.observation.text, cfg.observation_chars) or "(no text observation)",
            guide=section("What the actions do and when they are valid", inp.skill_guide),
            memory=memory_section(inp.memory, cfg.memory_chars, recall_tokens=cfg.recall_tokens),
            history=history_section(
                inp.history,
                inp.skills,
                max_steps=cfg.history_steps,
                chars=cfg.history_chars,
                after_step=temporal_last_step(inp.memory) if cfg.history == "after_temporal" else None,
            ),
            action=action,
            remaining=rest,
        )

    def review(self, action: str, remaining: tuple[str, ...], inp: PlanningInput) -> Verdict:
        message = user_message(
            self.prompt(action, remaining, inp), inp.observation.images, self.config.max_images
        )
        reply = self.llm.complete(
            [message], role=ROLE, schema=CRITIC_SCHEMA, schema_name="critique", essential=ESSENTIAL_KEYS
        )
        verdict = self._verdict(reply.data)
        if verdict is not None:
            return verdict
        self.failures += 1
        log.warning(
            "unusable critic reply (%s); %s",
            reply.error or "bad 'ok'",
            "fallback" if self.fallback else "approving",
        )
        if self.fallback is not None:
            try:
                return self.fallback.review(action, remaining, inp)
            except UnknownGrammarError:
                pass  # the deterministic fallback cannot read this env's skills: approve, as with no fallback
        return Verdict(True, UNUSABLE)

    def _verdict(self, data: dict[str, Any] | None) -> Verdict | None:
        if data is None:
            return None
        ok = _as_bool(data.get("ok"))
        if ok is None:
            return None
        feedback, reasoning = (str(data.get(k) or "").strip() for k in ("feedback", "reasoning"))
        # A rejection must say why, or the planner re-plans blind: fall back on the reasoning.
        reason = feedback or ("" if ok else reasoning or NO_REASON)
        return Verdict(ok, clip(reason, self.config.feedback_chars))
