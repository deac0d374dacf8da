"""The LLM contract every cognitive operation sees. Planner, critic, thalamus and memory operations talk
to an :class:`LLMClient`, never to an SDK, so any OpenAI-compatible endpoint (or a scripted test server)
fits behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ("ChatMessage", "LLMClient", "LLMReply", "image_message", "text_message")

#: An OpenAI-style chat message: ``{"role": "user", "content": "..."}`` or with content parts
#: (``[{"type": "text", ...}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,..."}}]``).
ChatMessage = dict[str, Any]


def text_message(role: str, text: str) -> ChatMessage:
    return {"role": role, "content": text}


def image_message(role: str, text: str, images_b64: Sequence[str], mime: str = "image/png") -> ChatMessage:
    """A chat message with ``text`` followed by images given as base64 strings (or ready ``data:`` URLs)."""
    if isinstance(images_b64, str):  # one image passed bare would otherwise iterate its characters
        images_b64 = [images_b64]
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}]
    for image in images_b64:
        url = image if image.startswith("data:") else f"data:{mime};base64,{image}"
        parts.append({"type": "image_url", "image_url": {"url": url}})
    return {"role": role, "content": parts}


@dataclass(frozen=True)
class LLMReply:
    """One completion. ``text`` is the raw content; ``data`` the parsed JSON object when a schema was asked
    for and the reply parsed (``None`` otherwise — callers decide what a malformed reply means)."""

    text: str
    data: dict[str, Any] | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    model: str = ""
    #: Why ``data`` is ``None`` although a schema was requested (``"malformed JSON"``, ...).
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class LLMClient(Protocol):
    """``role`` names the caller (``planner``, ``critic``, ``thalamus.summary``, ``memory.episodic``, ...): it
    selects per-role model settings and keys the per-node accounting. ``schema`` is a JSON schema the reply
    must follow; implementations ask for structured output and parse tolerantly. ``essential`` names the
    keys without which a reply is unusable (default: the schema's ``required``): the model is asked for the
    whole schema, but a reply that lacks only keys the caller can do without is accepted, not repaired.
    Transport failures raise :class:`robomem.errors.LLMError`; bad *content* never raises
    (``LLMReply.data`` is ``None``)."""

    def complete(
        self,
        messages: list[ChatMessage],
        *,
        role: str,
        schema: dict[str, Any] | None = None,
        schema_name: str = "reply",
        essential: Sequence[str] | None = None,
    ) -> LLMReply: ...
