"""Thalamus plug-ins, keyed by ``agent.thalamus.type``.

Built-ins: ``deterministic`` (the offline default) and ``llm`` (the paper's step summarizer ∥ query
generator; its section takes the fields of :class:`modules.thalamus.llm.LLMThalamusConfig`). Third-party
ones register through the ``robomem.thalamus`` entry-point group: a factory ``(config, *, llm, fallback)``
(``llm`` may be ``None``; ``fallback`` is the deterministic thalamus) whose ``Config`` has ``type``
defaulting to the entry point's name.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from modules.thalamus.base import Thalamus
from modules.thalamus.deterministic import DeterministicThalamus
from modules.thalamus.llm import LLMThalamus, LLMThalamusConfig
from robomem.errors import ConfigError
from robomem.llm.base import LLMClient
from robomem.registry import Registry

__all__ = ("THALAMI", "ThalamusConfig")


class ThalamusConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "deterministic"


THALAMI: Registry[Thalamus] = Registry("thalamus", entry_points="robomem.thalamus", config_cls=ThalamusConfig)


@THALAMI.register("deterministic", ThalamusConfig)
def _deterministic(config: BaseModel, *, llm: LLMClient | None, fallback: DeterministicThalamus) -> Thalamus:
    return fallback


@THALAMI.register("llm", LLMThalamusConfig)
def _llm(config: BaseModel, *, llm: LLMClient | None, fallback: DeterministicThalamus) -> Thalamus:
    if llm is None:
        raise ConfigError("the llm thalamus needs agent.llm", key="agent.thalamus.type")
    assert isinstance(config, LLMThalamusConfig)
    return LLMThalamus(config, llm=llm, fallback=fallback)
