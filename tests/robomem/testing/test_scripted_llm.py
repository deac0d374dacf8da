"""The scripted server on its own: raw HTTP, then the openai SDK."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import openai
import pytest

from robomem.llm.openai_compat import ROLE_HEADER as CLIENT_ROLE_HEADER
from robomem.testing.scripted_llm import ROLE_HEADER, RecordedRequest, Rule, ScriptedLLMServer


@pytest.fixture
def server() -> Iterator[ScriptedLLMServer]:
    with ScriptedLLMServer(max_delay_s=10.0) as srv:
        yield srv


def post(
    server: ScriptedLLMServer,
    body: Any,
    headers: dict[str, str] | None = None,
    path: str = "/v1/chat/completions",
) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        conn.request("POST", path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def chat(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "m",
        "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": text}],
        **extra,
    }


def test_role_header_matches_the_client() -> None:
    assert ROLE_HEADER == CLIENT_ROLE_HEADER


def test_reply_shape_and_usage(server: ScriptedLLMServer) -> None:
    server.add(Rule(reply="two words"))
    status, body = post(server, chat("hello there"))
    assert status == 200
    assert body["object"] == "chat.completion"
    assert body["model"] == "m"
    assert body["id"].startswith("chatcmpl-")
    assert isinstance(body["created"], int)
    assert body["choices"] == [
        {"index": 0, "message": {"role": "assistant", "content": "two words"}, "finish_reason": "stop"}
    ]
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def test_rules_match_in_order_with_every_matcher() -> None:
    rules = [
        Rule(reply="schema", response_format="json_schema"),
        Rule(reply="last-user", contains="PLAN"),
        Rule(reply="anywhere", anywhere="sys-marker"),
        Rule(reply="by-role", role="critic"),
        Rule(reply="by-model", model="special"),
        Rule(reply="once", contains="ONCE", times=1),
    ]
    with ScriptedLLMServer(rules, default_reply="default") as server:

        def content(body: dict[str, Any], headers: dict[str, str] | None = None) -> str:
            return str(post(server, body, headers)[1]["choices"][0]["message"]["content"])

        assert content(chat("PLAN", response_format={"type": "json_schema", "json_schema": {}})) == "schema"
        assert content(chat("PLAN", response_format={"type": "json_object"})) == "last-user"
        body = chat("x")
        body["messages"][0]["content"] = "sys-marker"
        assert content(body) == "anywhere"
        # "contains" looks at the last user message only.
        body = chat("x")
        body["messages"].insert(1, {"role": "user", "content": "PLAN"})
        assert content(body) == "default"
        assert content(chat("x"), {ROLE_HEADER: "critic"}) == "by-role"
        assert content({**chat("x"), "model": "critic"}) == "by-role"
        assert content({**chat("x"), "model": "special"}) == "by-model"
        assert content(chat("ONCE")) == "once"
        assert content(chat("ONCE")) == "default"
        assert [r.role for r in server.chat_requests][4] == "critic"


def test_callable_replies_see_the_request_and_parts(server: ScriptedLLMServer) -> None:
    seen: list[RecordedRequest] = []

    def reply(request: RecordedRequest) -> str:
        seen.append(request)
        return request.last_user_text.upper()

    server.add(Rule(reply=reply))
    parts = [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}},
    ]
    status, body = post(server, {"model": "m", "messages": [{"role": "user", "content": parts}]})
    assert (status, body["choices"][0]["message"]["content"]) == (200, "LOOK")
    assert seen[0].messages[0]["content"] == parts
    assert seen[0].response_format_type == "none"


def test_error_statuses_and_bad_requests(server: ScriptedLLMServer) -> None:
    def broken(_: RecordedRequest) -> str:
        raise RuntimeError("script bug")

    server.add(
        Rule(contains="REJECT", status=400, reply="json_schema unsupported"),
        Rule(contains="BUG", reply=broken),
    )
    assert post(server, chat("REJECT")) == (
        400,
        {
            "error": {
                "message": "json_schema unsupported",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        },
    )
    status, body = post(server, chat("BUG"))
    assert status == 500
    assert "RuntimeError: script bug" in body["error"]["message"]
    assert post(server, b"not json")[0] == 400
    assert post(server, chat("x", stream=True))[0] == 400
    assert post(server, chat("x"), path="/v1/completions")[0] == 404
    assert [r.body is None for r in server.requests] == [False, False, True, False, False]


def test_the_openai_sdk_can_list_models_and_chat() -> None:
    with ScriptedLLMServer([Rule(reply="hi")], models=("alpha", "beta")) as server:
        with openai.OpenAI(base_url=server.base_url, api_key="x", max_retries=0, timeout=10) as client:
            assert [m.id for m in client.models.list()] == ["alpha", "beta"]
            completion = client.chat.completions.create(
                model="alpha", messages=[{"role": "user", "content": "yo"}]
            )
        assert completion.choices[0].message.content == "hi"
        assert completion.usage is not None
        assert completion.usage.completion_tokens == 1
        assert [(r.method, r.path) for r in server.requests] == [
            ("GET", "/v1/models"),
            ("POST", "/v1/chat/completions"),
        ]
        assert server.requests[1].headers["authorization"] == "Bearer x"


def test_fixed_delay_applies_to_every_chat_reply() -> None:
    with ScriptedLLMServer(fixed_delay_s=0.2) as server:
        started = time.monotonic()
        assert post(server, chat("x"))[0] == 200
        assert time.monotonic() - started >= 0.15  # a lower bound only: sleeping never ends early


def test_embeddings_can_be_served_without_the_chat_delay() -> None:
    # A chat model answering after L seconds next to an embedder answering at once (bench/vs_mem0.py): with
    # the chat delay on embeddings too, the request would time out (the client waits 10 s).
    with ScriptedLLMServer(fixed_delay_s=30.0, embedding_delay_s=0.0) as server:
        status, reply = post(server, {"model": "m", "input": ["a"]}, path="/v1/embeddings")
        assert status == 200 and len(reply["data"]) == 1


def test_close_is_bounded_while_a_reply_is_delayed() -> None:
    server = ScriptedLLMServer([Rule(delay_s=60.0)], max_delay_s=60.0).start()
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(post(server, chat("x")))
        except Exception as exc:  # the server hangs up without answering
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    while not server.chat_requests:
        time.sleep(0.01)
    started = time.monotonic()
    server.close()
    caller.join(20)
    assert not caller.is_alive()
    assert time.monotonic() - started < 20  # generous: without the wake-up it would take 60 s
    assert isinstance(outcome[0], Exception)
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.base_url
    server.close()  # idempotent


def test_delays_are_capped() -> None:
    with ScriptedLLMServer([Rule(delay_s=3600)], max_delay_s=0.05) as server:
        assert post(server, chat("x"))[0] == 200


# -- /v1/embeddings ----------------------------------------------------------------------------------------


def test_embeddings_are_the_hashed_vectors_as_floats_or_base64() -> None:
    from robomem.testing.hashing import HashingEmbedder

    with ScriptedLLMServer(embedding_dim=16, embedding_dims={"wide": 24}) as server:
        status, floats = post(server, {"model": "m", "input": ["a red mug", "x"]}, path="/v1/embeddings")
        assert status == 200
        expected = HashingEmbedder(16).embed(["a red mug", "x"])
        assert [d["index"] for d in floats["data"]] == [0, 1]
        assert floats["data"][0]["embedding"] == pytest.approx(expected[0].tolist())
        assert floats["usage"] == {"prompt_tokens": 4, "total_tokens": 4}
        body = {"model": "m", "input": "a red mug", "encoding_format": "base64"}
        _, packed = post(server, body, path="/v1/embeddings")
        raw = base64.b64decode(packed["data"][0]["embedding"])
        assert np.frombuffer(raw, dtype="<f4").tolist() == pytest.approx(expected[0].tolist())
        _, wide = post(server, {"model": "wide", "input": ["a"]}, path="/v1/embeddings")
        _, asked = post(server, {"model": "wide", "input": ["a"], "dimensions": 8}, path="/v1/embeddings")
        assert (len(wide["data"][0]["embedding"]), len(asked["data"][0]["embedding"])) == (24, 8)
        assert [r.inputs for r in server.embedding_requests][:2] == [["a red mug", "x"], ["a red mug"]]
        assert server.chat_requests == []


def test_embeddings_reject_token_arrays_and_follow_embedding_rules_only() -> None:
    rules = [Rule(status=503, reply="chat is down"), Rule(endpoint="embeddings", contains="mug", status=500)]
    with ScriptedLLMServer(rules) as server:
        assert post(server, {"model": "m", "input": [[1, 2]]}, path="/v1/embeddings")[0] == 400
        assert post(server, {"model": "m", "input": ["a cup"]}, path="/v1/embeddings")[0] == 200
        status, body = post(server, {"model": "m", "input": ["a mug"]}, path="/v1/embeddings")
        assert status == 500 and body["error"]["type"] == "server_error"
        assert post(server, chat("hello"))[0] == 503  # the chat rule still answers chat requests


def test_the_openai_sdk_reads_the_embeddings() -> None:
    with ScriptedLLMServer(embedding_dim=12) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)
        try:
            reply = client.embeddings.create(model="m", input=["one", "two", "three"])
        finally:
            client.close()
        assert [len(d.embedding) for d in reply.data] == [12, 12, 12]
        assert server.embedding_requests[0].body["encoding_format"] == "base64"  # type: ignore[index]
