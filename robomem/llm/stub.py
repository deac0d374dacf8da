"""An in-process LLM client driven by a responder callable — for unit tests of prompt handling.

End-to-end tests use a real loopback HTTP server instead (``robomem.testing.scripted_llm``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from robomem.llm.base import ChatMessage, LLMReply
from robomem.llm.jsonparse import parse_json_object

__all__ = ("StubLLMClient",)

Responder = Callable[[list[ChatMessage], str], str]


class StubLLMClient:
    """``responder(messages, role) -> reply text``; replies are parsed like a real client's."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.calls: list[tuple[str, list[ChatMessage]]] = []

    def complete(
        self,
        messages: list[ChatMessage],
        *,
        role: str,
        schema: dict[str, Any] | None = None,
        schema_name: str = "reply",
        essential: Sequence[str] | None = None,
    ) -> LLMReply:
        self.calls.append((role, messages))
        text = self.responder(messages, role)
        if schema is None:
            return LLMReply(text=text)
        data, error = parse_json_object(text)
        return LLMReply(text=text, data=data, error=error)
