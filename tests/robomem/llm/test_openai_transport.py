"""The OpenAI-compatible client against a real loopback server: transport failures, the key, images,
concurrency and accounting."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import pytest

from robomem.errors import ErrorCode, LLMError, RobomemError
from robomem.llm import LLMAccounting, image_message, text_message
from robomem.testing.scripted_llm import RecordedRequest, Rule, ScriptedLLMServer
from tests.robomem.llm.helpers import ASK, GOOD, HANG_GUARD_S, KEY_ENV, SCHEMA, SECRET, MakeClient


def test_timeout_raises_llm_error_without_a_retry_storm(
    server: ScriptedLLMServer, make_client: MakeClient, accounting: LLMAccounting
) -> None:
    server.add(Rule(delay_s=8.0))
    client = make_client(timeout_s=0.5, max_retries=1)
    started = time.monotonic()
    with pytest.raises(LLMError, match=r"timed out after 0.5 s") as caught:
        client.complete(ASK, role="planner", schema=SCHEMA)
    assert time.monotonic() - started < HANG_GUARD_S
    error = caught.value
    assert isinstance(error, RobomemError)
    assert error.code is ErrorCode.LLM
    assert error.role == "planner"
    assert error.status is None
    assert server.base_url in str(error)
    assert "'planner'" in str(error)
    assert "\n" not in str(error)
    assert len(server.chat_requests) == 2  # the first try and one retry, no fallback on a timeout
    assert accounting.snapshot()["roles"]["planner"]["transport_errors"] == 1


def test_connection_refused_raises_llm_error(make_client: MakeClient) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    started = time.monotonic()
    with pytest.raises(LLMError, match=r"could not reach http://127.0.0.1:\d+/v1") as caught:
        client.complete(ASK, role="critic")
    assert time.monotonic() - started < HANG_GUARD_S
    assert caught.value.base_url == f"http://127.0.0.1:{port}/v1"


def test_server_errors_are_retried_as_configured_then_raised(
    server: ScriptedLLMServer, make_client: MakeClient
) -> None:
    server.add(Rule(status=500, reply="model crashed"))
    with pytest.raises(LLMError, match=r"HTTP 500: model crashed.*after 1 retries") as caught:
        make_client(max_retries=1).complete(ASK, role="planner")
    assert caught.value.status == 500
    assert len(server.chat_requests) == 2


def test_the_key_is_sent_as_bearer_but_never_shown(
    server: ScriptedLLMServer, make_client: MakeClient
) -> None:
    def echo_auth(request: RecordedRequest) -> str:
        return f"rejected credentials {request.headers.get('authorization')}"

    server.add(
        Rule(anywhere="AUTH", status=401, reply=echo_auth),
        Rule(anywhere="CRASH", status=500, reply=echo_auth),
    )
    client = make_client()
    client.complete(ASK, role="planner")
    assert server.chat_requests[0].headers["authorization"] == f"Bearer {SECRET}"

    errors: list[LLMError] = []
    for prompt in ("AUTH", "CRASH"):
        with pytest.raises(LLMError) as caught:
            client.complete([text_message("user", prompt)], role="planner")
        errors.append(caught.value)
    with pytest.raises(LLMError) as caught:
        make_client(base_url="http://127.0.0.1:1/v1").complete(ASK, role="planner")
    errors.append(caught.value)

    assert "rejected credentials Bearer ***" in str(errors[0])
    assert f"${KEY_ENV}" in str(errors[0])  # the hint names the variable, not its value
    for error in errors:
        assert SECRET not in str(error)
        assert SECRET not in repr(error)
        assert SECRET not in "".join(traceback.format_exception(error))
    assert SECRET not in repr(client)
    assert SECRET not in repr(client.config)
    assert SECRET not in client.config.model_dump_json()


def test_image_parts_reach_the_server_intact(server: ScriptedLLMServer, make_client: MakeClient) -> None:
    images = [
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
        "QUJD",
    ]
    message = image_message("user", "What do you see?", images)
    make_client().complete([text_message("system", "You see."), message], role="planner")

    received = server.chat_requests[0].messages[1]
    assert received == message
    assert received["content"][1] == {
        "type": "image_url",
        "image_url": {"url": f"data:image/png;base64,{images[0]}"},
    }
    assert len(received["content"]) == 3


def test_image_message_helper() -> None:
    single = image_message("user", "look", "QUJD", mime="image/jpeg")
    assert single["content"][1]["image_url"]["url"] == "data:image/jpeg;base64,QUJD"
    ready = image_message("user", "look", ["data:image/webp;base64,QUJD"])
    assert ready["content"][1]["image_url"]["url"] == "data:image/webp;base64,QUJD"
    assert image_message("user", "no images", []) == {
        "role": "user",
        "content": [{"type": "text", "text": "no images"}],
    }


def test_concurrent_calls_from_four_threads_are_all_answered_and_accounted(
    server: ScriptedLLMServer, make_client: MakeClient, accounting: LLMAccounting
) -> None:
    server.add(Rule(reply=lambda r: json.dumps({"action": "echo", "target": r.last_user_text})))
    client = make_client(concurrency=4)
    results: dict[str, Any] = {}
    failures: list[BaseException] = []

    def worker(thread: int) -> None:
        try:
            for call in range(5):
                prompt = f"t{thread}-c{call}"
                reply = client.complete([text_message("user", prompt)], role=f"node{thread}", schema=SCHEMA)
                results[prompt] = reply.data
        except BaseException as exc:  # surfaced below; a thread's exception would otherwise vanish
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(HANG_GUARD_S)
    assert not failures
    assert len(results) == 20
    assert all(data == {"action": "echo", "target": prompt} for prompt, data in results.items())
    assert len(server.chat_requests) == 20
    snapshot = accounting.snapshot()
    assert snapshot["total"]["calls"] == 20
    assert sorted(snapshot["roles"]) == ["node0", "node1", "node2", "node3"]
    assert all(
        stats["calls"] == 5 and stats["malformed_replies"] == 0 for stats in snapshot["roles"].values()
    )
    assert snapshot["total"]["completion_tokens"] == 20 * 4  # '{"action": "echo", "target": "tN-cM"}'


def test_concurrency_is_bounded_by_the_semaphore(server: ScriptedLLMServer, make_client: MakeClient) -> None:
    lock = threading.Lock()
    state = {"now": 0, "peak": 0}

    def slow(_: RecordedRequest) -> str:
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.1)
        with lock:
            state["now"] -= 1
        return "done"

    server.add(Rule(reply=slow))
    client = make_client(concurrency=2)
    threads = [threading.Thread(target=client.complete, args=(ASK,), kwargs={"role": "p"}) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(HANG_GUARD_S)
    assert len(server.chat_requests) == 6
    assert state["peak"] <= 2


def test_missing_usage_counts_zero_tokens(server: ScriptedLLMServer, make_client: MakeClient) -> None:
    server.add(Rule(reply=GOOD, usage=False))
    reply = make_client().complete(ASK, role="planner", schema=SCHEMA)
    assert (reply.prompt_tokens, reply.completion_tokens) == (0, 0)
    assert reply.data is not None


def test_accounting_file_has_per_role_numbers(
    server: ScriptedLLMServer, make_client: MakeClient, accounting: LLMAccounting, tmp_path: Path
) -> None:
    server.add(Rule(role="critic", reply="not json"), Rule(reply=GOOD))
    client = make_client(repair_attempts=0)
    client.complete(ASK, role="planner", schema=SCHEMA)
    client.complete(ASK, role="planner", schema=SCHEMA)
    client.complete(ASK, role="critic", schema=SCHEMA)

    path = accounting.write(tmp_path / "out" / "llm_usage.json")
    written = json.loads(path.read_text())
    assert [p.name for p in path.parent.iterdir()] == ["llm_usage.json"]  # no temp file left behind
    planner, critic = written["roles"]["planner"], written["roles"]["critic"]
    assert (planner["calls"], planner["malformed_replies"]) == (2, 0)
    assert (critic["calls"], critic["malformed_replies"]) == (1, 1)
    prompt_words = len(server.chat_requests[0].all_text.split())
    assert planner["prompt_tokens"] == 2 * prompt_words
    assert planner["completion_tokens"] == 2 * len(GOOD.split())
    assert planner["latency_s"]["samples"] == 2
    assert planner["latency_s"]["sum"] > 0
    assert written["total"]["calls"] == 3


def test_closed_client_refuses_calls(make_client: MakeClient) -> None:
    client = make_client()
    client.close()
    with pytest.raises(LLMError, match="closed"):
        client.complete(ASK, role="planner")


def test_a_body_cut_short_is_an_llm_error_not_a_crash(make_client: MakeClient) -> None:
    # A real HTTP server on loopback whose 200 reply claims JSON but is cut short (a proxy, an overloaded
    # server): one LLMError, as for every other transport failure.
    class CutShort(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = b'{"id": "x", "choices": [{"mess'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CutShort)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        client = make_client(base_url=f"http://127.0.0.1:{httpd.server_address[1]}/v1", max_retries=0)
        with pytest.raises(LLMError, match=r"failed: a body that is not JSON") as caught:
            client.complete(ASK, role="planner", schema=SCHEMA)
        assert caught.value.role == "planner"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def test_a_rejected_key_says_when_its_variable_is_unset(
    server: ScriptedLLMServer, make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.add(Rule(status=401, reply="invalid api key"))
    client = make_client(max_retries=0)
    with pytest.raises(LLMError) as with_key:
        client.complete(ASK, role="planner")
    assert "not set" not in str(with_key.value)
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(LLMError, match=rf"check the key in \${KEY_ENV}: it is not set in this shell"):
        make_client(max_retries=0).complete(ASK, role="planner")
