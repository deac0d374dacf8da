"""The LLM thalamus through a real OpenAI-compatible server (scripted replies) and the real client."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from envs.base import Observation, PerceivedEntity, Perception
from envs.task import Task
from modules.hippocampus.base import EpisodeContext
from modules.prefrontal.base import ExecutedAction
from modules.thalamus.base import Perceived, Thalamus
from modules.thalamus.deterministic import DeterministicThalamus
from modules.thalamus.llm import LLMThalamus, LLMThalamusConfig, clean_queries
from robomem.errors import LLMError
from robomem.llm.accounting import LLMAccounting
from robomem.llm.config import LLMConfig
from robomem.llm.openai_compat import OpenAICompatClient
from robomem.testing.scripted_llm import RecordedRequest, Rule, ScriptedLLMServer

TASK = Task(
    task_id="t1",
    profile="alfred",
    subset="base",
    task_type="pick_and_place_simple",
    instruction="Put an apple in the fridge.",
    scene="house_1",
)
CONTEXT = EpisodeContext(site="house_1", episode_id="ep1", instruction=TASK.instruction)
PERCEPTION = Perception(
    location="CounterTop_1",
    room="Kitchen",
    holding="Apple_1",
    entities=(PerceivedEntity(name="Apple_1", type="Apple", kind="object"),),
)
OBSERVATION = Observation(
    instruction=TASK.instruction, text="You are at CounterTop_1.", perception=PERCEPTION
)
LAST = ExecutedAction("pick up the Apple", "Last action executed successfully.", True, 3)
FAILED = ExecutedAction("open the Fridge", "Last action is invalid. The Fridge is too far away.", False, 4)
SUMMARY = json.dumps({"summary": "I picked up Apple_1 at CounterTop_1."})
QUERIES = json.dumps({"queries": ["where is the Fridge", "Apple_1", "fridge door blocked", "apple tasks"]})
#: Only a bound for a broken implementation: a concurrent one never waits this long.
MEET_TIMEOUT_S = 5.0


@pytest.fixture
def server() -> Iterator[ScriptedLLMServer]:
    with ScriptedLLMServer(max_delay_s=10.0) as srv:
        yield srv


@pytest.fixture
def llm(server: ScriptedLLMServer) -> Iterator[OpenAICompatClient]:
    config = LLMConfig(
        model="tiny",
        base_url=server.base_url,
        max_retries=0,
        repair_attempts=0,
        timeout_s=15.0,
        on_failure="fallback",  # what most tests here are about; the default (stop) is tested below
    )
    with OpenAICompatClient(config, accounting=LLMAccounting()) as client:
        yield client


def thalamus(llm: OpenAICompatClient, **config: object) -> LLMThalamus:
    return LLMThalamus(LLMThalamusConfig.model_validate(config), llm=llm, fallback=DeterministicThalamus())


def perceive(
    t: Thalamus, last: ExecutedAction | None = LAST, observation: Observation = OBSERVATION
) -> Perceived:
    return t.perceive(CONTEXT, TASK, 3, observation, last, time=12.5)


def by_role(server: ScriptedLLMServer, role: str) -> RecordedRequest:
    (request,) = [r for r in server.chat_requests if r.role == role]
    return request


def test_summary_and_queries_calls_run_concurrently(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    # Each call's reply waits until the other call has reached the server. Made one after the other, the
    # first would time out on its wait and answer garbage (so the fallback would show); made in parallel,
    # both meet at once. No timing is asserted: only which replies came back.
    arrived = {"summary": threading.Event(), "queries": threading.Event()}

    def meet(me: str, other: str, reply: str) -> Callable[[RecordedRequest], str]:
        def answer(_: RecordedRequest) -> str:
            arrived[me].set()
            return reply if arrived[other].wait(MEET_TIMEOUT_S) else "alone: the calls were sequential"

        return answer

    server.add(
        Rule(reply=meet("summary", "queries", SUMMARY), role="thalamus.summary"),
        Rule(reply=meet("queries", "summary", QUERIES), role="thalamus.queries"),
    )
    t = thalamus(llm)
    perceived = perceive(t)
    assert perceived.summary.text == "I picked up Apple_1 at CounterTop_1."
    assert perceived.queries == ("where is the Fridge", "Apple_1", "fridge door blocked", "apple tasks")
    assert t.summary_failures == 0 and t.query_failures == 0


def test_structured_fields_are_exactly_the_deterministic_ones(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    server.add(Rule(reply=SUMMARY, role="thalamus.summary"), Rule(reply=QUERIES, role="thalamus.queries"))
    assert isinstance(thalamus(llm), Thalamus)
    for last in (LAST, FAILED, None):
        expected = perceive(DeterministicThalamus(), last).summary
        got = perceive(thalamus(llm), last).summary
        assert got == replace(expected, text="I picked up Apple_1 at CounterTop_1.")
        assert got.perception == PERCEPTION and got.time == 12.5 and got.step == 3


def test_prompts_carry_the_step_and_use_their_roles(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    server.add(Rule(reply=SUMMARY, role="thalamus.summary"), Rule(reply=QUERIES, role="thalamus.queries"))
    perceive(thalamus(llm), FAILED)
    summary, queries = by_role(server, "thalamus.summary"), by_role(server, "thalamus.queries")
    for request in (summary, queries):
        text = request.last_user_text
        assert "Put an apple in the fridge." in text and "You are at CounterTop_1." in text
        assert "Action: open the Fridge (it failed)" in text and "The Fridge is too far away." in text
        assert request.response_format_type == "json_schema"
    assert '{"summary":' in summary.last_user_text
    assert "4 to 5 short search queries" in queries.last_user_text


def test_initial_observation_prompt(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(Rule(reply=SUMMARY, role="thalamus.summary"), Rule(reply=QUERIES, role="thalamus.queries"))
    perceived = perceive(thalamus(llm), None)
    assert perceived.summary.action is None and perceived.summary.action_success is None
    assert "this is the initial observation" in by_role(server, "thalamus.summary").last_user_text


def test_queries_are_cleaned_deduplicated_and_clipped(
    server: ScriptedLLMServer, llm: OpenAICompatClient
) -> None:
    messy = ["  Fridge  location ", "", "fridge location", 7, None, "Apple_1", "a", "b", "c", "d"]
    server.add(
        Rule(reply=SUMMARY, role="thalamus.summary"),
        Rule(reply=json.dumps({"queries": messy}), role="thalamus.queries"),
    )
    assert perceive(thalamus(llm)).queries == ("Fridge location", "Apple_1", "a", "b", "c")


def test_malformed_summary_falls_back_alone(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(
        Rule(reply="I picked up the apple, I think.", role="thalamus.summary"),
        Rule(reply=QUERIES, role="thalamus.queries"),
    )
    t = thalamus(llm)
    perceived = perceive(t)
    assert perceived.summary == perceive(DeterministicThalamus()).summary
    assert perceived.queries[0] == "where is the Fridge"
    assert t.summary_failures == 1 and t.query_failures == 0
    assert llm.accounting is not None
    roles = llm.accounting.snapshot()["roles"]
    assert roles["thalamus.summary"]["deterministic_fallbacks"] == 1
    assert roles["thalamus.queries"]["deterministic_fallbacks"] == 0


@pytest.mark.parametrize("status", [200, 503])
def test_a_failed_half_stops_by_default(server: ScriptedLLMServer, status: int) -> None:
    # A malformed reply (200) or an endpoint error (503): under the default policy both are one `[llm]` error.
    server.add(
        Rule(reply="I picked up the apple, I think.", role="thalamus.summary", status=status),
        Rule(reply=QUERIES, role="thalamus.queries"),
    )
    config = LLMConfig(model="tiny", base_url=server.base_url, max_retries=0, repair_attempts=0)
    with OpenAICompatClient(config) as client, pytest.raises(LLMError) as caught:
        perceive(thalamus(client))
    assert caught.value.role == "thalamus.summary"


@pytest.mark.parametrize(
    "reply",
    ['{"queries": ["where is', '{"queries": []}', '{"queries": "fridge"}', '{"queries": ["", "  "]}'],
    ids=["truncated", "empty-list", "not-a-list", "only-blanks"],
)
def test_unusable_queries_fall_back_alone(
    server: ScriptedLLMServer, llm: OpenAICompatClient, reply: str
) -> None:
    server.add(Rule(reply=SUMMARY, role="thalamus.summary"), Rule(reply=reply, role="thalamus.queries"))
    t = thalamus(llm)
    perceived = perceive(t)
    assert perceived.queries == perceive(DeterministicThalamus()).queries
    assert perceived.summary.text == "I picked up Apple_1 at CounterTop_1."
    assert t.summary_failures == 0 and t.query_failures == 1


def test_images_are_sent_to_both_calls(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(Rule(reply=SUMMARY, role="thalamus.summary"), Rule(reply=QUERIES, role="thalamus.queries"))
    observation = OBSERVATION.model_copy(update={"images": ("b2xk", "bmV3")})
    perceive(thalamus(llm), observation=observation)
    for role in ("thalamus.summary", "thalamus.queries"):
        content = by_role(server, role).messages[0]["content"]
        assert [p["type"] for p in content] == ["text", "image_url"]
        assert content[1]["image_url"]["url"] == "data:image/png;base64,bmV3"


def test_summary_is_capped(server: ScriptedLLMServer, llm: OpenAICompatClient) -> None:
    server.add(
        Rule(reply=json.dumps({"summary": "word " * 500}), role="thalamus.summary"),
        Rule(reply=QUERIES, role="thalamus.queries"),
    )
    assert len(perceive(thalamus(llm, summary_chars=100)).summary.text) <= 100


def test_transport_failure_propagates_after_both_calls_finish(server: ScriptedLLMServer) -> None:
    server.add(
        Rule(reply="down", status=500, role="thalamus.summary"), Rule(reply=QUERIES, role="thalamus.queries")
    )
    config = LLMConfig(model="tiny", base_url=server.base_url, max_retries=0, on_failure="stop")
    with OpenAICompatClient(config) as llm, pytest.raises(LLMError, match="HTTP 500"):
        perceive(thalamus(llm))
    assert {r.role for r in server.chat_requests} == {"thalamus.summary", "thalamus.queries"}


def test_clean_queries_rejects_non_lists() -> None:
    assert clean_queries("fridge", limit=5, chars=50) == ()
    assert clean_queries(["x" * 80], limit=5, chars=20) == ("x" * 18 + " …",)
