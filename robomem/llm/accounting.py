"""Per-role (per-node) accounting of LLM use: calls, requests, retries, errors, tokens and latency.

A *call* is one ``complete()``: what a module asked for. *Requests* are the HTTP requests it took, every one
the server saw: format fallbacks, JSON repairs and retries of failed requests included. A call's latency is
the caller's wait, retries and their backoff included; ``retry_wait_s_sum`` says how much of it was backoff.
``fallbacks`` counts structured-output format downgrades; ``deterministic_fallbacks`` the calls whose failure
was replaced by the role's deterministic operation (``agent.llm.on_failure: fallback``).

Thread-safe: the memory system calls the LLM from several threads at once. Latency percentiles come from
the most recent ``max_samples`` calls of each role, so memory stays bounded in long lifelong runs; sums and
counts cover every call.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import threading
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = ("LLMAccounting", "LLMErrorKind")

#: ``transport``: no usable answer from the endpoint (an ``LLMError`` was raised). ``malformed``: an answer
#: came but its JSON could not be used (``LLMReply.data is None`` although a schema was requested).
LLMErrorKind = Literal["transport", "malformed"]


@dataclass
class _RoleStats:
    calls: int = 0
    requests: int = 0
    retries: int = 0
    retry_wait_sum_s: float = 0.0
    transport_errors: int = 0
    malformed_replies: int = 0
    fallbacks: int = 0
    repairs: int = 0
    deterministic_fallbacks: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_sum_s: float = 0.0
    latency_max_s: float = 0.0
    queue_wait_sum_s: float = 0.0
    samples: deque[float] = field(default_factory=deque)


def _percentile(sorted_values: list[float], q: float) -> float:
    # Nearest rank: always one of the observed values, no interpolation surprises on small samples.
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


class LLMAccounting:
    def __init__(self, *, max_samples: int = 4096) -> None:
        if max_samples < 1:
            raise ValueError("max_samples must be at least 1")
        self._max_samples = max_samples
        self._lock = threading.Lock()
        self._roles: dict[str, _RoleStats] = {}

    def record(
        self,
        role: str,
        *,
        latency_s: float,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        requests: int = 1,
        retries: int = 0,
        retry_wait_s: float = 0.0,
        error: LLMErrorKind | None = None,
        fallbacks: int = 0,
        repairs: int = 0,
        queue_wait_s: float = 0.0,
    ) -> None:
        """One ``complete()`` call: ``requests`` HTTP requests (fallbacks, repairs and the ``retries`` of
        failed requests included), their summed tokens, the call's latency (queueing for a slot excluded)
        and how much of it was spent waiting to retry."""
        with self._lock:
            stats = self._roles.get(role)
            if stats is None:
                stats = self._roles[role] = _RoleStats(samples=deque(maxlen=self._max_samples))
            stats.calls += 1
            stats.requests += requests
            stats.retries += retries
            stats.retry_wait_sum_s += retry_wait_s
            stats.transport_errors += error == "transport"
            stats.malformed_replies += error == "malformed"
            stats.fallbacks += fallbacks
            stats.repairs += repairs
            stats.prompt_tokens += prompt_tokens
            stats.completion_tokens += completion_tokens
            stats.latency_sum_s += latency_s
            stats.latency_max_s = max(stats.latency_max_s, latency_s)
            stats.queue_wait_sum_s += queue_wait_s
            stats.samples.append(latency_s)

    def record_fallback(self, role: str) -> None:
        """``role``'s deterministic operation ran instead of the model's (:mod:`robomem.llm.policy`)."""
        with self._lock:
            stats = self._roles.get(role)
            if stats is None:
                stats = self._roles[role] = _RoleStats(samples=deque(maxlen=self._max_samples))
            stats.deterministic_fallbacks += 1

    @staticmethod
    def _summary(parts: list[_RoleStats]) -> dict[str, Any]:
        samples = sorted(s for part in parts for s in part.samples)
        calls = sum(p.calls for p in parts)
        latency_sum = sum(p.latency_sum_s for p in parts)
        return {
            "calls": calls,
            "requests": sum(p.requests for p in parts),
            "retries": sum(p.retries for p in parts),
            "transport_errors": sum(p.transport_errors for p in parts),
            "malformed_replies": sum(p.malformed_replies for p in parts),
            "fallbacks": sum(p.fallbacks for p in parts),
            "repairs": sum(p.repairs for p in parts),
            "deterministic_fallbacks": sum(p.deterministic_fallbacks for p in parts),
            "prompt_tokens": sum(p.prompt_tokens for p in parts),
            "completion_tokens": sum(p.completion_tokens for p in parts),
            "latency_s": {
                "sum": round(latency_sum, 6),
                "mean": round(latency_sum / calls, 6) if calls else 0.0,
                "p50": round(_percentile(samples, 0.50), 6),
                "p95": round(_percentile(samples, 0.95), 6),
                "max": round(max((p.latency_max_s for p in parts), default=0.0), 6),
                "samples": len(samples),
            },
            "queue_wait_s_sum": round(sum(p.queue_wait_sum_s for p in parts), 6),
            "retry_wait_s_sum": round(sum(p.retry_wait_sum_s for p in parts), 6),
        }

    def snapshot(self) -> dict[str, Any]:
        """``{"roles": {role: summary}, "total": summary}``; plain JSON types, roles sorted."""
        with self._lock:
            roles = {name: self._summary([stats]) for name, stats in sorted(self._roles.items())}
            total = self._summary(list(self._roles.values()))
        return {"roles": roles, "total": total}

    def reset(self) -> None:
        with self._lock:
            self._roles.clear()

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`snapshot` as JSON atomically: readers see the old file or the new one, never half."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        payload = json.dumps(self.snapshot(), indent=2, sort_keys=True) + "\n"
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return target
