"""What ``bench/step_overhead.py`` puts into the agent, through its public seams only: a node middleware that
times every node (``RoboMemoryAgent(node_middleware=[probe.wrap])``), a memory opener whose memory system
times its episode-level calls (``memory_opener=probe.memory_opener``), an :class:`envs.wrapper.EnvWrapper`
that adds up the env's own ``step`` time, and the cyclic garbage collector's pauses (``gc.callbacks``).
Then the node calls are cut into loop cycles (:func:`steps_of_episode`) and summarised."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from bench._script import distribution
from envs.base import Env, StepResult
from envs.wrapper import EnvWrapper
from modules.hippocampus.base import EpisodeContext, EpisodeOutcome, MemoryStore, UpdateStats
from modules.hippocampus.config import MemoryConfig
from modules.hippocampus.factory import open_memory
from modules.hippocampus.system import MemorySystem, PhaseTiming
from robomem.context import EpisodeRuntime
from robomem.graph import NODES, NodeFn
from robomem.state import AgentState

__all__ = (
    "Event",
    "Probe",
    "StepTimes",
    "TimedEnv",
    "TimedMemory",
    "gc_totals",
    "steps_of_episode",
    "summarize_steps",
)


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
    #: Cyclic garbage collections: (generation, start, end).
    collections: list[tuple[int, float, float]] = field(default_factory=list)
    env_s: float = 0.0
    env_cpu_s: float = 0.0
    _gc_start: float = 0.0

    def wrap(self, name: str, fn: NodeFn) -> NodeFn:
        """The node middleware (``(name, node) -> node``)."""

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

    def memory_opener(self, config: MemoryConfig, memory_dir: Path, **kwargs: Any) -> MemorySystem:
        """The agent's memory, opened as usual, in a :class:`TimedMemory`."""
        system = open_memory(config, memory_dir, **kwargs)
        timed = TimedMemory(
            list(system.stores.values()), parallel=system.parallel, background=system.background, probe=self
        )
        timed.on_close = system.on_close
        return timed

    @contextmanager
    def mark(self, name: str) -> Iterator[None]:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.marks.append((name, start, time.perf_counter(), cpu))

    @contextmanager
    def watching_gc(self) -> Iterator[None]:
        """Records every collection of the cyclic garbage collector while the block runs."""
        gc.callbacks.append(self._on_gc)
        try:
            yield
        finally:
            gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.collections.append((info["generation"], self._gc_start, time.perf_counter()))


class TimedMemory(MemorySystem):
    """The agent's memory system, with its episode-level calls timed."""

    def __init__(
        self, stores: Sequence[MemoryStore], *, parallel: bool, background: bool, probe: Probe
    ) -> None:
        super().__init__(stores, parallel=parallel, background=background)
        self.probe = probe

    def begin_episode(self, context: EpisodeContext) -> None:
        with self.probe.mark("begin_episode"):
            super().begin_episode(context)

    def end_episode(self, outcome: EpisodeOutcome) -> dict[str, UpdateStats]:
        with self.probe.mark("end_episode"):
            return super().end_episode(outcome)

    def settle(self) -> dict[str, UpdateStats]:
        if not self.consolidating:
            return {}
        with self.probe.mark("consolidation"):
            return super().settle()

    def flush(self) -> None:
        self.settle()  # marked on its own: the consolidation the last step left running
        with self.probe.mark("flush"):
            super().flush()


class TimedEnv(EnvWrapper):
    """Adds up the time spent in the env's ``step`` and counts the invalid actions."""

    def __init__(self, inner: Env, probe: Probe) -> None:
        super().__init__(inner)
        self.probe = probe
        self.invalid = 0

    def step(self, action: int | str, *, timeout_s: float | None = None) -> StepResult:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            result = super().step(action, timeout_s=timeout_s)
        finally:
            self.probe.env_s += time.perf_counter() - start
            self.probe.env_cpu_s += time.process_time() - cpu
        self.invalid += not result.info["last_action_success"]
        return result


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
    #: Pauses of the cyclic garbage collector inside the cycle: generation → seconds.
    gc_s: dict[int, float] = field(default_factory=dict)

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


def steps_of_episode(
    events: Sequence[Event],
    end: float,
    end_cpu: float = 0.0,
    collections: Sequence[tuple[int, float, float]] = (),
) -> list[StepTimes]:
    """Cut one episode's node calls into loop cycles (each starts at a ``perceive``); the last cycle (the
    final observation, no action) is merged into the step before it. ``end``/``end_cpu``: the wall clock and
    the process CPU time where the episode's loop ended; ``collections``: the garbage collector's pauses."""
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
        gc_s: dict[int, float] = {}
        for generation, gc_start, gc_end in collections:
            if start <= gc_start < stop:
                gc_s[generation] = gc_s.get(generation, 0.0) + gc_end - gc_start
        env, env_cpu = sum(e.env_s for e in cycle), sum(e.env_cpu_s for e in cycle)
        steps.append(
            StepTimes(
                stop - start,
                env,
                nodes,
                stores,
                phase_wall,
                cpu_s=cpu_stop - cpu_start,
                env_cpu_s=env_cpu,
                gc_s=gc_s,
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
        "gc": {
            f"gen{g}": {
                "steps_with_one": sum(g in s.gc_s for s in steps),
                "pause_ms": distribution([s.gc_s[g] for s in steps if g in s.gc_s], scale=ms),
            }
            for g in (0, 1, 2)
        },
        "tail": tail(steps),
        "per_node": per_node,
        "per_store": per_store,
    }


def gc_totals(collections: Sequence[tuple[int, float, float]]) -> dict[str, Any]:
    """Every collection, in steps or between them: count, total and longest pause per generation."""
    out = {}
    for g in (0, 1, 2):
        pauses = [end - start for gen, start, end in collections if gen == g]
        out[f"gen{g}"] = {
            "count": len(pauses),
            "total_ms": round(sum(pauses) * 1e3, 2),
            "max_ms": round(max(pauses, default=0.0) * 1e3, 2),
        }
    return out


def _parts(step: StepTimes) -> dict[str, float]:
    """A step's framework time by part (seconds); the garbage collector's pauses are inside the others."""
    parts = {node: seconds for node, seconds in step.nodes.items()}
    parts["langgraph"] = step.langgraph_s
    for phase in ("update", "retrieve"):
        for store, seconds in step.stores[phase].items():
            parts[f"{phase}.{store}"] = seconds
    parts["gc"] = sum(step.gc_s.values())
    return parts


def tail(steps: Sequence[StepTimes], q: float = 90.0) -> dict[str, Any]:
    """The steps above the ``q``-th percentile of framework time, and what they spend more than a median step:
    each part's mean in the tail against its median over all steps."""
    if not steps:
        return {"steps": 0}
    ordered = sorted(s.framework_s for s in steps)
    cut = ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]
    slow = [s for s in steps if s.framework_s > cut]
    if not slow:
        return {"steps": 0, "above_ms": round(cut * 1e3, 3)}
    parts_all = [_parts(s) for s in steps]
    parts_slow = [_parts(s) for s in slow]
    names = sorted({n for p in parts_all for n in p})
    excess = {}
    for name in names:
        typical = distribution([p.get(name, 0.0) for p in parts_all], scale=1e3)["median"]
        slow_mean = distribution([p.get(name, 0.0) for p in parts_slow], scale=1e3)["mean"]
        excess[name] = {"median_all_ms": typical, "mean_tail_ms": slow_mean}
    top = sorted(excess, key=lambda n: excess[n]["mean_tail_ms"] - excess[n]["median_all_ms"], reverse=True)
    return {
        "quantile": q,
        "above_ms": round(cut * 1e3, 3),
        "steps": len(slow),
        "last_steps": sum(s.last for s in slow),
        "with_gen2_collection": sum(2 in s.gc_s for s in slow),
        "framework_ms": distribution([s.framework_s for s in slow], scale=1e3),
        "cpu_ms": distribution([s.framework_cpu_s for s in slow], scale=1e3),
        "largest_excess": top[:5],
        "parts": excess,
        "slowest": [_described(s) for s in sorted(slow, key=lambda s: -s.framework_s)[:10]],
    }


def _described(step: StepTimes) -> dict[str, Any]:
    """One step for the report: its times and its parts above 1 ms."""
    parts = {name: round(v * 1e3, 2) for name, v in _parts(step).items() if v >= 1e-3}
    return {
        "framework_ms": round(step.framework_s * 1e3, 2),
        "cpu_ms": round(step.framework_cpu_s * 1e3, 2),
        "last": step.last,
        "gc_ms": {f"gen{g}": round(v * 1e3, 2) for g, v in sorted(step.gc_s.items())},
        "parts_ms": parts,
    }
