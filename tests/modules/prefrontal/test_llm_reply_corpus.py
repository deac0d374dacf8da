"""A corpus of planner replies, each sent by the real scripted OpenAI-compatible server to the real client
and LLM planner (issue #10, item 13): what can be read as a plan is accepted at the first request, without
a repair or correction turn; what cannot is an output error.

The ``eb`` column says what EmbodiedBench's planner (``vlm_planner.py`` ``json_to_action`` at b247936) does
with the same text: it ``json.loads`` the reply as is and reads only ``executable_plan[i]["action_id"]``.
Its remote-model wrappers for Qwen2-VL-72B, InternVL and Llama-3.2-90B first delete code fences and turn
single quotes into double quotes, so those are ``eb-some`` (accepted for those models). Where we accept
what EB rejects (``eb-no``), the text cannot mean anything but the plan it spells.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from modules.prefrontal.llm_planner import LLMPlanner, LLMPlannerConfig
from robomem.llm import LLMAccounting
from robomem.testing.scripted_llm import Rule, ScriptedLLMServer
from tests.modules.prefrontal.llm_helpers import SKILLS, inp, scripted_client

A = [{"action_id": 0, "action_name": "find a Apple"}, {"action_id": 1, "action_name": "pick up the Apple"}]
FULL = {
    "reasoning_and_reflection": "It is on the counter.",
    "language_plan": "Find it, take it.",
    "executable_plan": A,
}
ONLY = {"executable_plan": A}
TWO = ("find a Apple", "pick up the Apple")
BOM = "\ufeff"


def dumps(value: object, **kwargs: object) -> str:
    return json.dumps(value, **kwargs)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    eb: str  # "eb-yes", "eb-some", "eb-no": see the module docstring
    actions: tuple[str, ...] = TWO


ACCEPTED = [
    Case("eb-keys", dumps(FULL), "eb-yes"),
    Case(
        "eb-keys-and-visual-description", dumps({"visual_state_description": "A kitchen.", **FULL}), "eb-yes"
    ),
    Case("only-executable-plan", dumps(ONLY), "eb-yes"),
    Case("no-language-plan", dumps({"reasoning_and_reflection": "r", "executable_plan": A}), "eb-yes"),
    Case("no-reasoning", dumps({"language_plan": "p", "executable_plan": A}), "eb-yes"),
    Case("extra-keys", dumps({**ONLY, "confidence": 0.9, "notes": None}), "eb-yes"),
    Case("ids-only", dumps({"executable_plan": [{"action_id": 0}, {"action_id": 1}]}), "eb-yes"),
    Case("pretty-crlf", dumps(FULL, indent=2).replace("\n", "\r\n"), "eb-yes"),
    Case("later-bad-id-truncates", dumps({"executable_plan": [A[0], {"action_id": 99}]}), "eb-yes", TWO[:1]),
    Case("empty-plan", dumps({**FULL, "executable_plan": []}), "eb-yes", ()),
    Case("fenced", f"```json\n{dumps(FULL)}\n```", "eb-some"),
    Case("fenced-only-plan", f"```json\n{dumps(ONLY)}\n```", "eb-some"),
    Case("fenced-no-language", f"```\n{dumps(ONLY, indent=1)}\n```", "eb-some"),
    Case("fence-never-closed", f"```json\n{dumps(ONLY)}", "eb-some"),
    Case("python-quotes", str(FULL), "eb-some"),
    Case("python-quotes-only-plan", str(ONLY), "eb-some"),
    Case("python-quotes-apostrophe", str({"language_plan": "the robot's plan", **ONLY}), "eb-some"),
    Case("bom", BOM + dumps(FULL), "eb-no"),
    Case("bom-only-plan", BOM + dumps(ONLY), "eb-no"),
    Case("bom-fenced", f"{BOM}```json\n{dumps(ONLY)}\n```", "eb-no"),
    Case(
        "string-ids",
        dumps(
            {
                "executable_plan": [
                    {"action_id": "0", "action_name": A[0]["action_name"]},
                    {"action_id": " 1 "},
                ]
            }
        ),
        "eb-no",
    ),
    Case(
        "string-ids-bom-fenced",
        f"{BOM}```json\n{dumps({'executable_plan': [{'action_id': '0'}]})}\n```",
        "eb-no",
        TWO[:1],
    ),
    Case("float-ids", dumps({"executable_plan": [{"action_id": 0.0}, {"action_id": 1.0}]}), "eb-no"),
    Case("names-only", dumps({"executable_plan": [{"action_name": n} for n in TWO]}), "eb-no"),
    Case("prose-around", f"Here is my plan:\n{dumps(ONLY)}\nGood luck!", "eb-no"),
    Case("think-first", f"<think>The apple {{maybe}}.</think>\n{dumps(ONLY)}", "eb-no"),
    Case("trailing-commas", dumps(ONLY).replace("}]", "},]") + "", "eb-no"),
]

REJECTED = [
    Case("empty", "", "eb-no", ()),
    Case("prose", "First find the apple, then pick it up.", "eb-no", ()),
    Case("truncated", dumps(FULL)[:-30], "eb-no", ()),
    Case("fenced-truncated", f"```json\n{dumps(ONLY)[:-20]}\n```", "eb-no", ()),
    Case("no-executable-plan", dumps({"reasoning_and_reflection": "r", "language_plan": "p"}), "eb-no", ()),
    Case("plan-nested-elsewhere", dumps({"plan": ONLY}), "eb-no", ()),
    Case("top-level-list", dumps(A), "eb-no", ()),
    Case("plan-is-a-string", dumps({"executable_plan": "find a Apple, pick up the Apple"}), "eb-no", ()),
    Case("plan-is-an-object", dumps({"executable_plan": A[0]}), "eb-no", ()),
    Case("plan-is-null", dumps({"executable_plan": None}), "eb-no", ()),
    Case("first-id-out-of-range", dumps({"executable_plan": [{"action_id": 99}, A[1]]}), "eb-no", ()),
    Case("first-id-negative", dumps({"executable_plan": [{"action_id": -1}]}), "eb-no", ()),
    Case("first-id-bool", dumps({"executable_plan": [{"action_id": True}]}), "eb-no", ()),
    Case("first-id-word", dumps({"executable_plan": [{"action_id": "zero"}]}), "eb-no", ()),
    Case(
        "first-name-no-skill",
        dumps({"executable_plan": [{"action_id": 0, "action_name": "fly away"}]}),
        "eb-no",
        (),
    ),
    Case("entries-are-strings", dumps({"executable_plan": list(TWO)}), "eb-no", ()),
]


@pytest.fixture
def server() -> Iterator[ScriptedLLMServer]:
    with ScriptedLLMServer(max_delay_s=10.0) as srv:
        yield srv


def run(server: ScriptedLLMServer, text: str) -> tuple[LLMPlanner, object, LLMAccounting]:
    """The planner with one correction turn and the client with one repair allowed, so a reply that is
    accepted only after a second request shows up as such."""
    server.add(Rule(reply=text, role="planner"))
    accounting = LLMAccounting()
    with scripted_client(server, repair_attempts=1) as client:
        client.accounting = accounting
        planner = LLMPlanner(LLMPlannerConfig(max_retries=1), llm=client)
        plan = planner.plan(inp())
    return planner, plan, accounting


@pytest.mark.parametrize("case", ACCEPTED, ids=[f"{c.id}[{c.eb}]" for c in ACCEPTED])
def test_replies_that_spell_a_plan_are_accepted_at_once(server: ScriptedLLMServer, case: Case) -> None:
    planner, plan, accounting = run(server, case.text)
    assert not plan.output_error, plan  # type: ignore[attr-defined]
    assert plan.actions == case.actions  # type: ignore[attr-defined]
    assert plan.empty == (case.actions == ())  # type: ignore[attr-defined]
    assert len(server.chat_requests) == 1 and planner.failed_replies == 0
    assert accounting.snapshot()["roles"]["planner"]["malformed_replies"] == 0


@pytest.mark.parametrize("case", REJECTED, ids=[f"{c.id}[{c.eb}]" for c in REJECTED])
def test_replies_that_cannot_be_a_plan_are_output_errors(server: ScriptedLLMServer, case: Case) -> None:
    planner, plan, _ = run(server, case.text)
    assert plan.output_error and plan.actions == ()  # type: ignore[attr-defined]
    assert planner.failed_replies == 2  # the reply, then the same reply to the correction turn
    assert plan.raw == case.text  # type: ignore[attr-defined]


def test_the_model_is_still_asked_for_every_key(server: ScriptedLLMServer) -> None:
    """Tolerance is on the reading side only: the schema sent still requires EB's keys."""
    run(server, dumps(ONLY))
    (request,) = server.chat_requests
    schema = (request.response_format or {})["json_schema"]["schema"]
    assert schema["required"] == ["reasoning_and_reflection", "language_plan", "executable_plan"]
    assert set(TWO) <= set(SKILLS)  # the corpus's plan is one the planner can accept
