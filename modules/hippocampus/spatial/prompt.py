"""Prompt files of spatial memory (``modules/hippocampus/prompts/``), rendered at call time.

Templates use ``$name`` slots (``string.Template``), so the JSON examples in them need no escaping.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from string import Template

from robomem.llm.base import LLMClient, LLMReply, text_message

__all__ = ("ask_json", "render")


@cache
def _template(name: str) -> Template:
    text = resources.files("modules.hippocampus").joinpath("prompts", name).read_text(encoding="utf-8")
    return Template(text)


def render(name: str, **values: object) -> str:
    return _template(name).substitute({k: str(v) for k, v in values.items()})


def ask_json(
    llm: LLMClient, prompt: str, *, role: str, schema: dict[str, object], schema_name: str
) -> LLMReply:
    """One schema-constrained call; a reply that does not parse gets one retry with a correction."""
    messages = [text_message("user", prompt)]
    reply = llm.complete(messages, role=role, schema=schema, schema_name=schema_name)
    if reply.data is not None:
        return reply
    messages += [
        text_message("assistant", reply.text),
        text_message(
            "user", f"That reply was not valid JSON ({reply.error}). Reply with the JSON object only."
        ),
    ]
    return llm.complete(messages, role=role, schema=schema, schema_name=schema_name)
