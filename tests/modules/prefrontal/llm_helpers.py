"""Builders shared by the LLM planner and critic tests (which talk to a real scripted HTTP server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from envs.base import Observation
from envs.task import Task
from modules.hippocampus.base import StoreResult
from modules.prefrontal.base import ExecutedAction, PlanningInput
from robomem.llm.config import LLMConfig
from robomem.llm.openai_compat import OpenAICompatClient
from robomem.testing.scripted_llm import RecordedRequest, ScriptedLLMServer

SKILLS = (
    "find a Apple",
    "pick up the Apple",
    "find a Fridge",
    "open the Fridge",
    "put down the object in hand",
    "close the Fridge",
)
TASK = Task(
    task_id="t1",
    profile="alfred",
    subset="base",
    task_type="pick_and_place_simple",
    instruction="Put an apple in the fridge.",
    scene="house_1",
)
#: A tiny valid PNG is not needed: the client passes any base64 string through as a data URL.
IMAGE = "aW1hZ2UtYnl0ZXM="


def inp(**overrides: Any) -> PlanningInput:
    fields: dict[str, Any] = {
        "task": TASK,
        "observation": Observation(instruction=TASK.instruction, text="You are in the Kitchen."),
        "skills": SKILLS,
    }
    fields.update(overrides)
    return PlanningInput(**fields)


def memory() -> dict[str, StoreResult]:
    return {
        "temporal": StoreResult("temporal", ("[step 1] I found the Apple on CounterTop_1.",)),
        "spatial": StoreResult("spatial", ()),
        "episodic": StoreResult("episodic", ("Last time the apple was in Cabinet_2.",)),
    }


def history() -> tuple[ExecutedAction, ...]:
    return (
        ExecutedAction("find a Apple", "Last action executed successfully.", True, 1),
        ExecutedAction("pick up the Apple", "Last action is invalid. Robot is holding a Mug", False, 2),
    )


def plan_reply(*actions: tuple[object, object], **extra: object) -> str:
    body: dict[str, object] = {
        "reasoning_and_reflection": "The apple is on the counter.",
        "language_plan": "Pick up the apple and put it in the fridge.",
        "executable_plan": [{"action_id": i, "action_name": n} for i, n in actions],
    }
    body.update(extra)
    return json.dumps(body)


@contextmanager
def scripted_client(server: ScriptedLLMServer, **config: Any) -> Iterator[OpenAICompatClient]:
    """The real client against ``server``; the client's own JSON repair is off unless asked for, so
    request counts show the planner's retries alone."""
    fields: dict[str, Any] = {
        "model": "tiny",
        "base_url": server.base_url,
        "api_key_env": "ROBOMEM_TEST_KEY",
        "max_retries": 0,
        "repair_attempts": 0,
        "timeout_s": 10.0,
    }
    fields.update(config)
    with OpenAICompatClient(LLMConfig(**fields)) as client:
        yield client


def image_urls(request: RecordedRequest) -> list[str]:
    urls = []
    for message in request.messages:
        content = message.get("content")
        if isinstance(content, list):
            urls += [p["image_url"]["url"] for p in content if p.get("type") == "image_url"]
    return urls


def schema_of(request: RecordedRequest) -> dict[str, Any]:
    fmt = request.response_format or {}
    schema: dict[str, Any] = fmt["json_schema"]["schema"]
    return schema
