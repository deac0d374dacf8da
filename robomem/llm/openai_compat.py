"""An :class:`~robomem.llm.base.LLMClient` for any OpenAI-compatible chat-completions endpoint.

- Structured output degrades along a ladder until the server accepts the request: ``json_schema`` →
  ``json_object`` with the schema attached (a llama.cpp extension that becomes a grammar; other servers
  ignore the key) → plain ``json_object`` → no ``response_format``. The first accepted step is remembered
  per endpoint and role (one role's schema may be what the server rejected: the other roles keep asking
  for ``json_schema``). Every reply is parsed tolerantly and checked locally, whatever the server promised.
- With ``strict_schema`` (the default) the schema is sent in the form strict mode accepts
  (:mod:`robomem.llm.strict`), and the reply is read back in the caller's form.
- A malformed reply is *content*, never an exception: it comes back as ``LLMReply(data=None, error=...)``
  after ``repair_attempts`` correction requests. Only transport failures raise :class:`LLMError`.
- Failed requests are retried here, not in the SDK (:mod:`robomem.llm.retry`), so every retry is counted.
- Thread-safe: SDK clients are created lazily under a lock and shared; a semaphore bounds calls in flight.
- The API key is read from the configured environment variable when an SDK client is created; it is
  never stored on this object, logged, or put in an error message.

The ``openai`` package is imported on first use: importing it costs about half a second.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from robomem.errors import LLMError
from robomem.llm.accounting import LLMAccounting
from robomem.llm.base import ChatMessage, LLMReply
from robomem.llm.config import LLMConfig, OnFailure, RoleSettings
from robomem.llm.jsonparse import parse_json_object
from robomem.llm.retry import llm_error, public_url, retry_wait
from robomem.llm.strict import drop_optional_nulls, strict_schema

if TYPE_CHECKING:
    import openai

__all__ = ("ROLE_HEADER", "OpenAICompatClient")

log = logging.getLogger(__name__)

#: Every request names its role in this header, so servers and proxies can tell the nodes apart.
ROLE_HEADER = "X-Robomem-Role"
#: The SDK refuses to start without a key; keyless local servers ignore this one.
_DUMMY_KEY = "robomem-no-key"

_Step = Literal["json_schema", "json_object+schema", "json_object", "none"]
_LADDER: tuple[_Step, ...] = ("json_schema", "json_object+schema", "json_object", "none")
_START: dict[str, int] = {"json_schema": 0, "json_object": 1, "none": 3}
#: Statuses with which servers reject a request they do not understand (vLLM and FastAPI servers use 422).
_REJECTED = (400, 422)
#: An error body naming the structured-output feature: a rejection of the format even with a 5xx
#: (llama.cpp's server answers an unsupported ``json_schema`` with HTTP 500).
_FORMAT_WORDS = re.compile(r"response_format|json_schema|json_object|schema|grammar|structured|guided", re.I)
#: A 400 that is about something else: falling back to another format would only repeat it.
_NOT_FORMAT = re.compile(r"context|too long|too many|maximum|tokens|model|api key|auth", re.I)


def _format_rejected(status: int, message: str) -> bool:
    if _FORMAT_WORDS.search(message):
        return status in (*_REJECTED, 500, 501)
    return status in _REJECTED and not _NOT_FORMAT.search(message)


_BAD_NAME = re.compile(r"[^A-Za-z0-9_-]")


def _missing_keys(data: dict[str, Any], schema: dict[str, Any], essential: Sequence[str] | None) -> list[str]:
    required = schema.get("required") if essential is None else list(essential)
    if not isinstance(required, list):
        return []
    return [key for key in required if isinstance(key, str) and key not in data]


@dataclass
class _Tally:
    """What one ``complete()`` cost, kept up to date so a failure can still be accounted."""

    requests: int = 0
    retries: int = 0
    retry_wait_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    fallbacks: int = 0
    repairs: int = 0


@dataclass(frozen=True)
class _Answer:
    text: str
    model: str
    finish_reason: str | None
    refusal: str | None


class OpenAICompatClient:
    """``OpenAICompatClient(config, accounting=...)``; use as a context manager or call :meth:`close`."""

    def __init__(self, config: LLMConfig, *, accounting: LLMAccounting | None = None) -> None:
        self.config = config
        self.accounting = accounting
        self._lock = threading.Lock()
        self._clients: dict[tuple[str | None, str], openai.OpenAI] = {}
        #: (endpoint URL, role) → index in ``_LADDER`` of the first step accepted after rejected ones.
        self._floor: dict[tuple[str, str], int] = {}
        self._slots = threading.BoundedSemaphore(config.concurrency)
        self._closed = False

    def __repr__(self) -> str:
        where = public_url(self.config.base_url) if self.config.base_url else "default endpoint"
        return f"OpenAICompatClient(model={self.config.model!r}, base_url={where!r})"

    # -- lifecycle -----------------------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._closed = True
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def __enter__(self) -> OpenAICompatClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _client(self, settings: RoleSettings) -> openai.OpenAI:
        import openai  # deferred: see the module docstring

        key = (settings.base_url, settings.api_key_env)
        with self._lock:
            if self._closed:
                raise LLMError("the LLM client is closed")
            client = self._clients.get(key)
            if client is None:
                # The timeout is passed per request (roles differ); the client-level one is just a bound.
                client = openai.OpenAI(
                    base_url=settings.base_url,
                    api_key=os.environ.get(settings.api_key_env) or _DUMMY_KEY,
                    timeout=settings.timeout_s,
                    max_retries=0,  # retried in _request, where each retry is counted
                )
                self._clients[key] = client
        return client

    # -- the failure policy (robomem.llm.policy) -----------------------------------------------------------

    def failure_policy(self, role: str) -> OnFailure:
        return self.config.for_role(role).on_failure

    def record_fallback(self, role: str, kind: str) -> None:
        if self.accounting is not None:
            self.accounting.record_fallback(role)

    # -- the contract --------------------------------------------------------------------------------------

    def complete(
        self,
        messages: list[ChatMessage],
        *,
        role: str,
        schema: dict[str, Any] | None = None,
        schema_name: str = "reply",
        essential: Sequence[str] | None = None,
    ) -> LLMReply:
        settings = self.config.for_role(role)
        tally = _Tally()
        queued = time.perf_counter()
        with self._slots:
            started = time.perf_counter()
            try:
                reply = self._complete(settings, messages, role, schema, schema_name, essential, tally)
            except LLMError:
                self._account(role, tally, time.perf_counter() - started, started - queued, "transport")
                raise
        latency = time.perf_counter() - started
        reply = replace(
            reply,
            prompt_tokens=tally.prompt_tokens,
            completion_tokens=tally.completion_tokens,
            latency_s=latency,
            extra={
                **reply.extra,
                "requests": tally.requests,
                "retries": tally.retries,
                "repairs": tally.repairs,
            },
        )
        malformed = schema is not None and reply.data is None
        self._account(role, tally, latency, started - queued, "malformed" if malformed else None)
        return reply

    def _account(
        self,
        role: str,
        tally: _Tally,
        latency: float,
        wait: float,
        error: Literal["transport", "malformed"] | None,
    ) -> None:
        if self.accounting is not None:
            self.accounting.record(
                role,
                latency_s=latency,
                prompt_tokens=tally.prompt_tokens,
                completion_tokens=tally.completion_tokens,
                requests=tally.requests,
                retries=tally.retries,
                retry_wait_s=tally.retry_wait_s,
                error=error,
                fallbacks=tally.fallbacks,
                repairs=tally.repairs,
                queue_wait_s=wait,
            )

    def _complete(
        self,
        settings: RoleSettings,
        messages: list[ChatMessage],
        role: str,
        schema: dict[str, Any] | None,
        schema_name: str,
        essential: Sequence[str] | None,
        tally: _Tally,
    ) -> LLMReply:
        client = self._client(settings)
        endpoint = public_url(str(client.base_url))
        conversation = list(messages)
        attempts = settings.repair_attempts + 1 if schema is not None else 1
        error: str | None = None
        for attempt in range(attempts):
            answer, step = self._request(
                client, endpoint, settings, role, conversation, schema, schema_name, tally
            )
            extra: dict[str, Any] = {"response_format": step, "finish_reason": answer.finish_reason}
            if schema is None:
                return LLMReply(text=answer.text, model=answer.model, extra=extra)
            data, error = parse_json_object(answer.text)
            data = drop_optional_nulls(data, schema)  # a strict schema made optional keys nullable
            if answer.refusal and not answer.text:
                error = f"the model refused: {answer.refusal}"
            elif data is not None and (missing := _missing_keys(data, schema, essential)):
                extra["parsed"] = data
                data, error = None, f"JSON object lacks required keys: {', '.join(missing)}"
            if data is not None:
                return LLMReply(text=answer.text, data=data, model=answer.model, extra=extra)
            if answer.finish_reason == "length":
                error = f"{error}; the reply hit max_tokens={settings.max_tokens}"
            if attempt + 1 < attempts:
                tally.repairs += 1
                # Restart from the caller's messages each time, so the conversation does not snowball.
                conversation = [
                    *messages,
                    {"role": "assistant", "content": answer.text},
                    {"role": "user", "content": self._correction(error, schema)},
                ]
        return LLMReply(text=answer.text, data=None, model=answer.model, error=error, extra=extra)

    @staticmethod
    def _correction(error: str | None, schema: dict[str, Any]) -> str:
        required = schema.get("required")
        keys = f" with the keys {', '.join(map(str, required))}" if isinstance(required, list) else ""
        return (
            f"Your previous reply could not be used ({error}). Reply again with exactly one JSON "
            f"object{keys}, and nothing else: no prose, no code fences."
        )

    # -- one request, down the structured-output ladder ----------------------------------------------------

    def _response_format(
        self, step: _Step, schema: dict[str, Any], schema_name: str
    ) -> dict[str, Any] | None:
        if step == "json_schema":
            name = _BAD_NAME.sub("_", schema_name)[:64] or "reply"
            strict = self.config.strict_schema
            spec = {"name": name, "schema": strict_schema(schema) if strict else schema, "strict": strict}
            return {"type": "json_schema", "json_schema": spec}
        if step == "json_object+schema":
            return {"type": "json_object", "schema": schema}
        if step == "json_object":
            return {"type": "json_object"}
        return None

    def _request(
        self,
        client: openai.OpenAI,
        endpoint: str,
        settings: RoleSettings,
        role: str,
        conversation: list[ChatMessage],
        schema: dict[str, Any] | None,
        schema_name: str,
        tally: _Tally,
    ) -> tuple[_Answer, _Step]:
        import openai

        if schema is None:
            index = len(_LADDER) - 1
        else:
            with self._lock:
                index = max(_START[settings.structured_output], self._floor.get((endpoint, role), 0))
        first = index
        retries = 0  # per ladder step: a step the server rejected says nothing about the next one
        while True:
            step = _LADDER[index]
            kwargs: dict[str, Any] = {}
            if schema is not None and (fmt := self._response_format(step, schema, schema_name)) is not None:
                kwargs["response_format"] = fmt
            tally.requests += 1
            try:
                completion = client.chat.completions.create(
                    model=settings.model,
                    messages=conversation,  # type: ignore[arg-type]  # plain dicts of the same shape
                    temperature=settings.temperature,
                    max_tokens=settings.max_tokens,
                    timeout=settings.timeout_s,
                    extra_headers={ROLE_HEADER: role},
                    **kwargs,
                )
            except (openai.APIError, ValueError) as exc:  # ValueError: a body cut short, not JSON
                status = exc.status_code if isinstance(exc, openai.APIStatusError) else None
                rejected = isinstance(exc, openai.APIStatusError) and _format_rejected(
                    exc.status_code, exc.message
                )
                if index + 1 < len(_LADDER) and schema is not None and rejected:
                    log.info(
                        "%s rejected response_format %s for role %r (HTTP %s); trying %s",
                        endpoint, step, role, status, _LADDER[index + 1],
                    )  # fmt: skip
                    tally.fallbacks += 1
                    index, retries = index + 1, 0
                    continue
                wait = retry_wait(exc, retries, self.config.max_retries)
                if wait is None:
                    # Not chained: the SDK error holds the raw body, which may echo the key back.
                    raise llm_error(
                        exc,
                        endpoint=endpoint,
                        settings=settings,
                        role=role,
                        max_retries=self.config.max_retries,
                    ) from None
                # Only the status or the error's type: the SDK's message may echo the key back.
                what = f"HTTP {status}" if status is not None else type(exc).__name__
                log.info(
                    "LLM call for role %r to %s failed (%s); retry in %.1f s", role, endpoint, what, wait
                )
                time.sleep(wait)
                retries += 1
                tally.retries += 1
                tally.retry_wait_s += wait
                continue
            if index != first and schema is not None:
                with self._lock:  # remember only a step that worked: the rejection may have had another cause
                    self._floor[endpoint, role] = max(self._floor.get((endpoint, role), 0), index)
            return self._answer(completion, settings, tally, endpoint, role), step

    def _answer(
        self, completion: Any, settings: RoleSettings, tally: _Tally, endpoint: str, role: str
    ) -> _Answer:
        usage = getattr(completion, "usage", None)
        tally.prompt_tokens += int(getattr(usage, "prompt_tokens", 0) or 0)
        tally.completion_tokens += int(getattr(usage, "completion_tokens", 0) or 0)
        choices = getattr(completion, "choices", None)
        if not isinstance(choices, list):
            raise LLMError(
                f"LLM call for role {role!r} to {endpoint} got a response that is not a chat completion",
                role=role,
                base_url=endpoint,
            )
        model = str(getattr(completion, "model", "") or settings.model)
        if not choices:
            return _Answer(text="", model=model, finish_reason=None, refusal=None)
        message = getattr(choices[0], "message", None)
        return _Answer(
            text=str(getattr(message, "content", None) or ""),
            model=model,
            finish_reason=getattr(choices[0], "finish_reason", None),
            refusal=getattr(message, "refusal", None),
        )
