"""The built-in spatial extractors and resolvers, registered by name (:mod:`modules.hippocampus.variants`):
``deterministic`` (structured perception, functional-relation rules) and ``llm`` (the paper's Relation
Retriever and ResolveConflict model calls). An operation answers ``(result, None)``, or ``(None, why)`` when
its reply is unusable, and the store then falls back to the deterministic one. The ``llm`` variants run
under their role's failure policy (:mod:`robomem.llm.policy`): a failed call or an unusable reply stops the
run with the ``[llm]`` error, or — with ``on_failure: fallback`` — answers ``(None, why)``, counted per
role."""

from __future__ import annotations

from typing import Protocol

from envs.skill_language import require_grammar
from modules.hippocampus.base import StepSummary
from modules.hippocampus.spatial.config import SpatialConfig
from modules.hippocampus.spatial.extract import extract_deterministic
from modules.hippocampus.spatial.graph import SiteGraph
from modules.hippocampus.spatial.index import NameIndex
from modules.hippocampus.spatial.llm_extract import JOINT_ROLE, extract_and_resolve_with_llm, extract_with_llm
from modules.hippocampus.spatial.llm_extract import ROLE as EXTRACT_ROLE
from modules.hippocampus.spatial.llm_resolve import ROLE as RESOLVE_ROLE
from modules.hippocampus.spatial.llm_resolve import apply_proposed, resolve_with_llm
from modules.hippocampus.spatial.model import Stamp
from modules.hippocampus.spatial.observations import Delta, Observations
from modules.hippocampus.spatial.resolve import Resolution, conflicts, resolve_deterministic
from modules.hippocampus.variants import SPATIAL_EXTRACTORS, SPATIAL_RESOLVERS
from robomem.errors import ConfigError
from robomem.llm.base import LLMClient
from robomem.llm.policy import attempt

__all__ = ("Extractor", "Resolver")


class Extractor(Protocol):
    def extract(
        self, summary: StepSummary, graph: SiteGraph, index: NameIndex
    ) -> tuple[Observations | None, str | None]: ...


class Resolver(Protocol):
    def resolve(
        self, local: SiteGraph, delta: Delta, stamp: Stamp
    ) -> tuple[Resolution | None, str | None]: ...


def _needs(llm: LLMClient | None, what: str) -> LLMClient:
    if llm is None:
        raise ConfigError(f"the llm {what} needs an LLM client", key="memory.spatial")
    return llm


class _DeterministicExtractor:
    def __init__(self, config: SpatialConfig) -> None:
        self.config = config

    def extract(
        self, summary: StepSummary, graph: SiteGraph, index: NameIndex
    ) -> tuple[Observations | None, str | None]:
        require_grammar(
            summary.context.grammar, "deterministic spatial extractor", key="agent.memory.spatial.extractor"
        )
        return extract_deterministic(summary, graph, self.config), None


class _LLMExtractor:
    def __init__(self, config: SpatialConfig, llm: LLMClient) -> None:
        self.config = config
        self.llm = llm

    def extract(
        self, summary: StepSummary, graph: SiteGraph, index: NameIndex
    ) -> tuple[Observations | None, str | None]:
        cfg = self.config
        # With the llm resolver too, one call returns the relations and the edits they make to the stored
        # beliefs (resolve_calls: joint): one model latency per update instead of two in a row.
        if cfg.resolver == "llm" and cfg.resolve_calls == "joint":
            role, extract = JOINT_ROLE, extract_and_resolve_with_llm
        else:
            role, extract = EXTRACT_ROLE, extract_with_llm
        return attempt(self.llm, role, lambda: extract(summary, graph, index, cfg, self.llm))


class _DeterministicResolver:
    def __init__(self, config: SpatialConfig) -> None:
        self.config = config

    def resolve(self, local: SiteGraph, delta: Delta, stamp: Stamp) -> tuple[Resolution | None, str | None]:
        return resolve_deterministic(local, delta, stamp, self.config), None


class _LLMResolver(_DeterministicResolver):
    def __init__(self, config: SpatialConfig, llm: LLMClient) -> None:
        super().__init__(config)
        self.llm = llm

    def resolve(self, local: SiteGraph, delta: Delta, stamp: Stamp) -> tuple[Resolution | None, str | None]:
        if delta.proposed is not None:
            # The extraction call already answered (resolve_calls: joint): apply its edits, no second call.
            # Unusable edits are that call's unusable reply, under its role's policy.
            return attempt(self.llm, JOINT_ROLE, lambda: apply_proposed(local, delta, stamp, self.config))
        if not (delta.new or delta.clears):  # nothing can conflict: no model call needed
            return super().resolve(local, delta, stamp)
        if self.config.resolve_calls == "on_conflict" and not conflicts(local, delta):
            return super().resolve(local, delta, stamp)  # inserting the new facts is the whole resolution
        return attempt(
            self.llm, RESOLVE_ROLE, lambda: resolve_with_llm(local, delta, stamp, self.config, self.llm)
        )


@SPATIAL_EXTRACTORS.register("deterministic", SpatialConfig)
def _deterministic_extractor(config: SpatialConfig, *, llm: LLMClient | None) -> Extractor:
    return _DeterministicExtractor(config)


@SPATIAL_EXTRACTORS.register("llm", SpatialConfig)
def _llm_extractor(config: SpatialConfig, *, llm: LLMClient | None) -> Extractor:
    return _LLMExtractor(config, _needs(llm, "extractor"))


@SPATIAL_RESOLVERS.register("deterministic", SpatialConfig)
def _deterministic_resolver(config: SpatialConfig, *, llm: LLMClient | None) -> Resolver:
    return _DeterministicResolver(config)


@SPATIAL_RESOLVERS.register("llm", SpatialConfig)
def _llm_resolver(config: SpatialConfig, *, llm: LLMClient | None) -> Resolver:
    return _LLMResolver(config, _needs(llm, "resolver"))
