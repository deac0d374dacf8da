"""Framework time per agent step (deterministic mode), with the spatial knowledge graph and long-term memory
filled to 1e3 / 1e4 / 1e5 edges and items: median and p95, per node and per memory store.

    python -m bench.step_overhead [--quick] [--sizes 1e3,1e4,1e5] [--layout both|site|spread]
                                  [--steps N] [--warmup N] [--fill-embedder minilm|hashing] [--out PATH]

What runs is the real ``RoboMemoryAgent`` with its default configuration (symbolic planner, deterministic
critic and thalamus, the four stores fanned out in parallel, MiniLM embeddings (onnxruntime, else numpy)
behind the LRU cache, Chroma on disk, the LangGraph SQLite checkpointer) on the household simulator's first
lifelong sequence, repeated (two objects moved between tasks, like ``configs/lifelong.yaml``). "Framework
time" of a step is the wall time of one loop cycle (perceive → memory_update → memory_retrieve → [plan] →
[critic] → execute, LangGraph scheduling and checkpoint writes included) minus the environment's own
``step``. The cycle that records an episode's final observation is counted with the episode's last step.
"Framework CPU time" is the process's CPU time (all threads, ``time.process_time``) over the same cycle minus
the env's: on a machine shared with other work, wall time also counts the waiting for a core, CPU time does
not. Per-episode work outside the loop is reported separately: ``begin_episode`` (loading the site),
``consolidation`` (the long-term writes the last step starts in its update fan-out and the agent waits for
after the loop) and ``end_episode`` (only when an episode ends without its last memory update, e.g. when the
planner gives up).

Memory is filled before the run:

* spatial graph: houses from the simulator's scene generator, walked through by a real ``SpatialMemory``
  (real perception, extractor, resolver and write-back; see ``bench._common.house_rows``); their rows are then
  copied in bulk, with name vectors from the fill embedder. Layout ``site``: all houses merged (names tagged
  ``_h17``) into the very site the agent works in, whose node budget (``memory.spatial.max_nodes``, 5000 by
  default) is raised so nothing is evicted — the worst case for a step. Layout ``spread``: one site per house,
  as a robot that has lived in many houses would have; the agent's own site is built by the agent.
* long-term memory: episodic trajectories (real instructions of the household suites, many houses) and
  semantic lessons (action level and task level, many houses) written through the real vector store with the
  real metadata; semantic memory is capped at its ``max_items`` (20,000), the rest is episodic.

The fill embedder is MiniLM by default, i.e. the same model the measured steps use. ``--fill-embedder
hashing`` fills much faster with the lexical hashing embedder; those vectors are then stored under MiniLM's
name so that the memory opens (search costs the same, but similarities are not MiniLM's): the JSON says so.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from bench._common import (
    RESULTS_DIR,
    HouseRows,
    add_standard_args,
    bench_house,
    distribution,
    house_rows,
    machine_info,
    now_iso,
    parse_counts,
    write_json,
)
from envs.base import Env, Observation, StepResult
from envs.household.catalog import CATALOGS
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.task import Task
from modules.hippocampus.base import EpisodeContext, EpisodeOutcome, MemoryStore, UpdateStats
from modules.hippocampus.config import MemoryConfig
from modules.hippocampus.episodic import render_trajectory
from modules.hippocampus.lessons import ACTION_RULES
from modules.hippocampus.longterm import stable_id
from modules.hippocampus.spatial.memory import SpatialMemory
from modules.hippocampus.system import MemorySystem, PhaseTiming
from robomem.context import EpisodeRuntime
from robomem.embeddings.base import Embedder, Vectors
from robomem.embeddings.config import EmbedderConfig
from robomem.embeddings.factory import make_embedder
from robomem.llm.accounting import LLMAccounting
from robomem.llm.base import LLMClient
from robomem.state import AgentState
from robomem.stores.base import VectorItem
from robomem.stores.factory import open_vector_store
from robomem.stores.graph_sqlite import NodeRow, SqliteGraphStore

__all__ = ("main", "run")

DEFAULT_OUT = RESULTS_DIR / "step_overhead.json"
NODES = ("perceive", "memory_update", "memory_retrieve", "plan", "critic", "execute")
PROFILE = "alfred"
TARGET_P95_MS = 20.0
#: Spatial memory forgets vertices not seen for 50 episodes of a site; the filled rows are stamped episode 1,
#: so a case runs at most this many episodes (the graph must stay at its filled size while measured).
MAX_EPISODES = 48
TEMPLATE_HOUSES = 32
#: Fraction of semantic lessons at action level (generic); the rest are task level (about one house).
ACTION_LEVEL_SHARE = 0.05

#: The agent module's own reference to the memory factory (what ``begin_run`` calls).
_OPEN_MEMORY = "open_memory"

NodeFn = Callable[[AgentState, Runtime[EpisodeRuntime]], AgentState]


# ---- instrumentation -------------------------------------------------------------------------------------
@dataclass
class Event:
    """One node call: its wall time, the environment time inside it, the memory fan-out it ran."""

    node: str
    start: float
    end: float
    env_s: float = 0.0
    phase: PhaseTiming | None = None
    #: The process's CPU time (all threads) at the start, and the env's CPU time inside the call.
    cpu_start: float = 0.0
    env_cpu_s: float = 0.0


@dataclass
class Probe:
    events: list[Event] = field(default_factory=list)
    #: Episode-level memory calls: (name, start, end, process CPU time at the start).
    marks: list[tuple[str, float, float, float]] = field(default_factory=list)
    env_s: float = 0.0
    env_cpu_s: float = 0.0

    def wrap(self, name: str, fn: NodeFn) -> NodeFn:
        def timed(state: AgentState, runtime: Runtime[EpisodeRuntime]) -> AgentState:
            memory = runtime.context.memory
            known = len(memory.timings) if memory is not None else 0
            env_before, env_cpu_before = self.env_s, self.env_cpu_s
            start, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(state, runtime)
            finally:
                end = time.perf_counter()
                phase = memory.timings[-1] if memory is not None and len(memory.timings) > known else None
                env_cpu = self.env_cpu_s - env_cpu_before
                self.events.append(Event(name, start, end, self.env_s - env_before, phase, cpu, env_cpu))

        timed.__name__ = timed.__qualname__ = name
        return timed

    @contextmanager
    def mark(self, name: str) -> Iterator[None]:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.marks.append((name, start, time.perf_counter(), cpu))


class TimedMemory(MemorySystem):
    """The agent's memory system, with its episode-level calls timed."""

    def __init__(self, stores: Sequence[MemoryStore], *, parallel: bool, probe: Probe) -> None:
        super().__init__(stores, parallel=parallel)
        self.probe = probe

    def begin_episode(self, context: EpisodeContext) -> None:
        with self.probe.mark("begin_episode"):
            super().begin_episode(context)

    def end_episode(self, outcome: EpisodeOutcome) -> dict[str, UpdateStats]:
        with self.probe.mark("end_episode"):
            return super().end_episode(outcome)

    def settle(self) -> dict[str, UpdateStats]:
        if not self._consolidating:
            return {}
        with self.probe.mark("consolidation"):
            return super().settle()

    def flush(self) -> None:
        self.settle()  # marked on its own: the consolidation the last step left running
        with self.probe.mark("flush"):
            super().flush()


class TimedEnv(Env):
    """Forwards to the household env and adds up the time spent in its ``step``."""

    def __init__(self, inner: HouseholdEnv, probe: Probe) -> None:
        self.inner = inner
        self.profile = inner.profile
        self.probe = probe
        self.invalid = 0

    @property
    def skills(self) -> tuple[str, ...]:
        return self.inner.skills

    def reset(self, task: Task, *, keep_world: bool = False) -> Observation:
        return self.inner.reset(task, keep_world=keep_world)

    def step(self, action: int | str, *, timeout_s: float | None = None) -> StepResult:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            result = self.inner.step(action, timeout_s=timeout_s)
        finally:
            self.probe.env_s += time.perf_counter() - start
            self.probe.env_cpu_s += time.process_time() - cpu
        self.invalid += not result.info["last_action_success"]
        return result

    def action_id(self, action: int | str) -> int:
        return self.inner.action_id(action)


@contextmanager
def instrumented(probe: Probe) -> Iterator[None]:
    """While the agent is built (``begin_run``): its graph gets timed node functions, its memory system is a
    :class:`TimedMemory`. Nothing else about the agent changes."""
    import robomem.agents.robomemory as agent_module
    import robomem.nodes as nodes_module

    saved = {name: getattr(nodes_module, name) for name in NODES}
    original_open: Callable[..., MemorySystem] = getattr(agent_module, _OPEN_MEMORY)

    def open_timed(
        config: MemoryConfig,
        memory_dir: Path,
        *,
        llm: LLMClient | None = None,
        embedder: Embedder | None = None,
        fresh: bool = False,
        accounting: LLMAccounting | None = None,
    ) -> MemorySystem:
        system = original_open(
            config, memory_dir, llm=llm, embedder=embedder, fresh=fresh, accounting=accounting
        )
        timed = TimedMemory(list(system.stores.values()), parallel=system.parallel, probe=probe)
        timed.on_close = system.on_close
        return timed

    try:
        for name, fn in saved.items():
            setattr(nodes_module, name, probe.wrap(name, fn))
        setattr(agent_module, _OPEN_MEMORY, open_timed)
        yield
    finally:
        for name, fn in saved.items():
            setattr(nodes_module, name, fn)
        setattr(agent_module, _OPEN_MEMORY, original_open)


# ---- per-step accounting ---------------------------------------------------------------------------------
@dataclass
class StepTimes:
    wall_s: float
    env_s: float
    nodes: dict[str, float]
    #: ``update`` / ``retrieve`` → store → seconds (summed over the fan-outs of the step).
    stores: dict[str, dict[str, float]]
    phase_wall: dict[str, float]
    #: The episode's last step: it also carries the cycle that records the final observation, in which the
    #: memory update starts the episode's consolidation (running on while LangGraph checkpoints).
    last: bool = False
    #: The process's CPU time over the cycle (all threads) and the env's share of it.
    cpu_s: float = 0.0
    env_cpu_s: float = 0.0

    @property
    def framework_s(self) -> float:
        return self.wall_s - self.env_s

    @property
    def framework_cpu_s(self) -> float:
        return self.cpu_s - self.env_cpu_s

    @property
    def langgraph_s(self) -> float:
        """What is neither a node nor the env: LangGraph's scheduling and the checkpoint writes."""
        return self.framework_s - sum(self.nodes.values())


def steps_of_episode(events: Sequence[Event], end: float, end_cpu: float = 0.0) -> list[StepTimes]:
    """Cut one episode's node calls into loop cycles (each starts at a ``perceive``); the last cycle (the
    final observation, no action) is merged into the step before it. ``end``/``end_cpu``: the wall clock and
    the process CPU time where the episode's loop ended."""
    starts = [i for i, e in enumerate(events) if e.node == "perceive"]
    cycles: list[tuple[float, float, float, float, list[Event]]] = []
    for k, i in enumerate(starts):
        j = starts[k + 1] if k + 1 < len(starts) else len(events)
        stop, stop_cpu = (events[j].start, events[j].cpu_start) if j < len(events) else (end, end_cpu)
        cycles.append((events[i].start, stop, events[i].cpu_start, stop_cpu, list(events[i:j])))
    if len(cycles) > 1 and not any(e.node == "execute" for e in cycles[-1][4]):
        last, before = cycles.pop(), cycles.pop()
        cycles.append((before[0], last[1], before[2], last[3], before[4] + last[4]))
    steps = []
    for start, stop, cpu_start, cpu_stop, cycle in cycles:
        if not any(e.node == "execute" for e in cycle):
            continue
        nodes = dict.fromkeys(NODES, 0.0)
        stores: dict[str, dict[str, float]] = {"update": {}, "retrieve": {}}
        phase_wall = {"update": 0.0, "retrieve": 0.0}
        for e in cycle:
            nodes[e.node] += e.end - e.start - e.env_s
            if e.phase is not None and e.phase.phase in stores:
                phase_wall[e.phase.phase] += e.phase.wall_s
                for store, seconds in e.phase.per_store.items():
                    stores[e.phase.phase][store] = stores[e.phase.phase].get(store, 0.0) + seconds
        env, env_cpu = sum(e.env_s for e in cycle), sum(e.env_cpu_s for e in cycle)
        steps.append(
            StepTimes(
                stop - start, env, nodes, stores, phase_wall, cpu_s=cpu_stop - cpu_start, env_cpu_s=env_cpu
            )
        )
    if steps:
        steps[-1].last = True
    return steps


def summarize_steps(steps: Sequence[StepTimes]) -> dict[str, Any]:
    ms = 1e3
    per_node: dict[str, Any] = {}
    for node in NODES:
        values = [s.nodes[node] for s in steps]
        ran = [v for v in values if v > 0]
        per_node[node] = {
            "per_step_ms": distribution(values, scale=ms),
            "when_run_ms": distribution(ran, scale=ms),
            "share_of_framework": round(sum(values) / max(1e-12, sum(s.framework_s for s in steps)), 4),
        }
    per_store: dict[str, Any] = {}
    for phase in ("update", "retrieve"):
        names = sorted({n for s in steps for n in s.stores[phase]})
        per_store[phase] = {
            n: distribution([s.stores[phase].get(n, 0.0) for s in steps], scale=ms) for n in names
        }
        per_store[f"{phase}_wall"] = distribution([s.phase_wall[phase] for s in steps], scale=ms)
    return {
        "steps": len(steps),
        "framework_ms": distribution([s.framework_s for s in steps], scale=ms),
        "framework_ms_ordinary_steps": distribution([s.framework_s for s in steps if not s.last], scale=ms),
        "framework_ms_last_steps": distribution([s.framework_s for s in steps if s.last], scale=ms),
        "framework_cpu_ms": distribution([s.framework_cpu_s for s in steps], scale=ms),
        "framework_cpu_ms_ordinary_steps": distribution(
            [s.framework_cpu_s for s in steps if not s.last], scale=ms
        ),
        "env_step_ms": distribution([s.env_s for s in steps], scale=ms),
        "langgraph_ms": distribution([s.langgraph_s for s in steps], scale=ms),
        "langgraph_share_of_framework": round(
            sum(s.langgraph_s for s in steps) / max(1e-12, sum(s.framework_s for s in steps)), 4
        ),
        "per_node": per_node,
        "per_store": per_store,
    }


# ---- filling memory ---------------------------------------------------------------------------------------
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


def _instructions() -> list[Task]:
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


# ---- one measured case ------------------------------------------------------------------------------------
def measure(
    memory_dir: Path,
    run_dir: Path,
    config: MemoryConfig,
    *,
    steps: int,
    warmup: int,
) -> dict[str, Any]:
    """Run the agent until ``steps`` steps after ``warmup`` episodes; return the per-step figures."""
    from robomem.agents.robomemory import RoboMemoryAgent
    from robomem.agents.robomemory_config import RoboMemoryAgentConfig

    probe = Probe()
    agent = RoboMemoryAgent(RoboMemoryAgentConfig(memory=config.model_copy(update={"dir": str(memory_dir)})))
    env = HouseholdEnv(HouseholdConfig(profile=PROFILE))
    sequence = env.lifelong_sequences()[0]
    timed_env = TimedEnv(env, probe)
    measured: list[StepTimes] = []
    episode_marks: dict[str, list[float]] = {
        "begin_episode": [],
        "end_episode": [],
        "consolidation": [],
        "flush": [],
    }
    outcomes = {"episodes": 0, "successes": 0, "steps": 0, "invalid_actions": 0}
    episodes = 0
    run_dir.mkdir(parents=True, exist_ok=True)
    with instrumented(probe):
        agent.begin_run(run_dir)
    assert agent.memory is not None
    try:
        attempt = 0
        while len(measured) < steps and episodes < MAX_EPISODES:
            attempt += 1
            for position, task in enumerate(sequence.tasks, start=1):
                if position > 1:
                    env.perturb(2, seed=attempt * 100 + position)
                observation = timed_env.reset(task, keep_world=position > 1)
                first_event, first_mark, invalid_before = (
                    len(probe.events),
                    len(probe.marks),
                    timed_env.invalid,
                )
                agent.run_episode(timed_env, task, observation, episode_id=f"a{attempt}/{position}")
                episodes += 1
                marks = probe.marks[first_mark:]
                # The loop ends where per-episode work starts: waiting for the consolidation, or end_episode.
                end, end_cpu = next(
                    ((s, c) for name, s, _, c in marks if name in ("end_episode", "consolidation", "flush")),
                    (time.perf_counter(), time.process_time()),
                )
                if episodes <= warmup:
                    continue
                episode_steps = steps_of_episode(probe.events[first_event:], end, end_cpu)
                measured += episode_steps
                for name, s, e, _ in marks:
                    episode_marks[name].append(e - s)
                status = env.goal_status()
                outcomes["episodes"] += 1
                outcomes["successes"] += int(status[0])
                outcomes["steps"] += len(episode_steps)
                outcomes["invalid_actions"] += timed_env.invalid - invalid_before
                if len(measured) >= steps or episodes >= MAX_EPISODES:
                    break
        spatial = agent.memory["spatial"]
        site_stats = spatial.stats() if isinstance(spatial, SpatialMemory) else {}
        stored = {
            name: agent.memory[name].index.store.count()  # type: ignore[attr-defined]
            for name in ("episodic", "semantic")
        }
    finally:
        agent.end_run()
    return {
        **summarize_steps(measured),
        "episode_ms": {name: distribution(values, scale=1e3) for name, values in episode_marks.items()},
        "outcome": {**outcomes, "warmup_episodes": warmup},
        "agent_site": sequence.scene,
        "memory_at_end": {"agent_site_graph": site_stats, **stored},
    }


# ---- the benchmark ----------------------------------------------------------------------------------------
def _size_label(n: int) -> str:
    exponent = round(math.log10(n)) if n > 0 else 0
    return f"1e{exponent}" if n == 10**exponent else str(n)


def run(
    *,
    quick: bool,
    sizes: Sequence[int],
    layouts: Sequence[str],
    steps: int,
    warmup: int,
    fill_embedder: str,
    work_dir: Path | None,
) -> dict[str, Any]:
    started = time.perf_counter()
    measuring = MemoryConfig()  # the default memory configuration: MiniLM, Chroma, every store
    fill = make_embedder(EmbedderConfig(type=fill_embedder, cache_size=0))
    if fill_embedder != measuring.embedder.type:
        fill.name = make_embedder(measuring.embedder).name
    cache = VectorCache(fill)
    tasks = _instructions()
    cases = []
    root = Path(tempfile.mkdtemp(prefix="robomem-step-overhead-", dir=work_dir))
    templates = Templates(root / "templates")
    try:
        for size in sizes:
            for layout in layouts:
                load_before = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
                case_dir = root / f"{layout}_{size}"
                memory_dir = case_dir / "memory"
                memory_dir.mkdir(parents=True)
                ltm = fill_longterm(memory_dir, measuring, items=size, tasks=tasks, cache=cache)
                kg = fill_spatial(
                    memory_dir,
                    layout=layout,
                    edges=size,
                    agent_site="alfred_home_01",
                    templates=templates,
                    cache=cache,
                )
                # A robot's lifelong memory of its house: one graph per site (the simulator's episodic mode
                # would otherwise give every episode a fresh graph, and the fill would go unused).
                spatial = measuring.spatial.model_copy(update={"scope": "site"})
                config = measuring.model_copy(update={"spatial": spatial})
                if layout == "site":
                    budget = max(config.spatial.max_nodes, 2 * kg["nodes"] + 1000)
                    spatial = config.spatial.model_copy(update={"max_nodes": budget})
                    config = config.model_copy(update={"spatial": spatial})
                figures = measure(memory_dir, case_dir / "run", config, steps=steps, warmup=warmup)
                case = {
                    "layout": layout,
                    "kg_edges": size,
                    "ltm_items": size,
                    "label": f"{_size_label(size)} edges + {_size_label(size)} items ({layout})",
                    "spatial_max_nodes": config.spatial.max_nodes,
                    # 1/5/15-minute load averages before the case and after it: a busy machine slows steps.
                    "load_average": {
                        "before": load_before,
                        "after": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
                    },
                    "fill": {"spatial": kg, "longterm": ltm},
                    **figures,
                }
                cases.append(case)
                print(
                    f"  {case['label']}: framework median {case['framework_ms']['median']} ms, "
                    f"p95 {case['framework_ms']['p95']} ms over {case['steps']} steps "
                    f"(CPU median {case['framework_cpu_ms']['median']} ms, "
                    f"p95 {case['framework_cpu_ms']['p95']} ms) "
                    f"(ordinary steps: p95 {case['framework_ms_ordinary_steps']['p95']} ms; "
                    f"episodes' last steps: median {case['framework_ms_last_steps']['median']} ms)",
                    file=sys.stderr,
                )
                shutil.rmtree(case_dir, ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    largest = [c for c in cases if c["kg_edges"] == max(sizes)]
    p95s = {c["layout"]: c["framework_ms"]["p95"] for c in largest}
    return {
        "benchmark": "step_overhead",
        "quick": quick,
        "description": (
            "framework time per agent step (loop cycle wall time minus the env's own step), deterministic "
            "agent with the default memory configuration, spatial graph and long-term memory pre-filled"
        ),
        "measuring_embedder": _describe(make_embedder(measuring.embedder)),
        "fill_embedder": fill_embedder
        + (
            "" if fill_embedder == "minilm" else " (vectors stored under MiniLM's name: cost-equivalent only)"
        ),
        "vector_backend": measuring.vector.type,
        "profile": PROFILE,
        "steps_per_case": steps,
        "warmup_episodes": warmup,
        "template_houses": {"count": len(templates.rows), "seconds": round(templates.seconds, 2)},
        "target": {
            "p95_ms": TARGET_P95_MS,
            "at": f"{_size_label(max(sizes))} edges + {_size_label(max(sizes))} items",
            "p95_ms_by_layout": p95s,
            "met": bool(p95s) and all(p <= TARGET_P95_MS for p in p95s.values()),
        },
        "cases": cases,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": machine_info(),
        "created": now_iso(),
    }


def _describe(embedder: Embedder) -> str:
    inner = getattr(embedder, "inner", embedder)  # behind the LRU cache
    backend = getattr(inner, "backend", None)
    where = f"{backend} MiniLM" if backend else type(inner).__name__
    cached = " behind an LRU cache" if inner is not embedder else ""
    return f"{embedder.name} ({where}{cached})"


def _sizes(text: str) -> list[int]:
    sizes = parse_counts(text, "sizes")
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_standard_args(parser, DEFAULT_OUT)
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=None,
        help="graph edges = long-term items per case, comma-separated (default 1e3,1e4,1e5; quick 150)",
    )
    parser.add_argument("--layout", choices=("both", "site", "spread"), default="both", help="graph layout")
    parser.add_argument(
        "--steps", type=int, default=None, help="steps measured per case (default 300, quick 6)"
    )
    parser.add_argument(
        "--warmup", type=int, default=None, help="unmeasured episodes first (default 3, quick 1)"
    )
    parser.add_argument("--fill-embedder", choices=("minilm", "hashing"), default="minilm")
    parser.add_argument("--work-dir", type=Path, default=None, help="where memory is built (default: tmp)")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([150] if args.quick else [1_000, 10_000, 100_000])
    steps = args.steps or (6 if args.quick else 300)
    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    if steps < 1 or warmup < 0:
        parser.error("--steps must be >= 1 and --warmup >= 0")
    layouts = ("site", "spread") if args.layout == "both" else (args.layout,)
    report = run(
        quick=args.quick,
        sizes=sizes,
        layouts=layouts,
        steps=steps,
        warmup=warmup,
        fill_embedder=args.fill_embedder,
        work_dir=args.work_dir,
    )
    write_json(report, args.out)
    target = report["target"]
    by_layout = ", ".join(f"{layout} {p95} ms" for layout, p95 in target["p95_ms_by_layout"].items())
    print(
        f"step_overhead: p95 framework time per step at {target['at']}: {by_layout} "
        f"(target <= {TARGET_P95_MS:g} ms: {'met' if target['met'] else 'MISSED'}), "
        f"{len(report['cases'])} cases in {report['seconds']:.0f} s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
