"""An in-process LLM client driven by a responder callable — for unit tests of prompt handling.

End-to-end tests use a real loopback HTTP server instead (``robomem.testing.scripted_llm``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from robomem.llm.base import ChatMessage, LLMReply
from robomem.llm.config import OnFailure
from robomem.llm.jsonparse import parse_json_object

__all__ = ("StubLLMClient",)

Responder = Callable[[list[ChatMessage], str], str]


class StubLLMClient:
    """``responder(messages, role) -> reply text``; replies are parsed like a real client's. ``on_failure``
    is every role's failure policy (:mod:`robomem.llm.policy`); ``fallbacks`` counts them per role."""

    def __init__(self, responder: Responder, *, on_failure: OnFailure = "stop") -> None:
        self.responder = responder
        self.on_failure: OnFailure = on_failure
        self.calls: list[tuple[str, list[ChatMessage]]] = []
        self.fallbacks: dict[str, int] = {}

    def failure_policy(self, role: str) -> OnFailure:
        return self.on_failure

    def record_fallback(self, role: str, kind: str) -> None:
        self.fallbacks[role] = self.fallbacks.get(role, 0) + 1

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
