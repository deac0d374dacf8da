"""Which failed HTTP requests are retried and after how long, and how SDK errors become :class:`LLMError`.

The client retries by itself, with the SDK's own retries off, so that every retry is counted: a 500
absorbed inside the SDK would otherwise reach neither the caller nor ``llm_usage.json``. The policy is the
usual one (the SDK's too): timeouts, refused connections, 408, 409, 429 and 5xx are retried with
exponential backoff and jitter, and a ``Retry-After`` of up to a minute is honoured.

Messages never hold the API key: SDK errors are not chained (their raw body may echo request headers), and
any text taken from them is redacted.
"""

from __future__ import annotations

import math
import os
import random
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from robomem.errors import LLMError
from robomem.llm.config import RoleSettings

if TYPE_CHECKING:
    import openai

__all__ = ("llm_error", "public_url", "retry_delay", "retry_wait")

_BASE_S = 0.5
_MAX_S = 8.0
#: A server asking for a longer wait is treated as one asking for nothing in particular.
_MAX_RETRY_AFTER_S = 60.0
_RETRY_STATUSES = frozenset({408, 409, 429})
_SDK_PREFIX = re.compile(r"^Error code: \d+ - ")


def public_url(url: str) -> str:
    """The URL without user:password, safe for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url.rstrip("/")
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc)).rstrip("/")


def retry_delay(retry: int, retry_after: str | None) -> float:
    """Seconds to wait before retry number ``retry + 1``: ``Retry-After`` (in seconds) when the server
    sent a sane one, else 0.5 s doubled per retry, capped at 8 s, less up to a quarter of jitter."""
    if retry_after is not None:
        try:
            asked = float(retry_after)
        except ValueError:
            asked = math.nan  # an HTTP date or garbage: not worth parsing for a one-minute cap
        if 0 <= asked <= _MAX_RETRY_AFTER_S:
            return asked
    return min(_BASE_S * 2.0**retry, _MAX_S) * (1.0 - 0.25 * random.random())


def retry_wait(exc: Exception, retry: int, max_retries: int) -> float | None:
    """The wait before retrying the request that raised ``exc`` (``retry`` retries already taken), or
    ``None`` when it must not be retried: retries used up, or a failure that a retry cannot fix."""
    import openai  # deferred: importing it costs about half a second

    if retry >= max_retries:
        return None
    if isinstance(exc, openai.APIConnectionError):  # timeouts included: APITimeoutError is a subclass
        return retry_delay(retry, None)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status in _RETRY_STATUSES or status >= 500:
            return retry_delay(retry, exc.response.headers.get("retry-after"))
    return None


def _redact(text: str, settings: RoleSettings) -> str:
    # Servers and proxies sometimes echo request headers into error bodies.
    key = os.environ.get(settings.api_key_env)
    return text.replace(key, "***") if key else text


def llm_error(
    exc: Exception, *, endpoint: str, settings: RoleSettings, role: str, max_retries: int
) -> LLMError:
    """The :class:`LLMError` for an SDK error (or the ``ValueError`` of a body cut short) that ends a call.
    Raise it ``from None``: the SDK error must not be chained (see the module docstring)."""
    import openai

    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc, endpoint, settings, role, max_retries)
    if isinstance(exc, openai.APITimeoutError):
        return LLMError(
            f"LLM call for role {role!r} to {endpoint} timed out after {settings.timeout_s:g} s "
            f"(with {max_retries} retries)",
            hint="raise agent.llm.timeout_s or check that the server is not stuck",
            role=role,
            base_url=endpoint,
        )
    if isinstance(exc, openai.APIConnectionError):
        cause = _redact(str(exc.__cause__ or exc), settings)
        return LLMError(
            f"LLM call for role {role!r} could not reach {endpoint}: {cause}",
            hint="is the server running, and does agent.llm.base_url end in /v1?",
            role=role,
            base_url=endpoint,
        )
    what = "a body that is not JSON: " if isinstance(exc, ValueError) else ""
    what += _redact(str(exc), settings)
    return LLMError(f"LLM call for role {role!r} to {endpoint} failed: {what}", role=role, base_url=endpoint)


def _status_error(
    exc: openai.APIStatusError, endpoint: str, settings: RoleSettings, role: str, max_retries: int
) -> LLMError:
    status = exc.status_code
    # The SDK prefixes "Error code: 500 - "; the status is already in our message.
    detail = _SDK_PREFIX.sub("", " ".join(str(exc.message).split()))
    detail = _redact(detail, settings)[:300]
    hint: str | None = None
    if status in (401, 403):
        unset = "" if os.environ.get(settings.api_key_env) else ": it is not set in this shell"
        hint = f"check the key in ${settings.api_key_env}{unset}"
    elif status == 404:
        hint = f"check the model name {settings.model!r} and that agent.llm.base_url ends in /v1"
    elif status in _RETRY_STATUSES or status >= 500:
        hint = f"the server kept failing after {max_retries} retries"
    return LLMError(
        f"LLM call for role {role!r} to {endpoint} failed with HTTP {status}: {detail}",
        role=role,
        base_url=endpoint,
        status=status,
        hint=hint,
    )
