"""The one LLM failure policy (robomem.llm.policy): stop or fall back, per role, counted."""

from __future__ import annotations

import json

import pytest

from robomem.errors import LLMError
from robomem.llm import LLMAccounting, LLMConfig, OpenAICompatClient
from robomem.llm.policy import attempt, failure_policy
from robomem.llm.stub import StubLLMClient
from robomem.testing.scripted_llm import ScriptedLLMServer


def test_the_policy_cascades_along_the_role_prefixes() -> None:
    config = LLMConfig.model_validate(
        {
            "model": "m",
            "on_failure": "stop",
            "roles": {"memory": {"on_failure": "fallback"}, "memory.lessons": {"on_failure": "stop"}},
        }
    )
    assert config.for_role("planner").on_failure == "stop"
    assert config.for_role("memory.spatial.resolve").on_failure == "fallback"
    assert config.for_role("memory.lessons").on_failure == "stop"
    client = OpenAICompatClient(config)
    assert failure_policy(client, "memory.temporal") == "fallback"


def test_an_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="on_failure"):
        LLMConfig.model_validate({"model": "m", "on_failure": "ignore"})


def _down() -> tuple[str | None, str | None]:
    raise LLMError("endpoint down", role="memory.temporal")


def test_stop_raises_for_a_transport_failure_and_for_an_unusable_reply() -> None:
    llm = StubLLMClient(lambda m, r: "", on_failure="stop")
    with pytest.raises(LLMError, match="endpoint down"):
        attempt(llm, "memory.temporal", _down)
    with pytest.raises(LLMError) as caught:
        attempt(llm, "memory.temporal", lambda: (None, "no summary"))
    assert caught.value.role == "memory.temporal" and "no summary" in str(caught.value)
    assert 'agent.llm.roles."memory.temporal".on_failure=fallback' in str(caught.value)
    assert llm.fallbacks == {}


def test_fallback_returns_nothing_and_counts_per_role() -> None:
    llm = StubLLMClient(lambda m, r: "", on_failure="fallback")
    assert attempt(llm, "memory.temporal", _down) == (None, "LLM call failed: endpoint down")
    assert attempt(llm, "memory.lessons", lambda: (None, "bad")) == (None, "bad")
    assert attempt(llm, "memory.lessons", lambda: ("fine", None)) == ("fine", None)
    assert llm.fallbacks == {"memory.temporal": 1, "memory.lessons": 1}


def test_a_bug_is_not_a_model_failure() -> None:
    # Only LLMError is the endpoint's failure; anything else is robomem's own bug and must surface.
    llm = StubLLMClient(lambda m, r: "", on_failure="fallback")

    def broken() -> tuple[str | None, str | None]:
        raise KeyError("oops")

    with pytest.raises(KeyError):
        attempt(llm, "memory.temporal", broken)


def test_a_client_that_knows_no_policy_stops() -> None:
    class Bare:
        pass

    assert failure_policy(Bare(), "memory.temporal") == "stop"


def test_fallbacks_land_in_llm_usage(tmp_path: object) -> None:
    accounting = LLMAccounting()
    with (
        ScriptedLLMServer() as server,
        OpenAICompatClient(
            LLMConfig(model="m", base_url=server.base_url, on_failure="fallback"), accounting=accounting
        ) as llm,
    ):
        attempt(llm, "memory.episodic", lambda: (None, "not a valid decision"))
    snapshot = json.loads(json.dumps(accounting.snapshot()))
    assert snapshot["roles"]["memory.episodic"]["deterministic_fallbacks"] == 1
    assert snapshot["total"]["deterministic_fallbacks"] == 1
