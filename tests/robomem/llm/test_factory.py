from __future__ import annotations

import pytest

from robomem.errors import RegistryError
from robomem.llm import LLMS, LLMAccounting, LLMClient, LLMConfig, OpenAICompatClient, make_llm


def test_make_llm_builds_the_openai_client_with_accounting() -> None:
    accounting = LLMAccounting()
    client = make_llm(LLMConfig(model="m", base_url="http://127.0.0.1:9/v1"), accounting)
    assert isinstance(client, OpenAICompatClient)
    assert isinstance(client, LLMClient)
    assert client.accounting is accounting
    assert LLMS.names() == ("openai",)


def test_unknown_type_lists_the_available_ones() -> None:
    config = LLMConfig.model_construct(type="nope", model="m")
    with pytest.raises(RegistryError, match="unknown llm type 'nope'; available: openai"):
        make_llm(config)
