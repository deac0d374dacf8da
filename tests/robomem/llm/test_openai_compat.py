"""The OpenAI-compatible client against a real loopback server (no monkeypatched SDK): replies, structured
output and per-role settings."""

from __future__ import annotations

import pytest

from robomem.errors import LLMError
from robomem.llm import LLMAccounting, LLMClient
from robomem.llm.openai_compat import ROLE_HEADER
from robomem.testing.scripted_llm import Rule, ScriptedLLMServer
from tests.robomem.llm.helpers import ASK, GOOD, SCHEMA, MakeClient


def formats(server: ScriptedLLMServer) -> list[str]:
    return [r.response_format_type for r in server.chat_requests]


def test_valid_json_reply_parses_and_sends_a_json_schema_request(
    server: ScriptedLLMServer, make_client: MakeClient, accounting: LLMAccounting
) -> None:
    server.add(Rule(reply=GOOD))
    client = make_client()
    assert isinstance(client, LLMClient)

    reply = client.complete(ASK, role="planner", schema=SCHEMA, schema_name="plan step!")

    assert reply.data == {"action": "pick", "target": "mug"}
    assert reply.error is None
    assert reply.text == GOOD
    assert reply.model == "test-model"
    assert reply.latency_s > 0
    (request,) = server.chat_requests
    assert reply.prompt_tokens == len(request.all_text.split())
    assert reply.completion_tokens == len(GOOD.split())
    assert request.messages == ASK
    assert request.body is not None
    assert request.body["temperature"] == 0.0
    assert request.body["max_tokens"] == 1024
    fmt = request.response_format
    assert fmt is not None
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"] == {"name": "plan_step_", "schema": SCHEMA, "strict": True}
    assert request.role == "planner"
    assert request.headers[ROLE_HEADER.lower()] == "planner"
    assert accounting.snapshot()["roles"]["planner"]["calls"] == 1


@pytest.mark.parametrize(
    "content",
    [
        f"Sure! Here is my answer:\n{GOOD}\nLet me know if you need more.",
        f"```json\n{GOOD}\n```",
        f"```\n{GOOD}\n```",
        f'<think>The mug {{is}} on the table, so {{"action": "wait"}}.</think>\n{GOOD}',
        f"<think>hmm</think>```json\n{GOOD}\n```",
    ],
    ids=["prose", "json-fence", "bare-fence", "think", "think-and-fence"],
)
def test_tolerant_parsing_of_wrapped_json(
    server: ScriptedLLMServer, make_client: MakeClient, content: str
) -> None:
    server.add(Rule(reply=content))
    reply = make_client().complete(ASK, role="planner", schema=SCHEMA)
    assert reply.data == {"action": "pick", "target": "mug"}
    assert reply.error is None
    assert len(server.chat_requests) == 1  # parsed first time: no repair request


def test_truncated_json_gives_no_data_after_one_correction_request(
    server: ScriptedLLMServer, make_client: MakeClient, accounting: LLMAccounting
) -> None:
    truncated = '{"action": "pick", "target": "mu'
    server.add(Rule(reply=truncated))

    reply = make_client().complete(ASK, role="planner", schema=SCHEMA)

    assert reply.data is None
    assert reply.error is not None
    assert "truncated" in reply.error
    assert reply.text == truncated
    first, second = server.chat_requests
    assert first.messages == ASK
    assert second.messages[:2] == ASK
    assert second.messages[2] == {"role": "assistant", "content": truncated}
    assert "action, target" in second.last_user_text
    roles = accounting.snapshot()["roles"]
    assert roles["planner"]["malformed_replies"] == 1
    assert roles["planner"]["repairs"] == 1
    assert roles["planner"]["requests"] == 2
    assert roles["planner"]["transport_errors"] == 0


def test_a_reply_cut_by_max_tokens_says_so(server: ScriptedLLMServer, make_client: MakeClient) -> None:
    server.add(Rule(reply='{"action": "pi', finish_reason="length"))
    reply = make_client(repair_attempts=0, max_tokens=5).complete(ASK, role="planner", schema=SCHEMA)
    assert reply.error == "malformed JSON (truncated); the reply hit max_tokens=5"
    assert reply.extra["finish_reason"] == "length"


def test_correction_request_can_repair_a_reply(server: ScriptedLLMServer, make_client: MakeClient) -> None:
    server.add(Rule(reply="I would pick the mug.", times=1), Rule(reply=GOOD))
    reply = make_client().complete(ASK, role="critic", schema=SCHEMA)
    assert reply.data == {"action": "pick", "target": "mug"}
    assert reply.extra["repairs"] == 1
    assert reply.extra["requests"] == 2


def test_no_repair_when_disabled(server: ScriptedLLMServer, make_client: MakeClient) -> None:
    server.add(Rule(reply="no json here"))
    reply = make_client(repair_attempts=0).complete(ASK, role="critic", schema=SCHEMA)
    assert reply.data is None
    assert reply.error == "no JSON object in the reply"
    assert len(server.chat_requests) == 1


def test_missing_required_keys_count_as_malformed(server: ScriptedLLMServer, make_client: MakeClient) -> None:
    server.add(Rule(reply='{"action": "pick"}'))
    reply = make_client(repair_attempts=0).complete(ASK, role="planner", schema=SCHEMA)
    assert reply.data is None
    assert reply.error is not None
    assert "target" in reply.error
    assert reply.extra["parsed"] == {"action": "pick"}


def test_only_the_essential_keys_are_needed(
    server: ScriptedLLMServer, make_client: MakeClient, accounting: LLMAccounting
) -> None:
    server.add(Rule(reply='{"action": "pick"}', times=1), Rule(reply='{"target": "mug"}'))
    client = make_client(repair_attempts=1)
    # The schema is still what the server is asked for ...
    reply = client.complete(ASK, role="planner", schema=SCHEMA, essential=("action",))
    assert reply.data == {"action": "pick"} and reply.error is None
    assert len(server.chat_requests) == 1 and reply.extra["repairs"] == 0
    assert server.chat_requests[0].response_format["json_schema"]["schema"] == SCHEMA  # type: ignore[index]
    # ... and a reply without an essential key is still repaired, then malformed.
    reply = client.complete(ASK, role="critic", schema=SCHEMA, essential=("action",))
    assert reply.data is None and reply.error == "JSON object lacks required keys: action"
    roles = accounting.snapshot()["roles"]
    assert roles["planner"]["malformed_replies"] == 0 and roles["critic"]["malformed_replies"] == 1
    assert roles["critic"]["repairs"] == 1


def test_without_schema_no_format_is_requested_and_nothing_parsed(
    server: ScriptedLLMServer, make_client: MakeClient
) -> None:
    server.add(Rule(reply="plain words"))
    reply = make_client().complete(ASK, role="summarizer")
    assert (reply.text, reply.data, reply.error) == ("plain words", None, None)
    assert formats(server) == ["none"]


def test_structured_output_none_sends_no_format_but_still_parses(
    server: ScriptedLLMServer, make_client: MakeClient
) -> None:
    server.add(Rule(reply=f"ok: {GOOD}"))
    reply = make_client(structured_output="none").complete(ASK, role="planner", schema=SCHEMA)
    assert reply.data == {"action": "pick", "target": "mug"}
    assert formats(server) == ["none"]


def test_rejected_json_schema_falls_back_to_json_object_and_is_remembered(
    server: ScriptedLLMServer, make_client: MakeClient, accounting: LLMAccounting
) -> None:
    server.add(
        Rule(
            response_format="json_schema", status=400, reply="response_format type json_schema is unsupported"
        ),
        Rule(reply=GOOD),
    )
    client = make_client()

    first = client.complete(ASK, role="planner", schema=SCHEMA)
    assert first.data == {"action": "pick", "target": "mug"}
    assert first.extra["response_format"] == "json_object+schema"
    assert formats(server) == ["json_schema", "json_object"]
    # The json_object request carries the schema (llama.cpp turns it into a grammar).
    assert server.chat_requests[1].response_format == {"type": "json_object", "schema": SCHEMA}

    second = client.complete(ASK, role="planner", schema=SCHEMA)
    assert second.data == {"action": "pick", "target": "mug"}
    assert formats(server) == ["json_schema", "json_object", "json_object"]
    assert accounting.snapshot()["total"]["fallbacks"] == 1


def test_a_format_fallback_of_one_role_does_not_degrade_the_others(
    server: ScriptedLLMServer, make_client: MakeClient, accounting: LLMAccounting
) -> None:
    # The server rejects the schema of one role only (e.g. a keyword its grammar compiler lacks): the other
    # roles must keep json_schema. Before, the downgrade was remembered per endpoint, for every role.
    server.add(
        Rule(role="memory.lessons", response_format="json_schema", status=400, reply="invalid json_schema"),
        Rule(reply=GOOD),
    )
    client = make_client()
    assert client.complete(ASK, role="memory.lessons", schema=SCHEMA).extra["response_format"] == (
        "json_object+schema"
    )
    assert client.complete(ASK, role="planner", schema=SCHEMA).extra["response_format"] == "json_schema"
    assert client.complete(ASK, role="memory.lessons", schema=SCHEMA).extra["response_format"] == (
        "json_object+schema"  # remembered for this role: no second rejected request
    )
    assert formats(server) == ["json_schema", "json_object", "json_schema", "json_object"]
    assert accounting.snapshot()["roles"]["memory.lessons"]["fallbacks"] == 1


def test_ladder_goes_down_to_no_format(server: ScriptedLLMServer, make_client: MakeClient) -> None:
    server.add(
        Rule(response_format="json_schema", status=400, reply="unknown response_format"),
        Rule(response_format="json_object", status=422, reply="unknown response_format"),
        Rule(reply=GOOD),
    )
    client = make_client()
    assert client.complete(ASK, role="planner", schema=SCHEMA).data is not None
    assert formats(server) == ["json_schema", "json_object", "json_object", "none"]
    assert client.complete(ASK, role="planner", schema=SCHEMA).data is not None
    assert formats(server)[-1] == "none"
    assert len(server.chat_requests) == 5


def test_a_400_for_another_reason_raises_at_once_and_is_not_remembered(
    server: ScriptedLLMServer, make_client: MakeClient, accounting: LLMAccounting
) -> None:
    server.add(Rule(status=400, reply="prompt is too long: 9000 tokens > context 8192"))
    client = make_client()
    with pytest.raises(LLMError, match=r"HTTP 400: prompt is too long") as caught:
        client.complete(ASK, role="planner", schema=SCHEMA)
    assert caught.value.status == 400
    assert formats(server) == ["json_schema"], "another format would not shorten the prompt"
    with pytest.raises(LLMError):
        client.complete(ASK, role="planner", schema=SCHEMA)
    assert formats(server)[1] == "json_schema"
    assert accounting.snapshot()["roles"]["planner"]["transport_errors"] == 2


def test_an_unexplained_400_still_walks_the_ladder(
    server: ScriptedLLMServer, make_client: MakeClient
) -> None:
    server.add(Rule(status=400, reply="bad request"))
    with pytest.raises(LLMError, match=r"HTTP 400: bad request"):
        make_client().complete(ASK, role="planner", schema=SCHEMA)
    assert formats(server) == ["json_schema", "json_object", "json_object", "none"]


def test_a_500_naming_the_format_is_a_rejection(server: ScriptedLLMServer, make_client: MakeClient) -> None:
    """llama-cpp-python's server answers an unsupported json_schema with HTTP 500 (its body, abridged)."""
    body = "validation error: ('body', 'response_format', 'type'): Input should be 'text' or 'json_object'"
    server.add(Rule(response_format="json_schema", status=500, reply=body), Rule(reply=GOOD))
    reply = make_client().complete(ASK, role="planner", schema=SCHEMA)
    assert reply.data == {"action": "pick", "target": "mug"}
    assert formats(server) == ["json_schema", "json_object"]


def test_a_500_for_another_reason_is_an_error(server: ScriptedLLMServer, make_client: MakeClient) -> None:
    server.add(Rule(status=500, reply="CUDA out of memory"))
    with pytest.raises(LLMError, match=r"HTTP 500: CUDA out of memory"):
        make_client().complete(ASK, role="planner", schema=SCHEMA)
    assert formats(server) == ["json_schema"]


def test_per_role_overrides_reach_the_server(server: ScriptedLLMServer, make_client: MakeClient) -> None:
    client = make_client(
        temperature=0.2,
        roles={
            "planner": {"model": "big-planner", "max_tokens": 2048},
            "memory": {"model": "memory-model", "temperature": 0.7},
            "memory.relations": {"max_tokens": 77},
        },
    )
    for role in ("planner", "memory.relations", "memory.relations.extra", "memory", "critic"):
        client.complete(ASK, role=role)

    sent = [
        (r.role, r.model, (r.body or {})["temperature"], (r.body or {})["max_tokens"])
        for r in server.chat_requests
    ]
    assert sent == [
        ("planner", "big-planner", 0.2, 2048),
        ("memory.relations", "memory-model", 0.7, 77),
        ("memory.relations.extra", "memory-model", 0.7, 77),
        ("memory", "memory-model", 0.7, 1024),
        ("critic", "test-model", 0.2, 1024),
    ]


def test_a_role_can_use_another_endpoint(server: ScriptedLLMServer, make_client: MakeClient) -> None:
    with ScriptedLLMServer([Rule(reply="from the other server")]) as other:
        client = make_client(roles={"critic": {"base_url": other.base_url, "model": "critic-model"}})
        assert client.complete(ASK, role="critic").text == "from the other server"
        assert client.complete(ASK, role="planner").text == "{}"
        assert [r.model for r in other.chat_requests] == ["critic-model"]
        assert [r.model for r in server.chat_requests] == ["test-model"]
