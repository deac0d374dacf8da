"""Prompt files and JSON-schema calls shared by the memory operations' LLM implementations.

Prompts live as ``prompts/<name>.txt`` next to this module and use ``$name`` placeholders
(:class:`string.Template`), because the prompts themselves contain JSON braces. Every prompt names the agent
as the environment does (``$robot``: :attr:`envs.base.Env.robot`, carried by
:attr:`modules.hippocampus.base.EpisodeContext.robot`), never "household robot" whatever the environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from string import Template
from typing import Any, Protocol, runtime_checkable

from robomem.llm.base import LLMClient, text_message

__all__ = ("Worded", "ask_json", "load_prompt", "tell_robot")

PROMPT_DIR = Path(__file__).parent / "prompts"


@lru_cache(maxsize=32)
def load_prompt(name: str) -> Template:
    return Template((PROMPT_DIR / f"{name}.txt").read_text(encoding="utf-8"))


@runtime_checkable
class Worded(Protocol):
    """A memory-operation variant whose prompt names the agent but whose calls carry no episode (a temporal
    compressor, a long-term decider): its store tells it the environment's wording when an episode begins
    (:func:`tell_robot`). A plug-in variant opts in by having the attribute."""

    robot: str


def tell_robot(variant: object, robot: str) -> None:
    """Give ``variant`` the environment's name for the agent, if it words a prompt with it."""
    if isinstance(variant, Worded):
        variant.robot = robot


def ask_json(
    llm: LLMClient,
    *,
    role: str,
    prompt: str,
    schema: dict[str, Any],
    essential: Sequence[str] | None = None,
    **variables: str,
) -> tuple[dict[str, Any] | None, str | None]:
    """Render ``prompt`` and ask for a reply following ``schema``: (parsed object, error). ``essential``:
    the keys a reply cannot do without (default: the schema's ``required``)."""
    text = load_prompt(prompt).safe_substitute(variables)
    message = text_message("user", text)
    reply = llm.complete([message], role=role, schema=schema, schema_name=prompt, essential=essential)
    if reply.data is None:
        return None, reply.error or "no JSON object in the reply"
    return reply.data, None
