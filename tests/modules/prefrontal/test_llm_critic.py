"""The LLM critic through a real OpenAI-compatible server (scripted replies) and the real client."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from envs.base import Observation
from modules.hippocampus.base import StoreResult
from modules.hippocampus.temporal import TemporalEntry
from modules.prefrontal.base import Critic, PlanningInput, Verdict
from modules.prefrontal.critic import DeterministicCritic
from modules.prefrontal.llm_critic import CRITIC_SCHEMA, LLMCritic, LLMCriticConfig
from robomem.errors import LLMError
from robomem.llm.openai_compat import OpenAICompatClient
from robomem.testing.scripted_llm import Rule, ScriptedLLMServer
from tests.modules.prefrontal.llm_helpers import IMAGE, history, image_urls, inp, memory, scripted_client

REMAINING = ("find a Fridge", "open the Fridge")


@pytest.fixture
def server() -> Iterator[ScriptedLLMServer]:
    with ScriptedLLMServer(max_delay_s=10.0) as srv:
        yield srv


@pytest.fixture
def llm(server: ScriptedLLMServer) -> Iterator[OpenAICompatClient]:
    with scripted_client(server) as client:
        yield client


def critique(ok: object, feedback: str = "", reasoning: str = "Looks fine.") -> str:
    return json.dumps({"reasoning": reasoning, "ok": ok, "feedback": feedback})


class RecordingCritic:
    """A hand-written fallback that remembers what it was asked."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        self.asked: list[str] = []

    def review(self, action: str, remaining: tuple[str, ...], inp: PlanningInput) -> Verdict:
        self.asked.append(action)
        return self.verdict


def test_approval_and_what_the_critic_is_shown(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(Rule(reply=critique(True), role="critic"))
    critic = LLMCritic(LLMCriticConfig(), llm=llm)
    assert isinstance(critic, Critic)
    verdict = critic.review("pick up the Apple", REMAINING, inp(memory=memory(), history=history()))
    assert verdict == Verdict(True, "")
    (request,) = server.chat_requests
    assert request.role == "critic" and request.response_format_type == "json_schema"
    assert request.response_format is not None
    assert request.response_format["json_schema"]["schema"] == CRITIC_SCHEMA
    prompt = request.last_user_text
    assert "## The action about to run\npick up the Apple" in prompt
    assert "- find a Fridge\n- open the Fridge" in prompt
    assert "Put an apple in the fridge." in prompt and "You are in the Kitchen." in prompt
    assert "Last time the apple was in Cabinet_2." in prompt
    assert "Step 2, action id 1, pick up the Apple, env feedback: Last action is invalid." in prompt
    assert "Encourage exploration" in prompt and "Say false rarely" in prompt


def test_rejection_carries_the_feedback(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(Rule(reply=critique(False, "You hold a mug: put it down first.", "Hands are full.")))
    verdict = LLMCritic(LLMCriticConfig(), llm=llm).review("pick up the Apple", (), inp())
    assert verdict == Verdict(False, "You hold a mug: put it down first.")
    assert "(nothing: this is the last action of the plan)" in server.chat_requests[0].last_user_text


def test_rejection_without_feedback_falls_back_on_the_reasoning(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    server.add(Rule(reply=critique(False, "", "The apple is already in hand.")))
    verdict = LLMCritic(LLMCriticConfig(), llm=llm).review("pick up the Apple", (), inp())
    assert verdict == Verdict(False, "The apple is already in hand.")


def test_boolean_words_from_small_models_are_read(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(Rule(reply=critique("False", "Open the fridge first.")))
    critic = LLMCritic(LLMCriticConfig(), llm=llm)
    assert critic.review("find a Fridge", (), inp()) == Verdict(False, "Open the fridge first.")
    assert critic.failures == 0


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ('{"ok": true}', Verdict(True, "")),
        ('{"ok": false, "feedback": "Open the fridge first."}', Verdict(False, "Open the fridge first.")),
        ('{"reasoning": "The fridge is closed.", "ok": false}', Verdict(False, "The fridge is closed.")),
        ('{"ok": false}', Verdict(False, "the critic gave no reason")),
        ('```json\n{"ok": "yes"}\n```', Verdict(True, "")),
        ('\ufeff{"ok": true, "feedback": ""}', Verdict(True, "")),
        (
            "{'reasoning': \"It's closed.\", 'ok': False, 'feedback': 'Open it first.'}",
            Verdict(False, "Open it first."),
        ),
    ],
    ids=["ok-only", "no-reasoning", "no-feedback", "bare-rejection", "fenced-word", "bom", "python-style"],
)
def test_replies_with_a_readable_ok_are_used_at_once(
    server: ScriptedLLMServer, reply: str, verdict: Verdict
) -> None:
    """Only ``ok`` is needed (issue #10, item 13): with the client's repair on, a usable reply takes one
    request and is no failure."""
    server.add(Rule(reply=reply))
    with scripted_client(server, repair_attempts=1) as client:
        critic = LLMCritic(LLMCriticConfig(), llm=client)
        assert critic.review("find a Fridge", (), inp()) == verdict
    assert critic.failures == 0 and len(server.chat_requests) == 1


@pytest.mark.parametrize(
    "reply",
    [
        "The action seems fine to me.",
        '{"reasoning": "hmm", "ok": tr',
        critique("maybe"),
        '{"reasoning": "x", "feedback": ""}',
    ],
    ids=["prose", "truncated", "ok-not-boolean", "missing-ok"],
)
def test_unusable_reply_approves_and_is_counted(
    server: ScriptedLLMServer, llm: OpenAICompatClient, reply: str
) -> None:
    server.add(Rule(reply=reply))
    critic = LLMCritic(LLMCriticConfig(), llm=llm)
    assert critic.review("find a Fridge", (), inp()) == Verdict(True, "critic reply unusable")
    assert critic.failures == 1


def test_unusable_reply_uses_the_fallback_critic(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(Rule(reply="no idea"))
    fallback = RecordingCritic(Verdict(False, "symbolic says: hands full"))
    critic = LLMCritic(LLMCriticConfig(), llm=llm, fallback=fallback)
    assert critic.review("pick up the Apple", REMAINING, inp()) == Verdict(False, "symbolic says: hands full")
    assert fallback.asked == ["pick up the Apple"] and critic.failures == 1


def test_fallback_is_not_asked_when_the_reply_is_usable(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    server.add(Rule(reply=critique(True)))
    fallback = RecordingCritic(Verdict(False, "no"))
    LLMCritic(LLMCriticConfig(), llm=llm, fallback=fallback).review("find a Apple", (), inp())
    assert fallback.asked == []


def test_images_are_sent_and_long_plans_are_shortened(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    server.add(Rule(reply=critique(True)))
    observation = Observation(instruction="i", text="t", images=(IMAGE,))
    remaining = tuple(f"find a Thing_{i}" for i in range(15))
    LLMCritic(LLMCriticConfig(remaining_actions=3), llm=llm).review(
        "find a Apple", remaining, inp(observation=observation)
    )
    (request,) = server.chat_requests
    assert image_urls(request) == [f"data:image/png;base64,{IMAGE}"]
    assert "- find a Thing_2\n- ... and 12 more" in request.last_user_text
    assert "Thing_3" not in request.last_user_text


def test_transport_failures_propagate(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(Rule(reply="down", status=500))
    critic = LLMCritic(LLMCriticConfig(), llm=llm, fallback=RecordingCritic(Verdict(True)))
    with pytest.raises(LLMError):
        critic.review("find a Apple", (), inp())
    assert critic.failures == 0


def test_config_is_strict() -> None:
    assert LLMCriticConfig().type == "llm"
    with pytest.raises(ValueError, match="extra"):
        LLMCriticConfig.model_validate({"type": "llm", "temperature": 0})


def test_the_critic_reads_the_validity_rules_and_not_the_steps_temporal_memory_holds(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    server.add(Rule(reply=critique(True)))
    guide = "- pick up the X: only with an empty hand."
    temporal = TemporalEntry("I found the apple and failed to pick it up.", 1, 2)
    memory = {"temporal": StoreResult("temporal", (temporal.line(),), [temporal])}
    LLMCritic(LLMCriticConfig(), llm=llm).review(
        "pick up the Apple", (), inp(skill_guide=guide, memory=memory, history=history())
    )
    prompt = server.chat_requests[0].last_user_text
    assert f"## What the actions do and when they are valid\n{guide}\n\n## Task" in prompt
    assert "## Recent actions\n(steps 1-2 are in temporal memory above)\n\n" in prompt
    assert "Step 2, action id" not in prompt


def test_the_prompt_names_the_agent_as_the_environment_does(llm: OpenAICompatClient) -> None:
    critic = LLMCritic(LLMCriticConfig(), llm=llm)
    assert critic.prompt("go north", (), inp()).startswith("You are the critic of a household robot.")
    worded = critic.prompt("go north", (), inp(robot="text-adventure player"))
    assert worded.startswith("You are the critic of a text-adventure player.")
    assert "household" not in worded


def test_an_unusable_reply_in_a_grammar_the_fallback_cannot_read_approves(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    """The deterministic fallback refuses an unknown grammar; the LLM critic, which reads any, approves."""
    server.add(Rule(reply="no idea"))
    critic = LLMCritic(LLMCriticConfig(), llm=llm, fallback=DeterministicCritic())
    other = inp(grammar="textworld", skills=("take apple",))
    assert critic.review("take apple", (), other) == Verdict(True, "critic reply unusable")
    assert critic.failures == 1
