"""The LLM planner through a real OpenAI-compatible server (scripted replies) and the real client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from envs.base import Observation
from envs.household.examples import gold_examples
from modules.hippocampus.base import StoreResult
from modules.hippocampus.temporal import TemporalEntry
from modules.prefrontal.base import ExecutedAction, Planner
from modules.prefrontal.llm_planner import LLMPlanner, LLMPlannerConfig
from robomem.errors import LLMError
from robomem.llm import LLMAccounting
from robomem.llm.openai_compat import OpenAICompatClient
from robomem.testing.scripted_llm import Rule, ScriptedLLMServer
from tests.modules.prefrontal.llm_helpers import (
    IMAGE,
    SKILLS,
    TASK,
    history,
    image_urls,
    inp,
    memory,
    plan_reply,
    schema_of,
    scripted_client,
)


@pytest.fixture
def server() -> Iterator[ScriptedLLMServer]:
    with ScriptedLLMServer(max_delay_s=10.0) as srv:
        yield srv


@pytest.fixture
def llm(server: ScriptedLLMServer) -> Iterator[OpenAICompatClient]:
    with scripted_client(server) as client:
        yield client


def planner(llm: OpenAICompatClient, **config: object) -> LLMPlanner:
    return LLMPlanner(LLMPlannerConfig.model_validate(config), llm=llm)


def test_valid_plan_maps_ids_and_names_to_skills(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(Rule(reply=plan_reply((0, "find a Apple"), (1, "pick up the Apple")), role="planner"))
    p = planner(llm)
    assert isinstance(p, Planner)
    plan = p.plan(inp())
    assert plan.actions == ("find a Apple", "pick up the Apple")
    assert not plan.output_error and not plan.empty
    assert "The apple is on the counter." in plan.reasoning and "Pick up the apple" in plan.reasoning
    assert plan.raw.startswith("{")
    (request,) = server.chat_requests
    assert request.role == "planner" and request.response_format_type == "json_schema"
    # No image: EB's language-only contract, without visual_state_description.
    assert schema_of(request)["required"] == ["reasoning_and_reflection", "language_plan", "executable_plan"]


def test_prompt_lists_every_skill_and_is_rendered_per_call(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    server.add(
        Rule(reply=plan_reply((0, "find a Apple")), times=1), Rule(reply=plan_reply((0, "find a Mug")))
    )
    p = planner(llm)
    assert p.plan(inp()).actions == ("find a Apple",)
    assert p.plan(inp(skills=("find a Mug", "pick up the Mug"))).actions == ("find a Mug",)
    first, second = (r.last_user_text for r in server.chat_requests)
    for i, skill in enumerate(SKILLS):
        assert f"action id {i}: {skill}" in first
    assert "action id 0: find a Mug" in second and "action id 1: pick up the Mug" in second
    assert "find a Apple" not in second  # the list changes per episode: nothing is cached
    assert TASK.instruction in first and "You are in the Kitchen." in first


def test_prompt_has_memory_sections_history_and_reflection(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    server.add(Rule(reply=plan_reply((0, "find a Apple"))))
    planner(llm).plan(
        inp(memory=memory(), history=history(), reflection="You hold a mug: put it down first.", steps_left=7)
    )
    prompt = server.chat_requests[0].last_user_text
    assert "### Temporal memory" in prompt and "[step 1] I found the Apple on CounterTop_1." in prompt
    assert "### Spatial memory (where things are)\n(nothing relevant retrieved)" in prompt
    assert "Last time the apple was in Cabinet_2." in prompt
    assert "Semantic memory" not in prompt  # a missing store (ablation) gets no section at all
    assert "Step 1, action id 0, find a Apple, env feedback: Last action executed successfully." in prompt
    assert (
        "Step 2, action id 1, pick up the Apple, env feedback: Last action is invalid. Robot is holding a Mug"
        in prompt
    )
    assert "## Critic feedback on your last plan\nYou hold a mug: put it down first." in prompt
    assert "You have 7 steps left." in prompt


def test_first_plan_prompt_says_there_is_no_history_or_memory(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    server.add(Rule(reply=plan_reply((0, "find a Apple"))))
    planner(llm).plan(inp())
    prompt = server.chat_requests[0].last_user_text
    assert "(no actions taken yet)" in prompt and "(no memory available)" in prompt
    assert "Critic feedback" not in prompt and "steps left" not in prompt


def test_prompt_size_is_bounded_by_the_caps(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(Rule(reply=plan_reply((0, "find a Apple"))))
    lines = tuple(f"Fact number {i}: the apple might be somewhere else entirely." for i in range(500))
    huge = {name: StoreResult(name, lines) for name in ("temporal", "spatial", "episodic", "semantic")}
    long_history = tuple(ExecutedAction("find a Apple", "ok " * 50, True, i) for i in range(200))
    observation = Observation(instruction=TASK.instruction, text="clutter " * 5000)
    cfg = {
        "memory_chars": 300,
        "recall_tokens": 75,  # ~300 characters of past episodes
        "history_chars": 800,
        "history_steps": 30,
        "observation_chars": 500,
        "reflection_chars": 100,
        "examples": 0,
    }
    planner(llm, **cfg).plan(
        inp(memory=huge, history=long_history, observation=observation, reflection="why " * 1000)
    )
    prompt = server.chat_requests[0].last_user_text
    fixed = 4000  # instructions, skill list and output format
    assert len(prompt) < fixed + 4 * 300 + 800 + 500 + 100
    assert "more lines omitted)" in prompt and "earlier steps omitted)" in prompt
    assert "Step 199, action id 0" in prompt  # the most recent steps are the ones kept


def test_wrong_id_with_a_valid_name_trusts_the_name(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    # Models miscount ids in long lists far more often than they mistype a name they copied.
    server.add(Rule(reply=plan_reply((3, "find a Apple"), (99, "pick up the Apple"), (2, "FIND A FRIDGE"))))
    p = planner(llm)
    plan = p.plan(inp())
    assert plan.actions == ("find a Apple", "pick up the Apple", "find a Fridge")
    assert not plan.output_error
    assert any("used the name (id 0)" in note for note in p.notes)


@pytest.mark.parametrize(
    "first",
    [(6, "teleport to the Fridge"), (-1, ""), (42, "slice the Apple"), (0, "pick up the Knife")],
    ids=[
        "out-of-range-id-unknown-name",
        "negative-id-no-name",
        "name-not-in-skills",
        "valid-id-unknown-name",
    ],
)
def test_invalid_first_action_is_an_output_error(
    server: ScriptedLLMServer, llm: OpenAICompatClient, first: tuple[object, object]
) -> None:
    reply = plan_reply(first, (1, "pick up the Apple"))
    server.add(Rule(reply=reply))
    p = planner(llm, max_retries=0)
    plan = p.plan(inp())
    assert plan.output_error and plan.actions == () and not plan.empty
    assert plan.raw == reply
    assert p.failed_replies == 1 and len(server.chat_requests) == 1


def test_later_bad_entry_truncates_the_plan(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(
        Rule(
            reply=plan_reply(
                (2, "find a Fridge"), (3, "open the Fridge"), (17, "fly"), (5, "close the Fridge")
            )
        )
    )
    p = planner(llm)
    plan = p.plan(inp())
    assert plan.actions == ("find a Fridge", "open the Fridge")
    assert not plan.output_error
    assert p.notes == ("plan truncated before entry 2: action 'fly' (id 17) is not in the action list",)
    assert len(server.chat_requests) == 1  # a usable prefix is no reason to retry


def test_empty_plan_is_a_decision_not_an_error(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(Rule(reply=plan_reply()))
    plan = planner(llm).plan(inp())
    assert plan.empty and not plan.output_error and plan.actions == ()
    assert len(server.chat_requests) == 1


@pytest.mark.parametrize(
    ("reply", "finish_reason"),
    [
        ("I think I should find the apple first, then open the fridge.", "stop"),
        (
            '{"reasoning_and_reflection": "x", "language_plan": "y", "executable_plan": [{"action_id": 0',
            "length",
        ),
        ('{"reasoning_and_reflection": "x", "language_plan": "y"}', "stop"),
        (
            '{"reasoning_and_reflection": "x", "language_plan": "y", "executable_plan": "find a Apple"}',
            "stop",
        ),
    ],
    ids=["prose-only", "truncated", "missing-executable-plan", "plan-not-a-list"],
)
def test_unusable_replies_are_output_errors_with_raw_kept(
    server: ScriptedLLMServer, llm: OpenAICompatClient, reply: str, finish_reason: str
) -> None:
    server.add(Rule(reply=reply, finish_reason=finish_reason))
    plan = planner(llm, max_retries=0).plan(inp())
    assert plan.output_error and plan.actions == ()
    assert plan.raw == reply


def test_prose_and_fences_around_json_are_tolerated(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    body = plan_reply((0, "find a Apple"), (1, "pick up the Apple"))
    server.add(Rule(reply=f"<think>hmm</think>Sure! Here is my plan:\n```json\n{body}\n```\nGood luck."))
    plan = planner(llm).plan(inp())
    assert plan.actions == ("find a Apple", "pick up the Apple") and not plan.output_error


def test_retry_after_one_bad_reply_returns_the_corrected_plan(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    seen = {"visual_state_description": "A kitchen."}  # required when an image is sent
    bad = plan_reply((40, "find a Banana"), **seen)
    server.add(Rule(reply=bad, times=1), Rule(reply=plan_reply((0, "find a Apple"), **seen)))
    p = planner(llm)  # max_retries defaults to 1
    plan = p.plan(inp(observation=Observation(instruction="i", text="t", images=(IMAGE,))))
    assert plan.actions == ("find a Apple",) and not plan.output_error
    assert p.failed_replies == 1 and p.retries == 1
    first, second = server.chat_requests
    assert [m["role"] for m in second.messages] == ["user", "assistant", "user"]
    assert second.messages[0] == first.messages[0]  # the original prompt (with its image), unchanged
    assert second.messages[1]["content"] == bad
    correction = second.last_user_text
    assert "could not be used" in correction and "'find a Banana'" in correction and "0 to 5" in correction


def test_retries_are_bounded_and_never_raise(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(Rule(reply="not json at all"))
    p = planner(llm, max_retries=2)
    plan = p.plan(inp())
    assert plan.output_error and plan.raw == "not json at all"
    assert len(server.chat_requests) == 3 and p.failed_replies == 3 and p.retries == 2


def test_client_repair_and_planner_retry_compose(server: ScriptedLLMServer) -> None:
    # The client repairs malformed JSON itself (repair_attempts); the planner retries what the client
    # could not fix, e.g. an unknown action: 2 client requests per planner attempt at most.
    server.add(Rule(reply="{broken", times=1), Rule(reply=plan_reply((9, "dance")), times=1))
    server.add(Rule(reply=plan_reply((3, "open the Fridge"))))
    with scripted_client(server, repair_attempts=1) as client:
        plan = planner(client).plan(inp())
    assert plan.actions == ("open the Fridge",)
    assert len(server.chat_requests) == 3


def test_plan_length_is_capped(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(Rule(reply=plan_reply(*[(0, "find a Apple")] * 30)))
    p = planner(llm, max_plan_len=4)
    assert p.plan(inp()).actions == ("find a Apple",) * 4
    assert p.notes == ("plan capped at 4 of 30 actions",)


def test_images_go_as_image_parts_and_ask_for_a_visual_description(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    server.add(Rule(reply=plan_reply((0, "find a Apple"), visual_state_description="A kitchen.")))
    frames = ("b2xkLWZyYW1l", IMAGE)
    plan = planner(llm).plan(inp(observation=Observation(instruction="i", text="t", images=frames)))
    assert plan.actions == ("find a Apple",)
    (request,) = server.chat_requests
    assert image_urls(request) == [f"data:image/png;base64,{IMAGE}"]  # only the latest frame by default
    assert schema_of(request)["required"][0] == "visual_state_description"
    assert '"visual_state_description"' in request.last_user_text


def test_language_only_config_sends_no_images(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(Rule(reply=plan_reply((0, "find a Apple"))))
    planner(llm, max_images=0).plan(inp(observation=Observation(instruction="i", text="t", images=(IMAGE,))))
    (request,) = server.chat_requests
    assert image_urls(request) == [] and "visual_state_description" not in schema_of(request)["properties"]


def test_transport_failures_propagate(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(Rule(reply="overloaded", status=503))
    with pytest.raises(LLMError, match="HTTP 503"):
        planner(llm).plan(inp())


def test_config_is_frozen_and_strict() -> None:
    cfg = LLMPlannerConfig()
    assert cfg.type == "llm" and cfg.max_plan_len == 20 and cfg.max_retries == 1
    with pytest.raises(ValueError, match="extra"):
        LLMPlannerConfig.model_validate({"max_plan_length": 3})
    with pytest.raises(ValueError, match="frozen"):
        cfg.max_retries = 3  # type: ignore[misc]


def test_a_500_once_is_retried_and_counted_in_the_planners_usage(server: ScriptedLLMServer) -> None:
    """Issue #10, item 14: the retry happens and shows in the accounting, not only on the server."""
    server.add(
        Rule(status=500, reply="upstream hiccup", times=1, role="planner"),
        Rule(reply=plan_reply((0, "find a Apple")), role="planner"),
    )
    accounting = LLMAccounting()
    with scripted_client(server, max_retries=1) as client:
        client.accounting = accounting
        p = planner(client)
        plan = p.plan(inp())
    assert plan.actions == ("find a Apple",) and not plan.output_error and p.failed_replies == 0
    assert len(server.chat_requests) == 2
    usage = accounting.snapshot()["roles"]["planner"]
    assert (usage["calls"], usage["requests"], usage["retries"], usage["transport_errors"]) == (1, 2, 1, 0)


# ---- what the prompt is built from (issue #11: prompts a real model can win with) -------------------------
def _temporal(*entries: TemporalEntry) -> StoreResult:
    return StoreResult("temporal", tuple(e.line() for e in entries), list(entries))


def _steps(n: int) -> tuple[ExecutedAction, ...]:
    return tuple(ExecutedAction(SKILLS[i % 2], f"feedback {i}", True, i) for i in range(1, n + 1))


def test_history_holds_only_the_steps_temporal_memory_does_not(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    server.add(Rule(reply=plan_reply((0, "find a Apple"))))
    temporal = _temporal(TemporalEntry("early work", 0, 4), TemporalEntry("found it", 5, 5))
    planner(llm).plan(inp(memory={"temporal": temporal}, history=_steps(7)))
    prompt = server.chat_requests[0].last_user_text
    history = prompt.split("## The action history\n", 1)[1].split("\n\n", 1)[0]
    # Steps 6 and 7 are not in temporal memory yet (e.g. its update is behind after a resume): listed raw.
    assert history == (
        "(steps 1-5 are in temporal memory above)\n"
        "Step 6, action id 0, find a Apple, env feedback: feedback 6\n"
        "Step 7, action id 1, pick up the Apple, env feedback: feedback 7"
    )


def test_history_is_bounded_and_can_be_the_last_k_steps(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    server.add(Rule(reply=plan_reply((0, "find a Apple"))))
    temporal = _temporal(TemporalEntry("all of it", 0, 30))
    planner(llm, history="last", history_steps=3).plan(inp(memory={"temporal": temporal}, history=_steps(30)))
    planner(llm).plan(inp(history=_steps(30)))  # temporal memory ablated: the last 5 steps, bounded
    last_k, ablated = (r.last_user_text for r in server.chat_requests)
    assert "(27 earlier steps omitted)\nStep 28, " in last_k and "Step 30, " in last_k
    assert "(25 earlier steps omitted)\nStep 26, " in ablated and "Step 25, " not in ablated


def test_guide_examples_and_budget_reach_the_prompt(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    server.add(Rule(reply=plan_reply((0, "find a Apple"))))
    guide = "- find a X: go to X.\n- pick up the X: only with an empty hand."
    planner(llm, examples=1).plan(inp(skill_guide=guide, steps_left=1, invalid_left=3))
    planner(llm, examples=0).plan(inp(task=TASK.model_copy(update={"profile": "my_robot"})))
    planner(llm, examples=3).plan(inp(task=TASK.model_copy(update={"profile": "my_robot"})))
    full, bare, unknown_profile = (r.last_user_text for r in server.chat_requests)
    assert f"## What the actions do and when they are valid\n{guide}\n\n## Guidelines" in full
    assert "\nExample 1: " in full and "Example 2:" not in full
    (example,) = gold_examples("alfred", 1)
    assert f'Example 1: "{example.instruction}" (done in {len(example.actions)} actions)\n  1. ' in full
    assert "You have 1 step left; 3 more invalid actions will end the episode.\n" in full
    for prompt in (bare, unknown_profile):
        assert "What the actions do" not in prompt and "Example 1" not in prompt
        assert "## Guidelines" in prompt and "steps left" not in prompt


def test_the_prompt_names_the_agent_as_the_environment_does(llm: OpenAICompatClient) -> None:
    assert planner(llm).prompt(inp()).startswith("You are a household robot.")
    worded = planner(llm).prompt(inp(robot="text-adventure player"))
    assert worded.startswith("You are a text-adventure player.")
    assert "household robot" not in worded
