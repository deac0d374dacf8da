"""Shared by the LLM tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from robomem.llm import OpenAICompatClient, text_message

#: Looks like a real key so that a leak would be obvious in any message.
SECRET = "sk-test-DO-NOT-LEAK-4f9a2c"
KEY_ENV = "ROBOMEM_TEST_LLM_KEY"

MakeClient = Callable[..., OpenAICompatClient]

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"action": {"type": "string"}, "target": {"type": "string"}},
    "required": ["action", "target"],
    "additionalProperties": False,
}
GOOD = '{"action": "pick", "target": "mug"}'
ASK = [text_message("system", "You plan."), text_message("user", "What next? Answer in JSON.")]
#: Generous wall-clock bound, only so a broken timeout cannot hang the suite.
HANG_GUARD_S = 30.0
