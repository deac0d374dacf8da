"""Spatial memory: a per-site dynamic knowledge graph updated with the paper's Algorithm 2.

One update, each step a function of its own:

(a) extract G_new from the step (:mod:`.extract` or :mod:`.llm_extract`), keeping only what is new or changed;
(b) V_similar = top-n vertices per query by name cosine, where the queries are the names of G_new's vertices
    (so each new fact meets its own vertex's old edges), plus the step summary text when an LLM extracts or
    resolves (so context the extractor missed still pulls in related vertices);
(c) expand k hops, at most ``update_max_expand`` vertices, recent edges first;
(d) G_local = the subgraph of old ∪ new relations induced by V_merged (plus the few vertices the functional
    rules and negative evidence must see, whatever the expansion cut);
(e) resolve conflicts on G_local (:mod:`.resolve` or :mod:`.llm_resolve`; with ``resolve_calls: joint`` the
    model's edits came with (a)'s reply, so an update costs one model call);
(f) write back: G' = (G \\ G_local) ∪ G_updated, in memory and in ONE SQLite transaction;
(g) prune vertices of the local subgraph left isolated.

``UpdateStats.touched`` is the number of edges in G_local, so it measures locality, not graph size.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from envs.skill_language import EB_GRAMMAR
from modules.hippocampus.base import (
    EpisodeContext,
    EpisodeOutcome,
    MemoryStore,
    StepSummary,
    StoreResult,
    UpdateStats,
)
from modules.hippocampus.spatial import export
from modules.hippocampus.spatial.config import SpatialConfig
from modules.hippocampus.spatial.extract import extract_deterministic
from modules.hippocampus.spatial.graph import Change, SiteGraph
from modules.hippocampus.spatial.index import NameIndex
from modules.hippocampus.spatial.locality import conflict_closure, evidence_nodes, expand_hops, similar_nodes
from modules.hippocampus.spatial.model import HistoryRecord, NodeData, SpatialRecall, Stamp
from modules.hippocampus.spatial.observations import Delta, Observations, diff_against
from modules.hippocampus.spatial.operations import Extractor, Resolver
from modules.hippocampus.spatial.persist import LoadedSite, commit_change, history_records, load_site
from modules.hippocampus.spatial.resolve import Resolution, resolve_deterministic
from modules.hippocampus.spatial.retrieve import retrieve_local
from modules.hippocampus.spatial.writeback import (
    diff_local,
    evict_over_budget,
    forget_stale,
    prune_isolated,
    refresh_seen,
)
from modules.hippocampus.variants import SPATIAL_EXTRACTORS, SPATIAL_RESOLVERS
from robomem.embeddings.base import Embedder
from robomem.errors import ConfigError
from robomem.llm.base import LLMClient
from robomem.stores.graph_sqlite import RevisionConflict, SqliteGraphStore

__all__ = ("SpatialMemory",)

_ATTEMPTS = 3


class SpatialMemory(MemoryStore):
    """Spatial knowledge graph of the current site. Thread-safe; several processes may share
    ``<memory_dir>/spatial.sqlite`` (a writer that raced another reloads and redoes its update)."""

    name = "spatial"

    def __init__(
        self, config: SpatialConfig, *, memory_dir: Path, embedder: Embedder, llm: LLMClient | None = None
    ) -> None:
        self.extractor: Extractor = SPATIAL_EXTRACTORS.get(config.extractor).factory(config, llm=llm)
        self.resolver: Resolver = SPATIAL_RESOLVERS.get(config.resolver).factory(config, llm=llm)
        self.config = config
        self.embedder = embedder
        self.llm = llm
        self.path = Path(memory_dir) / "spatial.sqlite"
        self._store = SqliteGraphStore(self.path, busy_timeout_s=config.busy_timeout_s)
        self._lock = threading.RLock()
        self._vectors: dict[str, np.ndarray] = {}
        self._site: LoadedSite | None = None
        self._context: EpisodeContext | None = None
        #: This process's episode ordinal at the site (the site's counter may move on under other writers).
        self._episode = 0
        #: Running totals for this process (LLM fallbacks, revision conflicts, ...).
        self.counters: Counter[str] = Counter()

    # ---- lifecycle -----------------------------------------------------------------------------------------
    def begin_episode(self, context: EpisodeContext) -> None:
        """Load the site's graph, count the episode, and forget what has not been seen for too long."""
        # Rare, so done under the write lock: two processes starting episodes get distinct ordinals.
        with self._lock, self._store.exclusive():
            key = self._graph_key(context)
            loaded = self._site
            if loaded is None or loaded.graph.site != key or self._store.revision(key) != loaded.revision:
                # Reload only when the site changed or another writer moved it on (1.7 s at 1e4 nodes).
                loaded = self._load(key)
            try:
                episode = loaded.episode
                if loaded.meta.get("episode_id") != context.episode_id:
                    episode += 1
                stamp = Stamp(episode, 0, context.episode_id, 0.0)
                change = Change(meta={"episode": str(episode), "episode_id": context.episode_id})
                agent = self.config.agent
                if agent not in loaded.graph:
                    change.upsert_node(agent, NodeData("agent", "agent", stamp, stamp))
                change.apply_to(loaded.graph)
                if self.config.forget_after_episodes is not None:
                    forget = forget_stale(
                        loaded.graph, episode, self.config.forget_after_episodes, stamp, agent
                    )
                    forget.apply_to(loaded.graph)
                    change.extend(forget)
                    self.counters["forgotten"] += len(forget.node_deletes)
                self._sync_index(loaded, change)
                commit_change(self._store, loaded, change, expected_revision=loaded.revision)
            except BaseException:
                self._site = None  # its graph may be ahead of the store: reload next time
                raise
            self._site, self._context, self._episode = loaded, context, episode

    def _graph_key(self, context: EpisodeContext) -> str:
        """The graph this episode reads and writes: the site's, or (scope ``world``) the one of the world
        the site is in now. A restored scene starts a graph named after its first episode, recorded on the
        site so that later episodes in the same world (also after a resume) find it."""
        site = context.site
        if self.config.scope == "site":
            return site
        if not context.world_persists:
            world = f"{site}@{context.episode_id}"
            if self._store.meta(site).get("world") != world:
                self._store.commit(site, meta={"world": world})
            return world
        return self._store.meta(site).get("world", site)

    def update(self, summary: StepSummary) -> UpdateStats:
        with self._lock:
            if self._context != summary.context or self._site is None:
                self.begin_episode(summary.context)
            for _ in range(_ATTEMPTS - 1):
                self._refresh()
                try:
                    return self._update_once(summary)
                except RevisionConflict:
                    self.counters["revision_conflicts"] += 1
            # Lost every optimistic race: hold the write lock while reading, resolving and writing.
            with self._store.exclusive():
                self._refresh()
                return self._update_once(summary)

    def retrieve(self, queries: Sequence[str]) -> StoreResult:
        with self._lock:
            if self._site is None:
                return StoreResult(self.name, (), SpatialRecall("", (), (), ()))
            self._refresh()
            site = self._site
            lines, recall = retrieve_local(site.graph, site.index, list(queries), self.config)
            return StoreResult(self.name, lines, recall)

    def end_episode(self, outcome: EpisodeOutcome) -> UpdateStats:
        self.flush()
        return UpdateStats(self.name)

    def flush(self) -> None:
        with self._lock:
            self._store.flush()

    def close(self) -> None:
        with self._lock:
            self._store.close()

    # ---- Algorithm 2 ---------------------------------------------------------------------------------------
    def _update_once(self, summary: StepSummary) -> UpdateStats:
        site = self._site
        assert site is not None
        cfg, graph = self.config, site.graph
        stamp = Stamp(self._episode, summary.step, summary.context.episode_id, summary.time)
        details: dict[str, Any] = {}
        # (a) G_new, as the difference to what the graph already believes.
        delta = diff_against(self._extract(summary, graph, site.index, details), graph)
        v_new = delta.new_nodes(graph)
        # (b) V_similar.
        queries = [*sorted(v_new), *([summary.text] if cfg.uses_summary_query else [])]
        seeds = similar_nodes(site.index, queries, cfg.top_n, cfg.min_similarity)
        # (c) V_expand.
        hood = expand_hops(graph, seeds, cfg.hops, cfg.update_max_expand)
        # (d) G_local over V_merged.
        v_merged = hood.nodes | v_new | conflict_closure(graph, v_new) | evidence_nodes(graph, delta)
        if delta.proposed is not None:  # edits proposed with the relations (joint call) reach the write-back
            v_merged |= delta.proposed.nodes
        before = graph.induced(v_merged)
        touched = before.number_of_edges() + len(delta.new)
        # (e) G_updated.
        res = self._resolve(graph.induced(v_merged), delta, stamp, details)
        try:
            # (f) write back, then refresh what was merely re-seen.
            change = diff_local(before, res)
            change.apply_to(graph)
            refresh = refresh_seen(graph, delta, stamp)
            refresh.apply_to(graph)
            refreshed_only = set(refresh.edge_upserts) - set(change.edge_upserts)
            change.extend(refresh)
            # (g) prune isolated vertices of the local subgraph; then keep the site within its node budget.
            pruned = prune_isolated(graph, v_merged | set(res.graph.names()), stamp, cfg.agent)
            pruned.apply_to(graph)
            change.extend(pruned)
            protect = v_new | set(delta.nodes)  # never forget what this very step perceived
            evicted = evict_over_budget(graph, cfg.max_nodes, cfg.evict_batch, stamp, cfg.agent, protect)
            evicted.apply_to(graph)
            change.extend(evicted)
            self._sync_index(site, change)
            commit_change(self._store, site, change, expected_revision=site.revision)
        except BaseException:
            # The in-memory graph is ahead of the store: drop it and re-read the truth.
            self._site = self._load(site.graph.site)
            raise
        details.update(
            queries=len(queries),
            seeds=len(seeds),
            local_nodes=len(v_merged),
            local_edges=before.number_of_edges(),
            local_truncated=hood.truncated,
            new_relations=len(delta.new),
            confirmed=len(delta.confirmed),
            # Written by the write-back (G_updated, pruning, eviction) vs. merely re-seen (last_seen refresh).
            edges_written=len(change.edge_upserts) + len(change.edge_deletes) - len(refreshed_only),
            edges_refreshed=len(refreshed_only),
            nodes_written=len(change.node_upserts) + len(change.node_deletes),
            history_written=len(change.history),
            pruned=len(pruned.node_deletes),
            evicted=len(evicted.node_deletes),
            graph_nodes=len(graph),
            graph_edges=graph.number_of_edges(),
            **{k: v for k, v in res.counts.items()},
        )
        return UpdateStats(self.name, touched=touched, details=details)

    def _extract(
        self, summary: StepSummary, graph: SiteGraph, index: NameIndex, details: dict[str, Any]
    ) -> Observations:
        details["extractor"] = self.config.extractor
        # An LLM variant has already applied its role's failure policy (robomem.llm.policy): it raised the
        # run's `[llm]` error, or answered (None, why) for the rules to take over, counted here.
        obs, error = self.extractor.extract(summary, graph, index)
        if obs is not None:
            return obs
        self.counters["extract_fallbacks"] += 1
        details.update(extract_fallback=1, extract_error=error)
        # The rules read EB's skill texts only: in another grammar they keep to the perception rather than
        # misread the action (the deterministic extractor, chosen outright, refuses such a grammar).
        eb = summary.context.grammar == EB_GRAMMAR
        return extract_deterministic(summary, graph, self.config, read_action=eb)

    def _resolve(self, local: SiteGraph, delta: Delta, stamp: Stamp, details: dict[str, Any]) -> Resolution:
        details["resolver"] = self.config.resolver
        res, error = self.resolver.resolve(local, delta, stamp)
        if res is not None:
            return res
        self.counters["resolve_fallbacks"] += 1
        details.update(llm_fallback=1, llm_error=error)
        return resolve_deterministic(local, delta, stamp, self.config)

    # ---- loading -------------------------------------------------------------------------------------------
    def _load(self, site: str) -> LoadedSite:
        return load_site(self._store, site, NameIndex(self.embedder, self._vectors))

    def _refresh(self) -> None:
        """Re-read the site when another process (or a wipe) has written since we last did."""
        site = self._site
        if site is not None and self._store.revision(site.graph.site) != site.revision:
            self.counters["reloads"] += 1
            self._site = self._load(site.graph.site)

    def _sync_index(self, site: LoadedSite, change: Change) -> None:
        site.index.remove(change.node_deletes)
        fresh = [n for n in change.node_upserts if n not in site.index]
        site.index.add(fresh)
        site.unsaved_vectors.update(fresh)

    # ---- inspection and maintenance ------------------------------------------------------------------------
    def _graph_of(self, site: str | None) -> SiteGraph:
        with self._lock:
            if site is None or (self._site is not None and site == self._site.graph.site):
                if self._site is None:
                    raise ConfigError("no site is loaded; call begin_episode() or name a site")
                self._refresh()
                return self._site.graph
            return self._load(site).graph

    def graph(self, site: str | None = None) -> SiteGraph:
        """The live graph of ``site`` (default: the current one). Read it; do not modify it."""
        return self._graph_of(site)

    def history(
        self, node: str | None = None, *, site: str | None = None, limit: int | None = None
    ) -> list[HistoryRecord]:
        """What was believed about ``node`` and retired (oldest first): superseded and retired edges it is an
        end of, its old state values, and the node itself if it was forgotten or pruned. ``node=None``: the
        whole site's history; ``limit``: only the newest records."""
        name = site if site is not None else (self._site.graph.site if self._site is not None else None)
        if name is None:
            return []
        return history_records(self._store.history(name, node, limit))

    def stats(self, site: str | None = None) -> dict[str, int]:
        graph = self._graph_of(site)
        return export.stats(graph, self._store.counts(graph.site))

    def export_json(self, site: str, path: Path) -> None:
        export.write_json(self._graph_of(site), self._store.history(site), path)

    def export_graphml(self, site: str, path: Path) -> None:
        export.write_graphml(self._graph_of(site), path)

    def wipe(self, site: str | None = None) -> None:
        """Delete one site's memory (or all of it), history included. Never called implicitly."""
        with self._lock:
            self._store.wipe(site)
            if self._site is not None and (site is None or site == self._site.graph.site):
                self._site, self._context = None, None
