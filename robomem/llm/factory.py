"""The LLM backend registry, keyed by ``llm.type``, and :func:`make_llm`.

The deterministic :class:`~robomem.llm.stub.StubLLMClient` is not registered: it needs a responder callable,
which no config file can name. Tests construct it directly, or point an ``openai`` config at
:class:`robomem.testing.scripted_llm.ScriptedLLMServer`.
"""

from __future__ import annotations

from robomem.llm.accounting import LLMAccounting
from robomem.llm.base import LLMClient
from robomem.llm.config import LLMConfig
from robomem.registry import Registry

__all__ = ("LLMS", "make_llm")

#: Third-party clients register through the ``robomem.llm_clients`` entry-point group: a factory ``(config,
#: *, accounting)`` whose ``Config`` subclasses :class:`LLMConfig` with ``type`` defaulting to the entry
#: point's name.
LLMS: Registry[LLMClient] = Registry("llm", entry_points="robomem.llm_clients", base=LLMConfig)


@LLMS.register("openai", LLMConfig)
def _openai(config: LLMConfig, *, accounting: LLMAccounting | None = None) -> LLMClient:
    # Imported on use: validating a config never loads the OpenAI SDK.
    from robomem.llm.openai_compat import OpenAICompatClient

    return OpenAICompatClient(config, accounting=accounting)


def make_llm(config: LLMConfig, accounting: LLMAccounting | None = None) -> LLMClient:
    """Build the client ``config.type`` names; ``accounting`` collects per-role usage if given."""
    return LLMS.build(config, accounting=accounting)
