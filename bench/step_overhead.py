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

Memory is filled before the run (:mod:`bench._step_fill`): a spatial graph of houses from the simulator's
scene generator, walked through by a real ``SpatialMemory``, and long-term memory of episodes and lessons,
through the real stores. Layout ``site``: all houses merged into the very site the agent works in, whose node
budget (``memory.spatial.max_nodes``) is raised so nothing is evicted — the worst case for a step. Layout
``spread``: one site per house, as a robot that has lived in many houses would have.
The agent is measured through its public seams only (:mod:`bench._step_probe`): a node middleware, a memory
opener and an env wrapper; the garbage collector's pauses are recorded per step, and the report's ``tail``
says what the slowest 10% of steps spend their time on.

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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench._script import (
    RESULTS_DIR,
    add_standard_args,
    distribution,
    machine_info,
    now_iso,
    parse_counts,
    write_json,
)
from bench._step_fill import PROFILE, Templates, VectorCache, fill_longterm, fill_spatial, instructions
from bench._step_probe import Probe, StepTimes, TimedEnv, gc_totals, steps_of_episode, summarize_steps
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from modules.hippocampus.config import MemoryConfig
from modules.hippocampus.spatial.memory import SpatialMemory
from robomem.embeddings.base import Embedder
from robomem.embeddings.config import EmbedderConfig
from robomem.embeddings.factory import make_embedder

__all__ = ("main", "run")

DEFAULT_OUT = RESULTS_DIR / "step_overhead.json"
TARGET_P95_MS = 20.0
#: Spatial memory forgets vertices not seen for 50 episodes of a site; the filled rows are stamped episode 1,
#: so a case runs at most this many episodes (the graph must stay at its filled size while measured).
MAX_EPISODES = 48


# ---- one measured case ------------------------------------------------------------------------------------
def measure(
    memory_dir: Path,
    run_dir: Path,
    config: MemoryConfig,
    *,
    steps: int,
    warmup: int,
    freeze_heap: bool = True,
) -> dict[str, Any]:
    """Run the agent until ``steps`` steps after ``warmup`` episodes; return the per-step figures."""
    from robomem.agents.robomemory import RoboMemoryAgent
    from robomem.agents.robomemory_config import RoboMemoryAgentConfig

    probe = Probe()
    agent = RoboMemoryAgent(
        RoboMemoryAgentConfig(
            memory=config.model_copy(update={"dir": str(memory_dir)}), freeze_heap=freeze_heap
        ),
        node_middleware=[probe.wrap],
        memory_opener=probe.memory_opener,
    )
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
    measured_from = math.inf
    run_dir.mkdir(parents=True, exist_ok=True)
    agent.begin_run(run_dir)
    assert agent.memory is not None
    try:
        with probe.watching_gc():
            attempt = 0
            while len(measured) < steps and episodes < MAX_EPISODES:
                attempt += 1
                for position, task in enumerate(sequence.tasks, start=1):
                    if position > 1:
                        env.perturb(2, seed=attempt * 100 + position)
                    observation = timed_env.reset(task, keep_world=position > 1)
                    first_event, first_mark, first_gc = (
                        len(probe.events),
                        len(probe.marks),
                        len(probe.collections),
                    )
                    invalid_before = timed_env.invalid
                    agent.run_episode(timed_env, task, observation, episode_id=f"a{attempt}/{position}")
                    episodes += 1
                    events = probe.events[first_event:]
                    marks = probe.marks[first_mark:]
                    # The loop ends where per-episode work starts: the wait for consolidation, or end_episode.
                    end, end_cpu = next(
                        (
                            (s, c)
                            for name, s, _, c in marks
                            if name in ("end_episode", "consolidation", "flush")
                        ),
                        (time.perf_counter(), time.process_time()),
                    )
                    if episodes <= warmup:
                        continue
                    measured_from = min(measured_from, events[0].start if events else end)
                    collections = probe.collections[first_gc:]
                    episode_steps = steps_of_episode(events, end, end_cpu, collections)
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
        "freeze_heap": freeze_heap,
        "gc_measured_episodes": gc_totals([c for c in probe.collections if c[1] >= measured_from]),
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
    tasks = instructions()
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
