from __future__ import annotations

import pytest
from pydantic import ValidationError

from robomem.llm import LLMConfig, RoleSettings


def test_defaults_are_explicit_about_timeouts_and_retries() -> None:
    config = LLMConfig(model="m")
    assert (config.timeout_s, config.max_retries) == (60.0, 1)
    assert config.for_role("planner") == RoleSettings(
        model="m",
        temperature=0.0,
        max_tokens=1024,
        timeout_s=60.0,
        base_url=None,
        api_key_env="OPENAI_API_KEY",
        structured_output="json_schema",
        repair_attempts=1,
    )


def test_roles_cascade_along_dotted_prefixes() -> None:
    config = LLMConfig(
        model="base",
        roles={
            "memory": {"model": "mem", "temperature": 0.5, "timeout_s": 5},
            "memory.relations": {"max_tokens": 64, "structured_output": "json_object"},
            "planner": {"base_url": "http://127.0.0.1:9/v1", "api_key_env": "PLANNER_KEY"},
        },
    )
    relations = config.for_role("memory.relations")
    assert (relations.model, relations.temperature, relations.timeout_s) == ("mem", 0.5, 5.0)
    assert (relations.max_tokens, relations.structured_output) == (64, "json_object")
    assert config.for_role("memory.relations.deep") == relations
    assert config.for_role("memory.episodic").max_tokens == 1024
    assert config.for_role("memoryless").model == "base"  # a prefix is a whole dotted part
    planner = config.for_role("planner")
    assert (planner.base_url, planner.api_key_env, planner.model) == (
        "http://127.0.0.1:9/v1",
        "PLANNER_KEY",
        "base",
    )


def test_config_is_frozen_and_strict() -> None:
    config = LLMConfig(model="m")
    with pytest.raises(ValidationError):
        config.model = "other"
    with pytest.raises(ValidationError, match="extra"):
        LLMConfig(model="m", temprature=0.1)
    with pytest.raises(ValidationError, match="bad role name"):
        LLMConfig(model="m", roles={"memory relations": {}})
    with pytest.raises(ValidationError):
        LLMConfig(model="m", concurrency=0)
    with pytest.raises(ValidationError):
        LLMConfig(model="m", roles={"planner": {"max_tokens": 0}})


@pytest.mark.parametrize(
    "fields",
    [
        {"api_key": "sk-live-SECRET"},
        {"api_key_env": "sk-live-SECRET"},
        {"roles": {"planner": {"api_key": "sk-live-SECRET"}}},
        {"roles": {"planner": {"api_key_env": "sk-live-SECRET"}}},
        {"base_url": "https://user:sk-live-SECRET@example.com/v1"},  # it would land in the run's config.yaml
        {"roles": {"planner": {"base_url": "http://me:sk-live-SECRET@127.0.0.1:9/v1"}}},
    ],
)
def test_a_pasted_key_is_rejected_without_being_echoed(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as caught:
        LLMConfig(model="m", **fields)
    assert "SECRET" not in str(caught.value)
    assert "environment variable" in str(caught.value) or "api_key_env" in str(caught.value)
