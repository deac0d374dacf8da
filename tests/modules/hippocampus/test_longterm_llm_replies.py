"""The LLM decider of the long-term stores reads what it needs from a reply (issue #10, item 13): ``op``,
and a target when the op has one. The rest (``reason``, an ADD's null ``target_id`` and ``text``) is asked
for but not needed. Through the real scripted server and client, with the client's repair on."""

from __future__ import annotations

import pytest

from modules.hippocampus.deciders import DeterministicDecider, LLMDecider
from modules.hippocampus.longterm import Candidate, Decision
from robomem.errors import LLMError
from robomem.llm import LLMAccounting, LLMConfig, OpenAICompatClient
from robomem.stores.base import VectorHit, VectorItem
from robomem.testing.scripted_llm import Rule, ScriptedLLMServer

ROLE = "memory.semantic"
CANDIDATE = Candidate("In house_1 the mugs live in Cabinet_2.", {"level": "task"})
SHOWN = [VectorHit(VectorItem("m1", "Mugs are in Cabinet_2 in house_1.", {"level": "task"}), score=0.5)]


@pytest.mark.parametrize(
    ("reply", "decision"),
    [
        ('{"op": "ADD"}', Decision("ADD", None, None, "llm: ")),
        ('{"op": "NOOP", "target_id": "m1"}', Decision("NOOP", "m1", None, "llm: ")),
        (
            "{'op': 'UPDATE', 'target_id': 'm1', 'text': 'Mugs: Cabinet_2.', 'reason': \"it's newer\"}",
            Decision("UPDATE", "m1", "Mugs: Cabinet_2.", "llm: it's newer"),
        ),
    ],
    ids=["add-op-only", "noop-no-reason", "python-style"],
)
def test_a_decision_without_its_notes_is_used_at_once(reply: str, decision: Decision) -> None:
    accounting = LLMAccounting()
    with (
        ScriptedLLMServer([Rule(reply=reply)]) as server,
        OpenAICompatClient(
            LLMConfig(model="tiny", base_url=server.base_url, max_retries=0, repair_attempts=1),
            accounting=accounting,
        ) as llm,
    ):
        decider = LLMDecider(llm, DeterministicDecider(0.99), role=ROLE)
        assert decider.decide(CANDIDATE, SHOWN) == decision
        assert decider.failures == 0 and len(server.chat_requests) == 1
    assert accounting.snapshot()["roles"][ROLE]["malformed_replies"] == 0


def test_a_decision_without_an_op_still_falls_back() -> None:
    with (
        ScriptedLLMServer([Rule(reply='{"target_id": "m1", "reason": "same"}')]) as server,
        OpenAICompatClient(
            LLMConfig(
                model="tiny",
                base_url=server.base_url,
                max_retries=0,
                repair_attempts=1,
                on_failure="fallback",
            )
        ) as llm,
    ):
        decider = LLMDecider(llm, DeterministicDecider(0.99), role=ROLE)
        assert decider.decide(CANDIDATE, SHOWN).op == "ADD"  # the deterministic rule: no near-duplicate
        assert decider.failures == 1 and len(server.chat_requests) == 2  # the reply, then one repair


def test_an_invalid_decision_stops_by_default() -> None:
    # Valid JSON, but about an item that was not shown: unusable content, under the default policy an error.
    reply = '{"op": "UPDATE", "target_id": "not-shown", "text": "x", "reason": "r"}'
    with (
        ScriptedLLMServer([Rule(reply=reply)]) as server,
        OpenAICompatClient(LLMConfig(model="tiny", base_url=server.base_url, max_retries=0)) as llm,
    ):
        decider = LLMDecider(llm, DeterministicDecider(0.99), role=ROLE)
        with pytest.raises(LLMError) as caught:
            decider.decide(CANDIDATE, SHOWN)
        assert caught.value.role == ROLE and "not a valid decision" in str(caught.value)
