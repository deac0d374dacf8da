"""Memory filled for ``bench/step_overhead.py``: a spatial graph of many houses and long-term memory of many
episodes and lessons, written through the real stores with the real metadata.

* spatial graph: houses from the simulator's scene generator, walked through by a real ``SpatialMemory``
  (:func:`bench._houses.house_rows`), their rows copied in bulk with name vectors from the fill embedder;
  layout ``site`` merges them (names tagged ``_h17``) into the agent's own site, ``spread`` gives each
  house its own site.
* long-term memory: episodic trajectories (real instructions of the household suites, many houses) and
  semantic lessons (action level and task level, many houses); semantic memory is capped at its
  ``max_items``, the rest is episodic.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._houses import HouseRows, bench_house, house_rows
from envs.household.catalog import CATALOGS
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.task import Task
from modules.hippocampus.base import EpisodeContext, EpisodeOutcome
from modules.hippocampus.config import MemoryConfig
from modules.hippocampus.episodic import render_trajectory
from modules.hippocampus.lessons import ACTION_RULES
from modules.hippocampus.longterm import stable_id
from robomem.embeddings.base import Embedder, Vectors
from robomem.stores.base import VectorItem
from robomem.stores.factory import open_vector_store
from robomem.stores.graph_sqlite import NodeRow, SqliteGraphStore

__all__ = ("PROFILE", "Templates", "VectorCache", "fill_longterm", "fill_spatial", "instructions")

PROFILE = "alfred"
TEMPLATE_HOUSES = 32
#: Fraction of semantic lessons at action level (generic); the rest are task level (about one house).
ACTION_LEVEL_SHARE = 0.05


@dataclass
class VectorCache:
    """Vectors of the fill embedder, computed once per text for all cases."""

    embedder: Embedder
    vectors: dict[str, Vectors] = field(default_factory=dict)
    seconds: float = 0.0

    def embed(self, texts: Sequence[str]) -> Vectors:
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
        start = time.perf_counter()
        for i in range(0, len(missing), 256):
            chunk = missing[i : i + 256]
            for text, vec in zip(chunk, self.embedder.embed(chunk), strict=True):
                self.vectors[text] = vec
        self.seconds += time.perf_counter() - start
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([self.vectors[t] for t in texts]).astype(np.float32)


@dataclass
class Templates:
    """Houses walked through by the real spatial memory, reused (renamed) to build large graphs."""

    work_dir: Path
    rows: dict[int, HouseRows] = field(default_factory=dict)
    seconds: float = 0.0

    def house(self, index: int) -> HouseRows:
        key = index % TEMPLATE_HOUSES
        if key not in self.rows:
            start = time.perf_counter()
            self.rows[key] = house_rows(bench_house(PROFILE, key), self.work_dir / f"template_{key}")
            self.seconds += time.perf_counter() - start
        return self.rows[key]


def fill_spatial(
    memory_dir: Path, *, layout: str, edges: int, agent_site: str, templates: Templates, cache: VectorCache
) -> dict[str, Any]:
    """Write houses until the graph holds at least ``edges`` edges; returns what was written."""
    start = time.perf_counter()
    embed_before = cache.seconds
    store = SqliteGraphStore(memory_dir / "spatial.sqlite")
    model = cache.embedder.name
    written_nodes = written_edges = houses = 0
    meta = {"episode": "1", "episode_id": "bench-fill"}
    try:
        while written_edges < edges:
            rows = templates.house(houses)
            if layout == "site":
                rows, site = rows.tagged(f"h{houses}"), agent_site
            else:
                site = f"bench_home_{houses:05d}"
            vectors = cache.embed([n.name for n in rows.nodes])
            nodes = [
                NodeRow(n.name, n.data, vec.tobytes(), model)
                for n, vec in zip(rows.nodes, vectors, strict=True)
            ]
            store.commit(site, upsert_nodes=nodes, upsert_edges=rows.edges, meta=meta)
            written_nodes += len(rows.nodes)
            written_edges += len(rows.edges)
            houses += 1
    finally:
        store.close()
    return {
        "layout": layout,
        "houses": houses,
        "sites": 1 if layout == "site" else houses,
        "nodes": written_nodes,
        "edges": written_edges,
        "agent_site_nodes": written_nodes if layout == "site" else 0,
        "seconds": round(time.perf_counter() - start, 2),
        "embedding_seconds": round(cache.seconds - embed_before, 2),
    }


def instructions() -> list[Task]:
    """Every distinct instruction of the household suites (one task each)."""
    env = HouseholdEnv(HouseholdConfig(profile=PROFILE))
    tasks = [t for s in env.lifelong_sequences() for t in s.tasks]
    tasks += [t for subset in env.subsets() for t in env.tasks(subset)]
    unique: dict[str, Task] = {}
    for task in tasks:
        unique.setdefault(task.instruction, task)
    return list(unique.values())


def _trajectory(task: Task, success: bool) -> list[tuple[str, bool, str]]:
    steps: list[tuple[str, bool, str]] = []
    for condition in task.goal:
        obj = condition.object.type
        where = condition.inside.type if condition.inside is not None else "CounterTop"
        steps += [(f"find a {obj}", True, ""), (f"pick up the {obj}", True, "")]
        steps += [(f"find a {where}", True, ""), ("put down the object in hand", True, "")]
    if not success:
        steps.insert(1, (steps[0][0].replace("find a", "pick up the"), False, "The object is not nearby."))
        steps = steps[: max(2, len(steps) - 2)]
    return steps


def episodic_items(count: int, tasks: Sequence[Task]) -> list[tuple[VectorItem, str]]:
    """``count`` trajectories the way episodic memory stores them: (item, text that is embedded)."""
    from modules.hippocampus.base import StepRecord
    from modules.hippocampus.episodic import _norm

    out = []
    pool = len(tasks)
    for i in range(count):
        task, success, site = tasks[i % pool], (i // pool) % 2 == 0, f"bench_home_{i // (2 * pool):05d}"
        steps = _trajectory(task, success)
        episode_id = f"bench-fill/{i}"
        context = EpisodeContext(site, episode_id, task.instruction, task.task_type)
        outcome = EpisodeOutcome(
            context,
            success,
            1.0 if success else 0.5,
            tuple(StepRecord(a, "" if ok else f"Last action is invalid. {why}", ok) for a, ok, why in steps),
        )
        key = f"episode:{'ok' if success else 'fail'}:{site}:{_norm(task.instruction)}"
        embed_text = f"Task: {task.instruction}"
        meta: dict[str, str | int | float | bool] = {
            "kind": "episode",
            "site": site,
            "success": success,
            "steps": len(steps),
            "progress": outcome.progress,
            "task_type": task.task_type,
            "episode_id": episode_id,
            "actions": _norm(" | ".join(a for a, _, _ in steps)),
            "key": key,
            "created": float(i),
            "updated": float(i),
            "count": 1,
            "episodes": episode_id,
            "embed_text": embed_text,
        }
        out.append((VectorItem(stable_id("bench", key), render_trajectory(outcome), meta), embed_text))
    return out


def semantic_items(count: int) -> list[tuple[VectorItem, str]]:
    """``count`` lessons the way semantic memory stores them: a few generic action-level lessons, the rest
    task-level facts about many houses ("In bench_home_00017, a Mug was found at Cabinet_2.")."""
    catalog = CATALOGS[PROFILE]
    objects = sorted(t.name for t in catalog.of_kind("object"))
    places = sorted(t.name for t in catalog.of_kind("receptacle"))
    verbs = ("pick up", "open", "close", "put down", "slice", "turn on", "find")
    lessons: list[tuple[str, str, str, str]] = []  # (level, site, key, text)
    n_action = min(count, max(len(ACTION_RULES), round(count * ACTION_LEVEL_SHARE)))
    for _, key, text in ACTION_RULES[:n_action]:
        lessons.append(("action", "", key, text))
    for i in range(n_action - len(lessons)):
        verb, obj = verbs[i % len(verbs)], objects[(i // len(verbs)) % len(objects)]
        where = places[(i // (len(verbs) * len(objects))) % len(places)]
        text = f"'{verb} the {obj}' can fail with: the {obj} is not reachable from the {where} ({i})."
        lessons.append(("action", "", f"action:other:{verb}:{obj}:{i}", text))
    i = 0
    while len(lessons) < count:
        site = f"bench_home_{i // (2 * len(objects)):05d}"
        obj = objects[(i // 2) % len(objects)]
        if i % 2 == 0:
            place = f"{places[(i // 2 + i // 7) % len(places)]}_{1 + i % 3}"
            lessons.append(
                ("task", site, f"task:where:{site}:{obj}", f"In {site}, a {obj} was found at {place}.")
            )
        else:
            lessons.append(("task", site, f"task:absent:{site}:{obj}", f"In {site} there is no {obj}."))
        i += 1
    out = []
    for n, (level, site, key, text) in enumerate(lessons):
        meta: dict[str, str | int | float | bool] = {
            "kind": "lesson",
            "level": level,
            "key": key,
            "created": float(n),
            "updated": float(n),
            "count": 1,
            "episodes": f"bench-fill/{n}",
            "embed_text": text,
        }
        if level == "task":
            meta["site"] = site
        out.append((VectorItem(stable_id("bench", key), text, meta), text))
    return out


def fill_longterm(
    memory_dir: Path, config: MemoryConfig, *, items: int, tasks: Sequence[Task], cache: VectorCache
) -> dict[str, Any]:
    start = time.perf_counter()
    embed_before = cache.seconds
    semantic = min(items // 2, config.semantic.max_items)
    episodic = min(items - semantic, config.episodic.max_items)
    counts = {}
    for name, made in (("episodic", episodic_items(episodic, tasks)), ("semantic", semantic_items(semantic))):
        store = open_vector_store(
            config.vector, memory_dir=memory_dir, name=name, embedder_name=cache.embedder.name, dim=384
        )
        try:
            for i in range(0, len(made), 2000):
                chunk = made[i : i + 2000]
                store.upsert([item for item, _ in chunk], cache.embed([text for _, text in chunk]))
            counts[name] = store.count()
        finally:
            store.close()
    return {
        **counts,
        "items": sum(counts.values()),
        "backend": config.vector.type,
        "seconds": round(time.perf_counter() - start, 2),
        "embedding_seconds": round(cache.seconds - embed_before, 2),
    }
