"""Configuration of spatial memory (``memory.spatial``): the paper's hyper-parameters plus the bounds that
keep a lifelong, per-site graph small and every update local."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from modules.hippocampus.variants import SPATIAL_EXTRACTORS, SPATIAL_RESOLVERS

__all__ = ("SpatialConfig",)


class SpatialConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Seed vertices per query (the paper's n = 3, App. E5).
    top_n: int = Field(default=3, ge=1)
    #: Hops expanded around the seeds (the paper's k = 2); hops follow edges in both directions.
    hops: int = Field(default=2, ge=0)
    #: Cap on the nodes one expansion may add, so a hub (a room with 40 pieces of furniture) cannot blow
    #: up locality; neighbours reached through recently seen edges are kept first.
    max_expand: int = Field(default=24, ge=0)
    #: The same cap for an update's G_local. Smaller than for retrieval: the resolver's rules always see the
    #: vertices they need (functional targets, visible containers), so wider context only costs edges
    #: (measured at 1e4 nodes: 24 -> 57 edges per update, 4 -> 17; the paper reports ~10).
    update_max_expand: int = Field(default=4, ge=0)
    #: Also seed an update with the step summary text (context the extractor missed). ``None``: only when
    #: an LLM extracts or resolves — the deterministic path reads structured perception, and embedding a
    #: long, never-repeated summary costs more than the rest of the update (measured 80 -> 27 ms).
    summary_query: bool | None = None
    #: Seeds below this cosine similarity are ignored (0 keeps the paper's plain top-n).
    min_similarity: float = Field(default=0.0, ge=-1.0, le=1.0)
    #: Retrieval text budget; tokens are estimated as ``len(text) / 4`` (no tokenizer on the hot path).
    token_budget: int = Field(default=300, ge=0)
    #: Always retrieve the agent's own relations (where am I, what do I hold) besides the query seeds.
    retrieve_agent: bool = True

    #: ``deterministic`` reads the structured perception and the executed action; ``llm`` asks the model
    #: for relations in the step summary text (for environments that give pixels only); or a
    #: ``robomem.memory.spatial_extractors`` entry point.
    extractor: str = "deterministic"
    #: ``deterministic`` applies the functional-relation rules; ``llm`` asks the model for edits, which are
    #: validated and fall back to the deterministic rules when malformed or inconsistent; or a
    #: ``robomem.memory.spatial_resolvers`` entry point.
    resolver: str = "deterministic"
    #: When the ``llm`` resolver asks the model. ``joint``: with the ``llm`` extractor, its one call returns
    #: the step's relations and the edits to the beliefs they touch (one model latency per update; measured
    #: by ``bench.parallel_memory``); with the deterministic extractor as ``always``. ``on_conflict``: a
    #: second call only when the local subgraph holds a functional conflict (two values of one functional
    #: relation, a thing held and placed); the rules' own answer otherwise. ``always``: the paper's two calls
    #: in a row whenever the step brings new facts.
    resolve_calls: Literal["joint", "on_conflict", "always"] = "joint"

    #: ``world``: one graph per world. An episode in a restored scene (``world_persists`` false: every
    #: EmbodiedBench episode) starts an empty graph, task-local as in the paper, and later episodes in that
    #: same world continue it; a robot's world always persists. ``site``: one graph per site whatever resets
    #: do (facts from before a reset are then stale).
    scope: Literal["world", "site"] = "world"

    #: Name of the agent's own vertex (never pruned or forgotten).
    agent: str = "I"
    #: Confidence of beliefs by provenance (``observed`` beliefs start at 1.0).
    inferred_confidence: float = Field(default=0.8, gt=0.0, le=1.0)
    reported_confidence: float = Field(default=0.7, gt=0.0, le=1.0)
    #: Negative evidence: a belief "X in C" whose container C is visible while X is not seen is multiplied
    #: by ``weaken_factor`` (once per visit) and retired to history once below ``drop_below``.
    weaken_factor: float = Field(default=0.5, gt=0.0, lt=1.0)
    drop_below: float = Field(default=0.3, ge=0.0, le=1.0)

    #: Bound on live nodes per site: beyond it the least recently seen, least confident nodes are forgotten
    #: (moved to history) in batches of ``evict_batch`` extra nodes, so eviction scans are rare.
    max_nodes: int = Field(default=5000, ge=16)
    evict_batch: int = Field(default=64, ge=0)
    #: Nodes not seen for this many episodes of the site are forgotten at ``begin_episode`` (None: never).
    forget_after_episodes: int | None = Field(default=50, ge=1)

    #: Seconds SQLite waits for another process's write lock before giving up.
    busy_timeout_s: float = Field(default=30.0, gt=0.0)

    @field_validator("extractor")
    @classmethod
    def _known_extractor(cls, value: str) -> str:
        return SPATIAL_EXTRACTORS.check_name(value)

    @field_validator("resolver")
    @classmethod
    def _known_resolver(cls, value: str) -> str:
        return SPATIAL_RESOLVERS.check_name(value)

    @property
    def uses_summary_query(self) -> bool:
        if self.summary_query is None:
            return any(name != "deterministic" for name in (self.extractor, self.resolver))
        return self.summary_query

    @model_validator(mode="after")
    def _check(self) -> SpatialConfig:
        if self.drop_below >= 1.0 or self.drop_below > self.inferred_confidence:
            # A fresh inferred belief must not be born below the retirement threshold.
            raise ValueError("drop_below must be below inferred_confidence (and below 1)")
        if self.drop_below > self.reported_confidence:
            raise ValueError("drop_below must be below reported_confidence")
        return self
