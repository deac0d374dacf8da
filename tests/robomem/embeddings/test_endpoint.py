"""The endpoint embedder against the real scripted OpenAI-compatible server on 127.0.0.1: batching, caching,
accounting, the dimension, the key, and transport failures as ``llm`` errors."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import numpy as np
import pytest

from robomem.embeddings.cache import CachedEmbedder
from robomem.embeddings.config import EmbedderConfig, OpenAIEmbedderConfig
from robomem.embeddings.endpoint import ROLE, OpenAIEmbedder
from robomem.embeddings.factory import make_embedder
from robomem.errors import ConfigError, EmbedderError, LLMError
from robomem.llm.accounting import LLMAccounting
from robomem.testing.hashing import HashingEmbedder
from robomem.testing.scripted_llm import Rule, ScriptedLLMServer

TEXTS = [f"the mug number {i} is on the table" for i in range(10)]


@pytest.fixture
def server() -> Iterator[ScriptedLLMServer]:
    with ScriptedLLMServer(embedding_dim=32) as srv:
        yield srv


def config(server: ScriptedLLMServer, **extra: object) -> OpenAIEmbedderConfig:
    fields: dict[str, object] = {"model": "emb", "base_url": server.base_url, "max_retries": 0, **extra}
    return OpenAIEmbedderConfig.model_validate(fields)


def test_texts_go_out_in_batches_and_come_back_unit_length_in_order(server: ScriptedLLMServer) -> None:
    embedder = OpenAIEmbedder(config(server, batch_size=4, dim=32))
    try:
        vectors = embedder.embed(TEXTS)
    finally:
        embedder.close()
    assert [len(r.inputs) for r in server.embedding_requests] == [4, 4, 2]
    assert [t for r in server.embedding_requests for t in r.inputs] == TEXTS
    assert vectors.dtype == np.float32 and vectors.shape == (10, 32)
    np.testing.assert_allclose(vectors, HashingEmbedder(32).embed(TEXTS), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_the_cache_sends_each_text_once(server: ScriptedLLMServer) -> None:
    cached = make_embedder(config(server, batch_size=8, dim=32))
    assert isinstance(cached, CachedEmbedder)
    first = cached.embed(TEXTS[:6])
    again = cached.embed([*TEXTS[:6], TEXTS[6], TEXTS[0]])
    assert [r.inputs for r in server.embedding_requests] == [TEXTS[:6], [TEXTS[6]]]
    np.testing.assert_array_equal(again[:6], first)
    uncached = make_embedder(config(server, cache_size=0, dim=32))
    uncached.embed(TEXTS[:2])
    uncached.embed(TEXTS[:2])
    assert len(server.embedding_requests) == 4, "cache_size=0 sends every call"


def test_requests_tokens_and_retries_are_accounted(server: ScriptedLLMServer) -> None:
    accounting = LLMAccounting()
    server.add(Rule(endpoint="embeddings", contains="number 9", status=503, times=1))
    embedder = OpenAIEmbedder(config(server, batch_size=4, dim=32, max_retries=1), accounting=accounting)
    try:
        embedder.embed(TEXTS)
    finally:
        embedder.close()
    stats = accounting.snapshot()["roles"][ROLE]
    assert (stats["calls"], stats["requests"], stats["retries"], stats["transport_errors"]) == (3, 4, 1, 0)
    assert stats["prompt_tokens"] == sum(len(t.split()) for t in TEXTS)
    assert stats["latency_s"]["samples"] == 3
    assert {r.role for r in server.embedding_requests} == {ROLE}  # the role header names the caller


def test_the_dimension_comes_from_the_first_reply_or_the_config(server: ScriptedLLMServer) -> None:
    discovered = OpenAIEmbedder(config(server))
    assert discovered.dim == 32
    assert [r.inputs for r in server.embedding_requests] == [["dimension probe"]]
    asked = OpenAIEmbedder(config(server, dim=8, send_dim=True))
    assert asked.embed(["a mug"]).shape == (1, 8)
    assert server.embedding_requests[-1].body["dimensions"] == 8  # type: ignore[index]
    wrong = OpenAIEmbedder(config(server, dim=16))  # the server sends 32
    with pytest.raises(EmbedderError, match="returned 32-dimensional vectors for model 'emb', expected 16"):
        wrong.embed(["a mug"])
    for embedder in (discovered, asked, wrong):
        embedder.close()


def test_the_key_comes_from_the_named_environment_variable_only(
    server: ScriptedLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMBED_KEY_FOR_TEST", "sk-embed-secret")
    embedder = OpenAIEmbedder(config(server, dim=32, api_key_env="EMBED_KEY_FOR_TEST"))
    embedder.embed(["a mug"])
    embedder.close()
    assert server.embedding_requests[0].headers["authorization"] == "Bearer sk-embed-secret"
    with pytest.raises(ValueError, match="api_key does not belong in a config"):
        OpenAIEmbedderConfig.model_validate({"model": "emb", "api_key": "sk-embed-secret"})
    with pytest.raises(ValueError, match="must be the name of an environment variable"):
        OpenAIEmbedderConfig.model_validate({"model": "emb", "api_key_env": "sk-embed-secret"})


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_transport_failure_is_an_llm_error_and_is_accounted() -> None:
    accounting = LLMAccounting()
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    cfg = OpenAIEmbedderConfig(model="emb", base_url=url, max_retries=0, dim=8)
    embedder = make_embedder(cfg, accounting=accounting)
    with pytest.raises(LLMError, match=f"embedding request could not reach {url}") as err:
        embedder.embed(["a mug"])
    assert err.value.code == "llm" and err.value.role == ROLE
    assert accounting.snapshot()["roles"][ROLE]["transport_errors"] == 1


def test_an_http_error_after_the_retries_is_an_llm_error(server: ScriptedLLMServer) -> None:
    server.add(Rule(endpoint="embeddings", status=500, reply="model crashed"))
    embedder = OpenAIEmbedder(config(server, dim=32))
    with pytest.raises(LLMError, match="failed with HTTP 500: model crashed") as err:
        embedder.embed(["a mug"])
    embedder.close()
    assert err.value.status == 500


def test_a_plain_embedder_config_of_type_openai_is_validated_in_full() -> None:
    with pytest.raises(ConfigError, match=r"agent\.memory\.embedder\.model: Field required"):
        make_embedder(EmbedderConfig(type="openai"))
