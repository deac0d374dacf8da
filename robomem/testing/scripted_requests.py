"""What the scripted LLM server (:mod:`robomem.testing.scripted_llm`) records of each request, and the rules
that script its replies: :class:`RecordedRequest` (the parsed body and headers, read through properties tests
assert on) and :class:`Rule` (matchers on those properties, and the answer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ("CHAT_PATH", "EMBEDDINGS_PATH", "MODELS_PATH", "ROLE_HEADER", "RecordedRequest", "Reply", "Rule")

#: The header robomem's client names its role in (``robomem.llm.openai_compat.ROLE_HEADER``).
ROLE_HEADER = "X-Robomem-Role"
CHAT_PATH = "/v1/chat/completions"
EMBEDDINGS_PATH = "/v1/embeddings"
MODELS_PATH = "/v1/models"


def _text_of(content: object) -> str:
    """The text of a message's content: a string, or the ``text`` parts of a content list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    #: Header names in lower case.
    headers: dict[str, str]
    #: The parsed JSON body; ``None`` for GET requests or a body that is not a JSON object.
    body: dict[str, Any] | None
    #: ``time.monotonic()`` when the request arrived.
    received_at: float

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = (self.body or {}).get("messages")
        return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []

    @property
    def model(self) -> str | None:
        model = (self.body or {}).get("model")
        return model if isinstance(model, str) else None

    @property
    def role(self) -> str | None:
        """The caller's role, from the role header."""
        return self.headers.get(ROLE_HEADER.lower())

    @property
    def response_format(self) -> dict[str, Any] | None:
        fmt = (self.body or {}).get("response_format")
        return fmt if isinstance(fmt, dict) else None

    @property
    def response_format_type(self) -> str:
        """``json_schema``, ``json_object``, ``text`` ...; ``none`` when the request asked for no format."""
        fmt = self.response_format
        return str(fmt.get("type", "none")) if fmt is not None else "none"

    @property
    def inputs(self) -> list[str]:
        """The texts of an embeddings request (``input``: a string or a list of strings)."""
        raw = (self.body or {}).get("input")
        if isinstance(raw, str):
            return [raw]
        return [t for t in raw if isinstance(t, str)] if isinstance(raw, list) else []

    @property
    def endpoint(self) -> str:
        """``embeddings`` for ``/v1/embeddings``, else ``chat``."""
        return "embeddings" if self.path.rstrip("/") == EMBEDDINGS_PATH else "chat"

    @property
    def last_user_text(self) -> str:
        """The last user message; for an embeddings request, its input texts (one a line)."""
        if self.endpoint == "embeddings":
            return "\n".join(self.inputs)
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return _text_of(message.get("content"))
        return ""

    @property
    def all_text(self) -> str:
        if self.endpoint == "embeddings":
            return "\n".join(self.inputs)
        return "\n".join(_text_of(m.get("content")) for m in self.messages)


Reply = str | Callable[[RecordedRequest], str]


@dataclass(frozen=True)
class Rule:
    """One scripted answer. Every matcher that is set must match; unset matchers match anything.

    ``reply`` is the message content (or, with an error ``status``, the error message); a callable gets the
    request. ``delay_s`` waits before answering (to provoke client timeouts). ``times`` limits how often the
    rule fires (``None``: always), which scripts sequences such as "malformed first, valid after".
    ``endpoint="embeddings"`` makes it a rule for ``/v1/embeddings`` (its ``contains`` matches the input
    texts; only ``status`` and ``delay_s`` matter there: the vectors themselves are always the hashed ones).
    """

    reply: Reply = "{}"
    #: Substring of the last user message's text.
    contains: str | None = None
    #: Substring of the text of any message.
    anywhere: str | None = None
    #: Equal to the role header, or to the requested model name.
    role: str | None = None
    model: str | None = None
    #: The requested ``response_format.type`` (``none`` when absent).
    response_format: str | None = None
    status: int = 200
    delay_s: float = 0.0
    times: int | None = None
    #: Send a ``usage`` block (word counts stand in for tokens); ``False`` omits it.
    usage: bool = True
    finish_reason: str = "stop"
    #: ``chat`` or ``embeddings``: the route the rule answers.
    endpoint: str = "chat"

    def matches(self, request: RecordedRequest) -> bool:
        return (
            self.endpoint == request.endpoint
            and (self.contains is None or self.contains in request.last_user_text)
            and (self.anywhere is None or self.anywhere in request.all_text)
            and (self.role is None or self.role in (request.role, request.model))
            and (self.model is None or self.model == request.model)
            and (self.response_format is None or self.response_format == request.response_format_type)
        )
