"""Thalamus plug-ins, keyed by ``agent.thalamus.type``.

Built-ins (registered by :mod:`modules.thalamus.builtins`, imported on the first lookup): ``deterministic``
(the offline default) and ``llm`` (the paper's step summarizer ∥ query generator; its section takes the fields
of :class:`modules.thalamus.llm.LLMThalamusConfig`). Third-party ones register through the
``robomem.thalamus`` entry-point group: a factory ``(config, *, llm, fallback)`` (``llm`` may be ``None``;
``fallback`` is the deterministic thalamus) whose ``Config`` subclasses :class:`ThalamusConfig` with ``type``
defaulting to the entry point's name (without a ``Config``, it takes :class:`ThalamusConfig`).
"""

from __future__ import annotations

from modules.thalamus.base import Thalamus, ThalamusConfig
from robomem.registry import Registry

__all__ = ("THALAMI", "ThalamusConfig")

THALAMI: Registry[Thalamus] = Registry(
    "thalamus", entry_points="robomem.thalamus", builtins="modules.thalamus.builtins", base=ThalamusConfig
)
