"""Retries of failed HTTP requests: counted per role in the accounting (issue #10, item 14), and never
spent on a request that a retry cannot fix. All against the real scripted server; a one-shot error is a
``Rule(status=..., times=1)``."""

from __future__ import annotations

import pytest

from robomem.errors import LLMError
from robomem.llm import LLMAccounting
from robomem.testing.scripted_llm import Rule, ScriptedLLMServer
from tests.robomem.llm.helpers import ASK, GOOD, SCHEMA, MakeClient


def test_a_500_absorbed_by_a_retry_is_counted(
    server: ScriptedLLMServer, make_client: MakeClient, accounting: LLMAccounting
) -> None:
    server.add(Rule(status=500, reply="upstream hiccup", times=1), Rule(reply=GOOD))
    reply = make_client(max_retries=1).complete(ASK, role="planner", schema=SCHEMA)
    assert reply.data == {"action": "pick", "target": "mug"}
    assert reply.extra["retries"] == 1 and reply.extra["requests"] == 2
    assert len(server.chat_requests) == 2
    planner = accounting.snapshot()["roles"]["planner"]
    # One call (what the caller asked for), two HTTP requests (what the server saw), one of them a retry.
    assert (planner["calls"], planner["requests"], planner["retries"]) == (1, 2, 1)
    assert (planner["transport_errors"], planner["malformed_replies"]) == (0, 0)
    # The call's latency includes the wait before the retry: it is what the caller waited.
    assert planner["latency_s"]["sum"] >= planner["retry_wait_s_sum"] > 0
    total = accounting.snapshot()["total"]
    assert (total["calls"], total["requests"], total["retries"]) == (1, 2, 1)


def test_retries_are_counted_per_role_and_when_they_all_fail(
    server: ScriptedLLMServer, make_client: MakeClient, accounting: LLMAccounting
) -> None:
    server.add(Rule(role="critic", status=503, reply="overloaded"), Rule(reply=GOOD))
    client = make_client(max_retries=2)
    client.complete(ASK, role="planner", schema=SCHEMA)
    with pytest.raises(LLMError, match=r"HTTP 503: overloaded.*after 2 retries"):
        client.complete(ASK, role="critic", schema=SCHEMA)
    roles = accounting.snapshot()["roles"]
    assert (roles["planner"]["requests"], roles["planner"]["retries"]) == (1, 0)
    critic = roles["critic"]
    assert (critic["calls"], critic["requests"], critic["retries"], critic["transport_errors"]) == (
        1,
        3,
        2,
        1,
    )
    assert len([r for r in server.chat_requests if r.role == "critic"]) == 3


def test_a_rejected_format_is_not_retried_but_falls_back_at_once(
    server: ScriptedLLMServer, make_client: MakeClient, accounting: LLMAccounting
) -> None:
    """llama.cpp answers an unsupported json_schema with HTTP 500: retrying it only repeats the refusal."""
    body = "response_format type json_schema is not supported"
    server.add(Rule(response_format="json_schema", status=500, reply=body), Rule(reply=GOOD))
    assert make_client(max_retries=2).complete(ASK, role="planner", schema=SCHEMA).data is not None
    assert [r.response_format_type for r in server.chat_requests] == ["json_schema", "json_object"]
    planner = accounting.snapshot()["roles"]["planner"]
    assert (planner["requests"], planner["fallbacks"], planner["retries"]) == (2, 1, 0)


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_client_errors_are_not_retried(
    server: ScriptedLLMServer, make_client: MakeClient, status: int
) -> None:
    server.add(Rule(status=status, reply="the model name is wrong"))
    with pytest.raises(LLMError, match=rf"HTTP {status}"):
        make_client(max_retries=2).complete(ASK, role="planner")
    assert len(server.chat_requests) == 1


def test_429_is_retried(
    server: ScriptedLLMServer, make_client: MakeClient, accounting: LLMAccounting
) -> None:
    server.add(Rule(status=429, reply="rate limited", times=1), Rule(reply="hello"))
    assert make_client(max_retries=1).complete(ASK, role="planner").text == "hello"
    assert accounting.snapshot()["roles"]["planner"]["retries"] == 1


def test_retry_delay_backs_off_and_honours_retry_after() -> None:
    from robomem.llm.retry import retry_delay

    first, second, late = (retry_delay(n, None) for n in (0, 1, 10))
    assert 0 < first < second <= late <= 8.0
    assert retry_delay(0, "3") == 3.0
    assert retry_delay(0, "1.5") == 1.5
    # A server asking for a very long wait, a date or garbage gets the ordinary backoff.
    for header in ("3600", "Wed, 21 Oct 2015 07:28:00 GMT", "soon", "-1"):
        assert retry_delay(0, header) <= 0.5
