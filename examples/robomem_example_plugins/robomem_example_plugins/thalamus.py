"""``agent.thalamus.type: tagging``: the deterministic thalamus, plus one retrieval query of its own (the
``tag`` and the task's instruction) — an example of a thalamus plug-in that changes what memory is asked."""

from __future__ import annotations

from typing import Any

from modules.thalamus.base import Perceived, ThalamusConfig


class TaggingConfig(ThalamusConfig):
    type: str = "tagging"
    tag: str = "pantry"


class TaggingThalamus:
    Config = TaggingConfig
    #: Steps perceived by every instance in this process, for anyone who wants to see the plug-in at work.
    perceived = 0

    def __init__(self, config: TaggingConfig, *, llm: object, fallback: Any) -> None:
        self.tag = config.tag
        self.fallback = fallback

    def perceive(
        self, context: Any, task: Any, step: int, observation: Any, last: Any, **kw: Any
    ) -> Perceived:
        type(self).perceived += 1
        perceived: Perceived = self.fallback.perceive(context, task, step, observation, last, **kw)
        query = f"{self.tag}: {task.instruction}"
        return Perceived(perceived.summary, (*perceived.queries, query))
