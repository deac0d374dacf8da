"""Registration of the built-in thalami (imported on the first lookup in :data:`THALAMI`)."""

from __future__ import annotations

from pydantic import BaseModel

from modules.thalamus.base import Thalamus, ThalamusConfig
from modules.thalamus.deterministic import DeterministicThalamus
from modules.thalamus.llm import LLMThalamus, LLMThalamusConfig
from modules.thalamus.registry import THALAMI
from robomem.errors import ConfigError
from robomem.llm.base import LLMClient


@THALAMI.register("deterministic", ThalamusConfig)
def _deterministic(config: BaseModel, *, llm: LLMClient | None, fallback: DeterministicThalamus) -> Thalamus:
    return fallback


@THALAMI.register("llm", LLMThalamusConfig)
def _llm(config: BaseModel, *, llm: LLMClient | None, fallback: DeterministicThalamus) -> Thalamus:
    if llm is None:
        raise ConfigError("the llm thalamus needs agent.llm", key="agent.thalamus.type")
    assert isinstance(config, LLMThalamusConfig)
    return LLMThalamus(config, llm=llm, fallback=fallback)
