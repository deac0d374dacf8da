"""Registries of the memory operations' variants, chosen by name in the store configs
(``memory.temporal.compressor: llm``, ``memory.spatial.extractor: deterministic`` ...).

Each name maps to a factory ``(store_config, *, llm, fallback)`` (spatial ones: ``(store_config, *, llm)``)
building the operation; ``llm`` may be ``None`` for an all-offline agent, ``fallback`` is the built-in
deterministic operation (the variant may use it on a bad reply). What each operation object must provide:

- temporal compressor: ``compress(entries, instruction) -> str``
- spatial extractor: ``extract(summary, graph, index) -> (Observations | None, error | None)``
  (``None``: fall back to the deterministic extractor, counted as a fallback)
- spatial resolver: ``resolve(local, delta, stamp) -> (Resolution | None, error | None)`` (likewise)
- episodic and semantic deciders: ``decide(candidate, similar) -> Decision``
- episodic (trajectory) creator: ``create(outcome) -> list[Candidate]``
- semantic (lesson) creator: ``create(outcome, facts) -> list[Candidate]``

Built-ins are ``deterministic`` and ``llm``. A third-party package adds one through the entry-point group
named below (e.g. ``robomem.memory.temporal_compressors``), naming the factory.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from robomem.registry import Registry

__all__ = (
    "EPISODIC_CREATORS",
    "EPISODIC_DECIDERS",
    "SEMANTIC_CREATORS",
    "SEMANTIC_DECIDERS",
    "SPATIAL_EXTRACTORS",
    "SPATIAL_RESOLVERS",
    "TEMPORAL_COMPRESSORS",
)


def _registry(family: str, group: str, builtins: str) -> Registry[Any]:
    # Entry-point factories take the store's own config: there is no per-variant config class.
    return Registry(family, entry_points=f"robomem.memory.{group}", builtins=builtins, config_cls=BaseModel)


TEMPORAL_COMPRESSORS = _registry(
    "temporal compressor", "temporal_compressors", "modules.hippocampus.temporal"
)
SPATIAL_EXTRACTORS = _registry(
    "spatial extractor", "spatial_extractors", "modules.hippocampus.spatial.operations"
)
SPATIAL_RESOLVERS = _registry(
    "spatial resolver", "spatial_resolvers", "modules.hippocampus.spatial.operations"
)
EPISODIC_CREATORS = _registry("episodic creator", "episodic_creators", "modules.hippocampus.episodic")
EPISODIC_DECIDERS = _registry("episodic decider", "episodic_deciders", "modules.hippocampus.episodic")
SEMANTIC_CREATORS = _registry("semantic creator", "semantic_creators", "modules.hippocampus.semantic")
SEMANTIC_DECIDERS = _registry("semantic decider", "semantic_deciders", "modules.hippocampus.semantic")
