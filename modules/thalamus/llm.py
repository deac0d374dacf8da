"""The LLM thalamus (the paper's Information Preprocessor): a step summarizer and a query generator, two
model calls made **in parallel** after every executed action and once on the initial observation.

Only the summary *text* and the queries come from the model. Everything structured that memory stores
rely on (action, feedback, success, perception, step, time) is exactly what the deterministic thalamus
returns. A failed half (unreachable endpoint, unusable reply) follows its role's policy
(:mod:`robomem.llm.policy`): the run stops, or that half alone comes from the deterministic thalamus.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Any, Literal

from pydantic import Field

from envs.base import Observation
from envs.task import Task
from modules.hippocampus.base import EpisodeContext
from modules.prefrontal.base import ExecutedAction
from modules.thalamus.base import Perceived, ThalamusConfig
from modules.thalamus.deterministic import DeterministicThalamus
from robomem.llm.base import ChatMessage, LLMClient, LLMReply, image_message, text_message
from robomem.llm.policy import attempt

__all__ = ("QUERIES_SCHEMA", "SUMMARY_SCHEMA", "LLMThalamus", "LLMThalamusConfig", "clean_queries")

log = logging.getLogger(__name__)

PROMPT_DIR = Path(__file__).parent / "prompts"
SUMMARY_ROLE = "thalamus.summary"
QUERIES_ROLE = "thalamus.queries"

SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"summary": {"type": "string"}},
    "required": ["summary"],
    "additionalProperties": False,
}
QUERIES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"queries": {"type": "array", "items": {"type": "string"}}},
    "required": ["queries"],
    "additionalProperties": False,
}


class LLMThalamusConfig(ThalamusConfig):
    type: Literal["llm"] = "llm"
    #: Queries kept per step (the paper generates 4–5).
    max_queries: int = Field(default=5, ge=1, le=10)
    query_chars: int = Field(default=200, ge=1)
    summary_chars: int = Field(default=400, ge=1)
    observation_chars: int = Field(default=2000, ge=0)
    feedback_chars: int = Field(default=400, ge=0)
    max_images: int = Field(default=1, ge=0, le=8)


@lru_cache(maxsize=8)
def _template(name: str) -> Template:
    return Template((PROMPT_DIR / f"{name}.txt").read_text(encoding="utf-8"))


def _clip(text: str, limit: int, *, flatten: bool = True) -> str:
    text = " ".join(text.split()) if flatten else text.strip()
    return text if len(text) <= limit else text[: max(0, limit - 2)].rstrip() + " …"


def clean_queries(value: object, *, limit: int, chars: int) -> tuple[str, ...]:
    """Strings only, whitespace-normalized, non-empty, deduplicated case-insensitively, at most ``limit``."""
    if not isinstance(value, list):
        return ()
    seen: dict[str, str] = {}
    for item in value:
        if isinstance(item, str) and (query := _clip(item, chars)):
            seen.setdefault(query.lower(), query)
    return tuple(seen.values())[:limit]


class LLMThalamus:
    """``summary_failures`` / ``query_failures`` count the halves that came from the fallback."""

    def __init__(self, config: LLMThalamusConfig, *, llm: LLMClient, fallback: DeterministicThalamus) -> None:
        self.config = config
        self.llm = llm
        self.fallback = fallback
        self.summary_failures = 0
        self.query_failures = 0

    def perceive(
        self,
        context: EpisodeContext,
        task: Task,
        step: int,
        observation: Observation,
        last: ExecutedAction | None,
        *,
        time: float = 0.0,
    ) -> Perceived:
        base = self.fallback.perceive(context, task, step, observation, last, time=time)
        variables = self._variables(task, step, observation, last) | {"robot": context.robot}
        summary_message = self._message("summary", variables, observation)
        queries_message = self._message("queries", variables, observation)
        # The queries call runs in a worker while this thread makes the summary call; leaving the block
        # waits for the worker, so an exception from either call never leaves a request behind.
        cfg = self.config
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="thalamus") as pool:
            queries_future = pool.submit(
                attempt, self.llm, QUERIES_ROLE, lambda: self._queries(queries_message)
            )
            text, _ = attempt(self.llm, SUMMARY_ROLE, lambda: self._summary(summary_message))
            queries, _ = queries_future.result()

        summary = base.summary
        if text is not None:
            summary = replace(summary, text=_clip(text, cfg.summary_chars))
        else:
            self.summary_failures += 1
        if queries is None:
            self.query_failures += 1
            queries = base.queries
        return Perceived(summary, queries)

    def _summary(self, message: ChatMessage) -> tuple[str | None, str | None]:
        reply = self._ask(message, SUMMARY_ROLE, SUMMARY_SCHEMA)
        text = reply.data.get("summary") if reply.data else None
        if isinstance(text, str) and text.strip():
            return text, None
        return None, reply.error or "no summary in the reply"

    def _queries(self, message: ChatMessage) -> tuple[tuple[str, ...] | None, str | None]:
        reply = self._ask(message, QUERIES_ROLE, QUERIES_SCHEMA)
        cfg = self.config
        queries = clean_queries(
            reply.data.get("queries") if reply.data else None, limit=cfg.max_queries, chars=cfg.query_chars
        )
        return (queries, None) if queries else (None, reply.error or "no usable queries in the reply")

    def _ask(self, message: ChatMessage, role: str, schema: dict[str, Any]) -> LLMReply:
        return self.llm.complete([message], role=role, schema=schema, schema_name=role.replace(".", "_"))

    def _variables(
        self, task: Task, step: int, observation: Observation, last: ExecutedAction | None
    ) -> dict[str, str]:
        cfg = self.config
        if last is None:
            what = "No action yet: this is the initial observation of the task."
        else:
            outcome = "it succeeded" if last.success else "it failed"
            feedback = _clip(last.feedback, cfg.feedback_chars) or "(none)"
            what = f"Action: {last.action} ({outcome})\nEnvironment feedback: {feedback}"
        n = cfg.max_queries
        return {
            "instruction": task.instruction.strip(),
            "step": str(step),
            "last": what,
            "observation": _clip(observation.text, cfg.observation_chars, flatten=False)
            or "(no text observation)",
            "count": f"4 to {n}" if n >= 5 else str(n),
        }

    def _message(self, name: str, variables: dict[str, str], observation: Observation) -> ChatMessage:
        text = _template(name).safe_substitute(variables)
        frames = list(observation.images)[-self.config.max_images :] if self.config.max_images else []
        return image_message("user", text, frames) if frames else text_message("user", text)
