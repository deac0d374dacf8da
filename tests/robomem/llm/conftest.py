from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from robomem.llm import LLMAccounting, LLMConfig, OpenAICompatClient
from robomem.testing.scripted_llm import ScriptedLLMServer
from tests.robomem.llm.helpers import KEY_ENV, SECRET, MakeClient


@pytest.fixture
def server() -> Iterator[ScriptedLLMServer]:
    with ScriptedLLMServer(max_delay_s=10.0) as srv:
        yield srv


@pytest.fixture
def accounting() -> LLMAccounting:
    return LLMAccounting()


@pytest.fixture
def make_client(
    server: ScriptedLLMServer, accounting: LLMAccounting, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MakeClient]:
    """Clients against the scripted server, with test-friendly bounds; closed after the test."""
    monkeypatch.setenv(KEY_ENV, SECRET)
    made: list[OpenAICompatClient] = []

    def make(**overrides: Any) -> OpenAICompatClient:
        fields: dict[str, Any] = {
            "model": "test-model",
            "base_url": server.base_url,
            "api_key_env": KEY_ENV,
            "timeout_s": 10.0,
            "max_retries": 0,
        }
        fields.update(overrides)
        client = OpenAICompatClient(LLMConfig(**fields), accounting=accounting)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
