"""Every schema robomem sends with ``strict: true`` is valid for OpenAI's strict mode, and a reply comes back
in the caller's own shape. The schemas are found, not listed: every module-level JSON schema under
``modules/`` (so a new role's schema cannot be forgotten), plus the planner's, which is built per call."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest

import modules
from modules.prefrontal.parsing import plan_schema
from robomem.llm import LLMConfig, OpenAICompatClient, text_message
from robomem.llm.strict import drop_optional_nulls, strict_schema
from robomem.testing.scripted_llm import Rule, ScriptedLLMServer
from tests.robomem.llm.strict_check import strict_problems


def _is_schema(value: object) -> bool:
    return (
        isinstance(value, dict)
        and value.get("type") == "object"
        and isinstance(value.get("properties"), dict)
    )


def _discovered() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for info in pkgutil.walk_packages(modules.__path__, "modules."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if name.isupper() and _is_schema(value) and getattr(module, "__name__", "") == info.name:
                found.setdefault(f"{info.name}.{name}", value)
    found["modules.prefrontal.parsing.plan_schema(visual=True)"] = plan_schema(visual=True)
    found["modules.prefrontal.parsing.plan_schema(visual=False)"] = plan_schema(visual=False)
    return found


SCHEMAS = _discovered()


def test_discovery_finds_every_role_schema() -> None:
    # Guards against a vacuous walk: the known schemas of every LLM role are among those found.
    names = {key.rsplit(".", 1)[-1] for key in SCHEMAS}
    assert {
        "SUMMARY_SCHEMA",
        "QUERIES_SCHEMA",
        "DECISION_SCHEMA",
        "LESSONS_SCHEMA",
        "ACCOUNT_SCHEMA",
        "RELATIONS_SCHEMA",
        "EDITS_SCHEMA",
        "CRITIC_SCHEMA",
    } <= names
    assert len(SCHEMAS) >= 11


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_schema_is_valid_for_strict_mode_as_sent(name: str) -> None:
    assert strict_problems(strict_schema(SCHEMAS[name])) == []


def test_the_checker_rejects_what_strict_mode_rejects() -> None:
    bad = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "minLength": 1},
            "b": {"type": "object", "properties": {"c": {"type": "integer"}}, "required": ["c"]},
        },
        "required": ["a"],
    }
    problems = strict_problems(bad)
    assert "$: every property must be required (missing: ['b'])" in problems
    assert "$: additionalProperties must be false" in problems
    assert "$.a: unsupported keyword 'minLength'" in problems
    assert "$.b: additionalProperties must be false" in problems
    assert strict_problems({"anyOf": [bad]})[0] == "$: the root must be a plain object schema"


def test_the_rewrite_keeps_required_keys_and_makes_optional_ones_nullable() -> None:
    schema = {
        "type": "object",
        "properties": {
            "op": {"type": "string", "enum": ["a", "b"]},
            "factor": {"type": "number"},
            "kind": {"type": "string", "enum": ["x"]},
        },
        "required": ["op"],
    }
    sent = strict_schema(schema)
    assert sent["required"] == ["op", "factor", "kind"] and sent["additionalProperties"] is False
    assert sent["properties"]["op"] == {"type": "string", "enum": ["a", "b"]}
    assert sent["properties"]["factor"] == {"type": ["number", "null"]}
    assert sent["properties"]["kind"] == {"type": ["string", "null"], "enum": ["x", None]}
    assert schema["required"] == ["op"]  # the caller's schema is left alone
    # The reply reads back in the caller's shape: a null optional key is absent, as if never written.
    reply = {"op": "a", "factor": None, "kind": "x", "extra": None}
    assert drop_optional_nulls(reply, schema) == {"op": "a", "kind": "x", "extra": None}


def test_the_client_sends_the_strict_form_and_returns_the_callers_form() -> None:
    # Before: the spatial schemas went out as written (optional keys, minLength, no additionalProperties),
    # which OpenAI rejects with HTTP 400 under strict mode.
    from modules.hippocampus.spatial.llm_resolve import EDITS_SCHEMA

    reply = '{"edits": [{"op": "weaken", "edge": "e1", "subject": null, "relation": null, "object": null,'
    reply += ' "factor": null, "reason": "not seen"}]}'
    with (
        ScriptedLLMServer([Rule(reply=reply)]) as server,
        OpenAICompatClient(LLMConfig(model="m", base_url=server.base_url)) as llm,
    ):
        answer = llm.complete(
            [text_message("user", "edits?")], role="memory.spatial.resolve", schema=EDITS_SCHEMA
        )
        (request,) = server.chat_requests
    sent = request.response_format
    assert sent is not None and sent["json_schema"]["strict"] is True
    assert strict_problems(sent["json_schema"]["schema"]) == []
    assert answer.data == {"edits": [{"op": "weaken", "edge": "e1", "reason": "not seen"}]}


def test_without_strict_the_schema_goes_out_as_written() -> None:
    from modules.hippocampus.spatial.llm_resolve import EDITS_SCHEMA

    with (
        ScriptedLLMServer([Rule(reply='{"edits": []}')]) as server,
        OpenAICompatClient(LLMConfig(model="m", base_url=server.base_url, strict_schema=False)) as llm,
    ):
        llm.complete([text_message("user", "edits?")], role="memory.spatial.resolve", schema=EDITS_SCHEMA)
        (request,) = server.chat_requests
    assert request.response_format is not None
    assert request.response_format["json_schema"] == {
        "name": "reply",
        "schema": EDITS_SCHEMA,
        "strict": False,
    }
