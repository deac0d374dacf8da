"""The LLM backend registry, keyed by ``llm.type``, and :func:`make_llm`.

The deterministic :class:`~robomem.llm.stub.StubLLMClient` is not registered: it needs a responder callable,
which no config file can name. Tests construct it directly, or point an ``openai`` config at
:class:`robomem.testing.scripted_llm.ScriptedLLMServer`.
"""

from __future__ import annotations

from robomem.llm.accounting import LLMAccounting
from robomem.llm.base import LLMClient
from robomem.llm.config import LLMConfig
from robomem.llm.openai_compat import OpenAICompatClient
from robomem.registry import Registry

__all__ = ("LLMS", "make_llm")

LLMS: Registry[LLMClient] = Registry("llm")


@LLMS.register("openai", LLMConfig)
def _openai(config: LLMConfig, *, accounting: LLMAccounting | None = None) -> LLMClient:
    return OpenAICompatClient(config, accounting=accounting)


def make_llm(config: LLMConfig, accounting: LLMAccounting | None = None) -> LLMClient:
    """Build the client ``config.type`` names; ``accounting`` collects per-role usage if given."""
    return LLMS.build(config, accounting=accounting)
