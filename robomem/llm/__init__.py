"""LLM clients behind one small contract (:class:`robomem.llm.base.LLMClient`)."""

from robomem.llm.accounting import LLMAccounting
from robomem.llm.base import ChatMessage, LLMClient, LLMReply, image_message, text_message
from robomem.llm.config import LLMConfig, RoleOverride, RoleSettings
from robomem.llm.factory import LLMS, make_llm
from robomem.llm.jsonparse import parse_json_object
from robomem.llm.openai_compat import OpenAICompatClient
from robomem.llm.stub import StubLLMClient

__all__ = (
    "LLMS",
    "ChatMessage",
    "LLMAccounting",
    "LLMClient",
    "LLMConfig",
    "LLMReply",
    "OpenAICompatClient",
    "RoleOverride",
    "RoleSettings",
    "StubLLMClient",
    "image_message",
    "make_llm",
    "parse_json_object",
    "text_message",
)
