"""An :class:`~robomem.embeddings.base.Embedder` for any OpenAI-compatible ``/v1/embeddings`` endpoint (vLLM
serving Qwen3-Embedding, as the paper does; OpenAI; Ollama; llama.cpp), through the ``openai`` package.

- Texts go out in batches of ``batch_size``, one HTTP request each; :class:`CachedEmbedder` in front of it
  (see :mod:`robomem.embeddings.factory`) means a text is sent once per run.
- Every request is accounted under the role ``embeddings`` in ``llm_usage.json``: calls, HTTP requests
  (retries included, and counted apart as ``retries``), prompt tokens and latency. Failed requests are
  retried here with the chat client's policy (:mod:`robomem.llm.retry`), not in the SDK, so each is counted.
- The dimension is configured, or taken from the first reply (one probe request); every reply is checked
  against it, because a server that starts serving another model must not mix vectors into a memory.
- A transport failure (timeout, refused connection, an HTTP error after the retries) is an
  :class:`~robomem.errors.LLMError`, like a chat model's: the run stops with exit 2 and ``--resume``
  continues. The API key is read from ``api_key_env`` when the SDK client is made, never stored or logged.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from robomem.embeddings.base import Vectors
from robomem.embeddings.config import OpenAIEmbedderConfig
from robomem.errors import EmbedderError, LLMError
from robomem.llm.accounting import LLMAccounting
from robomem.llm.openai_compat import ROLE_HEADER
from robomem.llm.retry import public_url, retry_wait

if TYPE_CHECKING:
    import openai

__all__ = ("ROLE", "OpenAIEmbedder")

#: The accounting role (and ``X-Robomem-Role`` header) of every embedding request.
ROLE = "embeddings"
_DUMMY_KEY = "robomem-no-key"  # the SDK refuses to start without a key; keyless servers ignore it
_PROBE = "dimension probe"
_KEY = "agent.memory.embedder"
_SDK_PREFIX = re.compile(r"^Error code: \d+ - ")


class OpenAIEmbedder:
    """Unit-length float32 vectors from an OpenAI-compatible server. Thread-safe; call :meth:`close`."""

    def __init__(self, config: OpenAIEmbedderConfig, *, accounting: LLMAccounting | None = None) -> None:
        self.config = config
        self.name = config.model
        self.accounting = accounting
        self._dim = config.dim
        self._lock = threading.Lock()
        self._client: openai.OpenAI | None = None

    def __repr__(self) -> str:
        where = public_url(self.config.base_url) if self.config.base_url else "default endpoint"
        return f"OpenAIEmbedder(model={self.name!r}, base_url={where!r})"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self.embed([_PROBE])  # sets it from the reply
        assert self._dim is not None
        return self._dim

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def embed(self, texts: Sequence[str]) -> Vectors:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single str")
        texts = list(texts)
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        size = self.config.batch_size
        return np.vstack([self._batch(texts[i : i + size]) for i in range(0, len(texts), size)])

    # -- one request ---------------------------------------------------------------------------------------

    def _sdk(self) -> openai.OpenAI:
        import openai  # deferred: importing it costs about half a second

        with self._lock:
            if self._client is None:
                self._client = openai.OpenAI(
                    base_url=self.config.base_url,
                    api_key=os.environ.get(self.config.api_key_env) or _DUMMY_KEY,
                    timeout=self.config.timeout_s,
                    max_retries=0,  # retried in _batch, where each retry is counted
                )
            return self._client

    def _batch(self, batch: list[str]) -> Vectors:
        import openai

        client = self._sdk()
        endpoint = public_url(str(client.base_url))
        extra: dict[str, Any] = {"dimensions": self.config.dim} if self.config.send_dim else {}
        retries, waited = 0, 0.0
        started = time.perf_counter()
        while True:
            try:
                reply = client.embeddings.create(
                    model=self.config.model,
                    input=batch,
                    timeout=self.config.timeout_s,
                    extra_headers={ROLE_HEADER: ROLE},
                    **extra,
                )
                break
            except (openai.APIError, ValueError) as exc:  # ValueError: a body cut short, not JSON
                wait = retry_wait(exc, retries, self.config.max_retries)
                if wait is None:
                    self._account(time.perf_counter() - started, 0, retries, waited, failed=True)
                    raise self._error(exc, endpoint) from None  # unchained: the SDK error may echo the key
                time.sleep(wait)
                retries, waited = retries + 1, waited + wait
        self._account(time.perf_counter() - started, _prompt_tokens(reply), retries, waited)
        return self._vectors(reply, len(batch), endpoint)

    def _account(
        self, latency: float, tokens: int, retries: int, waited: float, *, failed: bool = False
    ) -> None:
        if self.accounting is not None:
            self.accounting.record(
                ROLE,
                latency_s=latency,
                prompt_tokens=tokens,
                requests=1 + retries,
                retries=retries,
                retry_wait_s=waited,
                error="transport" if failed else None,
            )

    def _vectors(self, reply: Any, count: int, endpoint: str) -> Vectors:
        data = sorted(getattr(reply, "data", None) or [], key=lambda item: int(getattr(item, "index", 0)))
        try:
            matrix = np.asarray([item.embedding for item in data], dtype=np.float32)
        except (AttributeError, TypeError, ValueError) as exc:
            raise EmbedderError(
                f"{endpoint} sent embeddings that are not vectors of numbers ({exc})"
            ) from None
        if matrix.ndim != 2 or matrix.shape[0] != count or not np.isfinite(matrix).all():
            raise EmbedderError(
                f"{endpoint} answered {count} texts with {matrix.shape[0] if matrix.ndim else 0} "
                f"well-formed vectors (model {self.name!r})"
            )
        with self._lock:
            if self._dim is None:
                self._dim = int(matrix.shape[1])
            expected = self._dim
        if matrix.shape[1] != expected:
            raise EmbedderError(
                f"{endpoint} returned {matrix.shape[1]}-dimensional vectors for model {self.name!r}, "
                f"expected {expected}: vectors of two models must never mix",
                hint=f"check that the server serves {self.name!r}, or set {_KEY}.dim",
            )
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        normalised: Vectors = matrix / norms
        return normalised

    def _error(self, exc: openai.APIError | ValueError, endpoint: str) -> LLMError:
        import openai

        retries = f"with {self.config.max_retries} retries"
        if isinstance(exc, openai.APITimeoutError):
            return LLMError(
                f"embedding request to {endpoint} timed out after {self.config.timeout_s:g} s ({retries})",
                role=ROLE,
                base_url=endpoint,
                hint=f"raise {_KEY}.timeout_s or check that the server is not stuck",
            )
        if isinstance(exc, openai.APIConnectionError):
            return LLMError(
                f"embedding request could not reach {endpoint}: {self._redact(str(exc.__cause__ or exc))}",
                role=ROLE,
                base_url=endpoint,
                hint=f"is the server running, and does {_KEY}.base_url end in /v1?",
            )
        status = exc.status_code if isinstance(exc, openai.APIStatusError) else None
        message = str(exc.message) if isinstance(exc, openai.APIError) else f"a body that is not JSON: {exc}"
        # The SDK prefixes "Error code: 500 - "; the status is already in our message.
        detail = self._redact(_SDK_PREFIX.sub("", " ".join(message.split())))[:300]
        hint = None
        if status in (401, 403):
            hint = f"check the key in ${self.config.api_key_env}"
        elif status == 404:
            hint = f"check the model name {self.name!r} and that {_KEY}.base_url ends in /v1"
        elif status is not None and (status == 429 or status >= 500):
            hint = f"the server kept failing after {self.config.max_retries} retries"
        what = f"HTTP {status}: " if status is not None else ""
        return LLMError(
            f"embedding request to {endpoint} failed with {what}{detail}",
            role=ROLE,
            base_url=endpoint,
            status=status,
            hint=hint,
        )

    def _redact(self, text: str) -> str:
        # Servers and proxies sometimes echo request headers into error bodies.
        key = os.environ.get(self.config.api_key_env)
        return text.replace(key, "***") if key else text


def _prompt_tokens(reply: Any) -> int:
    usage = getattr(reply, "usage", None)
    return int(getattr(usage, "prompt_tokens", 0) or 0)
