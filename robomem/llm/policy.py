"""One failure policy for every LLM role that has a deterministic counterpart (the thalamus halves and every
memory operation): ``agent.llm.on_failure``, or per role ``agent.llm.roles."<role>".on_failure``.

A *failure* is either an endpoint that could not answer (:class:`robomem.errors.LLMError`: timeout, refused
connection, HTTP error after the client's retries) or a reply that is still unusable after the client's
repair attempts (malformed JSON, missing keys, or content the operation cannot use, such as a decision about
an item it was not shown).

- ``stop`` (default): the run stops with one ``[llm]`` error (exit 2) naming the role; ``robomem eval
  --resume RUN_DIR`` continues it, with ``agent.llm.on_failure=fallback`` if the model keeps giving the
  same unusable reply.
- ``fallback``: the role's deterministic operation runs instead, and ``llm_usage.json`` counts it under
  the role as ``deterministic_fallbacks``.

The planner and critic are not governed here: their unusable replies are what EmbodiedBench counts (a
planner output error; the critic's reply is then no objection), and a planner that cannot be reached stops
the run whatever the switch says, because there is no planner to fall back on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal, Protocol, TypeVar, runtime_checkable

from robomem.errors import LLMError
from robomem.llm.config import OnFailure

__all__ = ("OnFailure", "PolicyAware", "attempt", "failure_policy")

log = logging.getLogger(__name__)

FailureKind = Literal["transport", "malformed"]
T = TypeVar("T")


@runtime_checkable
class PolicyAware(Protocol):
    """A client that knows each role's policy and counts the fallbacks (clients without it: ``stop``)."""

    def failure_policy(self, role: str) -> OnFailure: ...

    def record_fallback(self, role: str, kind: FailureKind) -> None: ...


def failure_policy(llm: object, role: str) -> OnFailure:
    return llm.failure_policy(role) if isinstance(llm, PolicyAware) else "stop"


def attempt(
    llm: object, role: str, call: Callable[[], tuple[T | None, str | None]]
) -> tuple[T | None, str | None]:
    """Run ``call`` — the model's operation, returning ``(result, None)`` or ``(None, why it is unusable)``
    — under ``role``'s policy. Returns ``call``'s result, or ``(None, why)`` when the policy says to fall
    back (the caller then runs its deterministic operation); raises :class:`LLMError` when it says stop."""
    kind: FailureKind
    try:
        result, why = call()
    except LLMError as err:
        if failure_policy(llm, role) == "stop":
            raise
        result, why, kind = None, f"LLM call failed: {err}", "transport"
    else:
        if result is not None:
            return result, None
        kind = "malformed"
        why = why or "unusable reply"
        if failure_policy(llm, role) == "stop":
            raise LLMError(
                f"the reply for role {role!r} was unusable after the client's repair attempts: {why}",
                role=role,
                hint=f'agent.llm.roles."{role}".on_failure=fallback (or agent.llm.on_failure=fallback) '
                "uses the deterministic operation instead; `robomem eval --resume RUN_DIR` continues the run",
            ) from None
    if isinstance(llm, PolicyAware):
        llm.record_fallback(role, kind)
    log.warning(
        "LLM role %r failed (%s); using the deterministic operation", role, " ".join(why.split())[:300]
    )
    return None, why
