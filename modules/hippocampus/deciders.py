"""The ADD / UPDATE / DELETE / NOOP deciders of long-term memory: the rule-based one (same key, near
duplicate) and the paper's LLM updater, which also takes decisions made in the call that created a candidate
(:meth:`LLMDecider.preset`)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from envs.skill_language import EB_ROBOT
from modules.hippocampus.longterm import Candidate, Decision
from modules.hippocampus.prompting import ask_json
from robomem.llm.base import LLMClient
from robomem.llm.policy import attempt
from robomem.stores.base import VectorHit, VectorItem

__all__ = ("DECISION_SCHEMA", "DeterministicDecider", "LLMDecider", "valid_decision")


DECISION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "op": {"type": "string", "enum": ["ADD", "UPDATE", "DELETE", "NOOP"]},
        "target_id": {"type": ["string", "null"]},
        "text": {"type": ["string", "null"]},
        "reason": {"type": "string"},
    },
    "required": ["op", "target_id", "text", "reason"],
    "additionalProperties": False,
}


class DeterministicDecider:
    """Same key and same text → NOOP; same key, new text → UPDATE (a retraction candidate → DELETE); no key
    match but a near-duplicate (cosine ≥ ``dedup_threshold``) → NOOP; otherwise ADD."""

    def __init__(self, dedup_threshold: float) -> None:
        self.dedup_threshold = dedup_threshold

    def decide(self, candidate: Candidate, similar: Sequence[VectorHit]) -> Decision:
        same_key = [h for h in similar if candidate.key and h.item.metadata.get("key") == candidate.key]
        if candidate.metadata.get("retract"):
            if same_key:
                return Decision("DELETE", same_key[0].item.id, reason="contradicted by a newer observation")
            return Decision("NOOP", None, reason="nothing to retract")
        if same_key:
            target = same_key[0].item
            if target.text == candidate.text:
                return Decision("NOOP", target.id, reason="already known")
            return Decision("UPDATE", target.id, reason="same fact, newer content")
        # Facts about two instances are different facts however alike their words ("a red Mug was found at
        # Cabinet_2", "a blue Mug was found at Drawer_4"); their keys tell them apart.
        distinct = bool(candidate.metadata.get("instance"))
        near = [
            h
            for h in similar
            if h.score >= self.dedup_threshold and not (distinct and h.item.metadata.get("instance"))
        ]
        if near:
            return Decision("NOOP", near[0].item.id, reason=f"near-duplicate (cosine {near[0].score:.2f})")
        return Decision("ADD", reason="new")


class LLMDecider:
    """The paper's LLM updater: shows the candidate and the top-N similar items, asks for one decision, and
    validates it (a target must be one of the items shown). An unusable reply or a failed call follows the
    role's policy (:mod:`robomem.llm.policy`): the run stops, or the deterministic decider decides.

    A decision the model already took in the call that created the candidate (:meth:`preset`) is used
    without asking again, but only if that call showed the model every item this one would show (the
    candidate's neighbours) and its target is among them: it is then a decision this call could have
    returned, made on at least the same evidence. Otherwise the model is asked as usual."""

    #: Asks a model: :meth:`LongTermIndex.consolidate` lets it answer outside the store's write lock.
    asks_model = True

    def __init__(self, llm: LLMClient, fallback: DeterministicDecider, *, role: str) -> None:
        self.llm = llm
        self.fallback = fallback
        self.role = role
        self.failures = 0
        self._presets: dict[tuple[str, str, str], tuple[frozenset[str], Decision]] = {}
        self._count_lock = threading.Lock()
        #: Decisions taken from the creating call (``preset``) and decisions asked for (``asked``).
        self.counts: dict[str, int] = {"preset": 0, "asked": 0}
        #: How the prompt names the agent: the episode's environment says (the store's ``tell_robot``).
        self.robot = EB_ROBOT

    def preset(self, decisions: Sequence[tuple[Candidate, Decision]], shown: Sequence[str]) -> None:
        """The decisions the creating call took for its candidates, having been shown the stored items
        ``shown`` (ids). Replaces any earlier presets."""
        seen = frozenset(shown)
        self._presets = {_identity(c): (seen, d) for c, d in decisions}

    def decide(self, candidate: Candidate, similar: Sequence[VectorHit]) -> Decision:
        preset = self._presets.get(_identity(candidate))
        if preset is not None:
            seen, decided = preset
            ids = {h.item.id for h in similar}
            if ids <= seen and (decided.target_id is None or decided.target_id in ids):
                self._count("preset")
                return decided
        self._count("asked")
        decision, _ = attempt(self.llm, self.role, lambda: self._ask(candidate, similar))
        if decision is None:
            self.failures += 1
            return self.fallback.decide(candidate, similar)
        return decision

    def _count(self, name: str) -> None:
        with self._count_lock:  # decisions run in parallel (decide_all)
            self.counts[name] += 1

    def _ask(self, candidate: Candidate, similar: Sequence[VectorHit]) -> tuple[Decision | None, str | None]:
        shown = {h.item.id: h.item for h in similar}
        existing = "\n".join(f"- id={i}: {item.text}" for i, item in shown.items()) or "(none)"
        data, error = ask_json(
            self.llm,
            role=self.role,
            prompt="longterm_decide",
            schema=DECISION_SCHEMA,
            essential=("op",),  # the target is checked against the op below; the reason is only a note
            robot=self.robot,
            candidate=candidate.text,
            existing=existing,
        )
        decision = valid_decision(data, shown)
        if decision is None:
            return None, error or f"not a valid decision about the items shown: {data}"
        return decision, None


def _identity(candidate: Candidate) -> tuple[str, str, str]:
    return candidate.text, candidate.key, repr(sorted(candidate.metadata.items()))


def valid_decision(data: dict[str, Any] | None, shown: dict[str, VectorItem]) -> Decision | None:
    if data is None or data.get("op") not in ("ADD", "UPDATE", "DELETE", "NOOP"):
        return None
    op = data["op"]
    target = data.get("target_id")
    text = data.get("text")
    if op != "ADD" and target not in shown:
        return None
    if text is not None and not isinstance(text, str):
        return None
    reason = data.get("reason") if isinstance(data.get("reason"), str) else ""
    return Decision(op, target if op != "ADD" else None, text or None, f"llm: {reason}")
