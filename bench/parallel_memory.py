"""Parallel vs sequential memory: one step's memory update + retrieval with the four stores fanned out over
threads, against the same work one store after another, when every LLM call takes a fixed time L.

    python -m bench.parallel_memory [--quick] [--delay 0.2] [--repeats N] [--out PATH]

The LLM is a real OpenAI-compatible HTTP server on 127.0.0.1 (:class:`ScriptedLLMServer`) that answers every
chat request after ``--delay`` seconds with a valid reply computed from the prompt. The episodes are
household tasks solved by the oracle and replayed step by step (real observations, the deterministic
thalamus' summaries and queries); each is cut one action short, so it ends as a failure.

Which store calls the LLM when (the LLM memory operations are selected in ``MemoryConfig``):

* temporal: one compression call per update once the buffer is full (capacity 2 here, so from step 2 on
  every step; the paper's capacity 3 compresses every second step);
* spatial: one relation-extraction call per update. With the LLM resolver too (the ``paper*`` sets: the
  paper preset's memory operations), ``paper`` asks for the relations and the conflict edits in that one
  call (``resolve_calls: joint``); ``paper_on_conflict`` adds a conflict-resolution call after it when the
  local subgraph holds a functional conflict; ``paper_two_calls`` adds one whenever the step brings new
  facts (Algorithm 2 as written);
* episodic and semantic: no call during a step; at the end of the episode one ADD/UPDATE/DELETE/NOOP
  decision (episodic: per candidate, one for a failed episode) and one lesson-creation call (semantic).
  With the LLM lesson decider too, ``paper`` and ``paper_on_conflict`` have the lessons and their
  decisions written in that one call (``semantic.decide_calls: joint``; a lesson whose nearest stored
  lessons the call was not shown still gets its own decision call, counted under ``decisions``);
  ``paper_two_calls`` adds one decision call per lesson after it (the paper as written; the lessons'
  decisions in parallel).

So only the episode's last step has all four stores calling the LLM. What is measured, per arm, exactly as
the agent does it:

* ``ordinary_step``: ``update`` + ``retrieve`` of a step that compresses (temporal and spatial call the LLM);
* ``final_step``: the last step, ``MemorySystem.update_and_end`` and then ``settle``: each store takes the
  step and then consolidates the episode inside the same fan-out task, so all four stores' LLM calls overlap
  (no retrieval: nothing is planned after the last step). The agent's step returns once every store took
  the step; the measured wall includes the consolidation that finishes after that.

Arms: ``parallel`` (``MemoryConfig.parallel=true``), ``sequential`` (``false``) and
``temporal_only`` (the temporal store alone: the paper's single-module baseline). Repeats are episodes; the
arms take turns episode by episode, so a noisy neighbour hits them alike. Figures are medians (p95 given)
over steps; ratios are ratios of medians. The paper sets are checked against issue #11's targets: median
<= 1.2 L and p95 <= 2 L per ordinary step, <= 2 L for the last step.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._replies import MEMORY_ROLE_STORES, GoldEpisode, gold_episodes, memory_reply_rules
from bench._script import RESULTS_DIR, bench_main, distribution, machine_info, now_iso
from modules.hippocampus.base import (
    EpisodeContext,
    EpisodeOutcome,
    StepRecord,
)
from modules.hippocampus.config import STORE_NAMES, MemoryConfig, StoreName
from modules.hippocampus.factory import open_memory
from modules.hippocampus.system import MemorySystem, PhaseTiming
from modules.thalamus.deterministic import DeterministicThalamus
from robomem.embeddings.config import EmbedderConfig
from robomem.embeddings.factory import make_embedder
from robomem.llm.accounting import LLMAccounting
from robomem.llm.config import LLMConfig
from robomem.llm.factory import make_llm
from robomem.stores.config import VectorConfig
from robomem.testing.scripted_llm import ScriptedLLMServer

__all__ = ("OPS", "main", "run")

DEFAULT_OUT = RESULTS_DIR / "parallel_memory.json"
#: The LLM memory operations of each configuration under test (``MemoryConfig`` fields).
OPS: dict[str, dict[str, dict[str, Any]]] = {
    # Every store makes exactly one LLM call in the measured final step.
    "one_call": {
        "temporal": {"compressor": "llm"},
        "spatial": {"extractor": "llm", "resolver": "deterministic"},
        "episodic": {"decider": "llm"},
        "semantic": {"creator": "llm", "decider": "deterministic"},
    },
    # The paper preset's memory operations: every one that has an LLM implementation uses it; spatial memory
    # extracts relations and resolves conflicts in one call (``resolve_calls: joint``, the default), and
    # lesson creation decides on its lessons in the same call (``decide_calls: joint``, the default).
    "paper": {
        "temporal": {"compressor": "llm"},
        "spatial": {"extractor": "llm", "resolver": "llm", "resolve_calls": "joint"},
        "episodic": {"creator": "llm", "decider": "llm"},
        "semantic": {"creator": "llm", "decider": "llm"},
    },
    # The same, asking the resolver only when the local subgraph holds a conflict.
    "paper_on_conflict": {
        "temporal": {"compressor": "llm"},
        "spatial": {"extractor": "llm", "resolver": "llm", "resolve_calls": "on_conflict"},
        "episodic": {"creator": "llm", "decider": "llm"},
        "semantic": {"creator": "llm", "decider": "llm"},
    },
    # The same as the paper writes it: extraction, then a conflict-resolution call, in a row (Algorithm 2);
    # lesson creation, then one decision call per lesson.
    "paper_two_calls": {
        "temporal": {"compressor": "llm"},
        "spatial": {"extractor": "llm", "resolver": "llm", "resolve_calls": "always"},
        "episodic": {"creator": "llm", "decider": "llm"},
        "semantic": {"creator": "llm", "decider": "llm", "decide_calls": "separate"},
    },
}
MODES = ("parallel", "sequential")
TARGET_PARALLEL_OVER_L = 1.25
TARGET_SEQUENTIAL_OVER_PARALLEL = 3.0
#: The paper preset's targets (issue #11): per ordinary step median <= 1.2 L and p95 <= 2 L; last step <= 2 L.
PAPER_TARGETS = {
    ("ordinary_step", "parallel_over_L"): 1.2,
    ("ordinary_step", "parallel_p95_over_L"): 2.0,
    ("final_step", "parallel_over_L"): 2.0,
}


@dataclass
class _StepRun:
    """One measured step of one arm."""

    kind: str  # ordinary_step | final_step | warm (not a measured kind)
    wall_s: float
    phases: dict[str, float]
    per_store: dict[str, dict[str, float]]
    calls: dict[str, int]


@dataclass
class _Arm:
    name: str
    mode: str  # parallel | sequential | temporal_only
    ops: str | None
    config: MemoryConfig
    system: MemorySystem
    accounting: LLMAccounting
    close_llm: Any
    runs: list[_StepRun] = field(default_factory=list)


def _memory_config(ops: str | None, mode: str, *, capacity: int, embedder: str, vector: str) -> MemoryConfig:
    sections: dict[str, dict[str, Any]] = OPS[ops or "one_call"]
    stores: tuple[StoreName, ...] = ("temporal",) if mode == "temporal_only" else STORE_NAMES
    return MemoryConfig(
        stores=stores,
        parallel=mode != "sequential",
        temporal={**sections["temporal"], "capacity": capacity},
        spatial=sections["spatial"],
        episodic=sections["episodic"],
        semantic=sections["semantic"],
        embedder=EmbedderConfig(type=embedder),
        vector=VectorConfig(type=vector),
    )


def _open_arm(
    name: str, mode: str, ops: str | None, base_url: str, root: Path, args: argparse.Namespace
) -> _Arm:
    config = _memory_config(
        ops, mode, capacity=args.temporal_capacity, embedder=args.embedder, vector=args.vector
    )
    accounting = LLMAccounting()
    llm = make_llm(
        LLMConfig(model="scripted", base_url=base_url, max_retries=0, timeout_s=30.0, concurrency=8),
        accounting=accounting,
    )
    # One embedder per arm: its text cache must not warm up another arm.
    system = open_memory(config, root / name, llm=llm, embedder=make_embedder(config.embedder))
    return _Arm(name, mode, ops, config, system, accounting, getattr(llm, "close", None))


def _last_timing(system: MemorySystem, phase: str) -> PhaseTiming:
    return next(t for t in reversed(system.timings) if t.phase == phase)


def _run_episode(
    arm: _Arm, episode: GoldEpisode, index: int, server: ScriptedLLMServer, *, record: bool
) -> None:
    task = episode.task
    context = EpisodeContext(
        site=task.scene,
        episode_id=f"{arm.name}/{index}/{task.task_id}",
        instruction=task.instruction,
        task_type=task.task_type,
    )
    thalamus = DeterministicThalamus()
    steps = episode.steps[:-1]  # one action short of success: the episode ends as a failure
    arm.system.begin_episode(context)
    history: list[StepRecord] = []
    for position, gold in enumerate(steps):
        perceived = thalamus.perceive(
            context, task, gold.step, gold.observation, gold.action, time=float(gold.step)
        )
        if gold.action is not None:
            history.append(StepRecord(gold.action.action, gold.action.feedback, gold.action.success))
        final = position == len(steps) - 1
        outcome = None
        if final:
            outcome = EpisodeOutcome(
                context=context,
                success=False,
                progress=0.0,
                steps=tuple(history),
                final_perception=gold.observation.perception,
                time=float(gold.step),
            )
        server.clear_requests()
        start = time.perf_counter()
        if outcome is None:
            arm.system.update(perceived.summary)
            arm.system.retrieve(perceived.queries)
        else:
            arm.system.update_and_end(perceived.summary, outcome)
            arm.system.settle()  # the consolidation it leaves running is part of the measured work
        wall = time.perf_counter() - start
        arm.system.flush()  # the agent flushes after the episode; not part of the measured step
        if not record:
            continue
        calls = Counter(MEMORY_ROLE_STORES.get(r.role or "", "other") for r in server.chat_requests)
        if outcome is None:
            update, retrieve = _last_timing(arm.system, "update"), _last_timing(arm.system, "retrieve")
            per_store = {"update": dict(update.per_store), "retrieve": dict(retrieve.per_store)}
            phases = {"update": update.wall_s, "retrieve": retrieve.wall_s}
        else:
            update, end = _last_timing(arm.system, "update"), _last_timing(arm.system, "end")
            per_store = {"update": dict(update.per_store), "end": dict(end.per_store)}
            # The two phases overlap (consolidation starts as each store finishes its update): wall times
            # of "update" (until every store took the step) and of the consolidation left after that.
            phases = {"update": update.wall_s, "end (after the step)": end.wall_s}
        compressing = calls.get("temporal", 0) > 0
        kind = "final_step" if final else ("ordinary_step" if compressing else "warm_step")
        arm.runs.append(_StepRun(kind, wall, phases, per_store, dict(calls)))


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _summarise(arm: _Arm, kind: str, delay: float) -> dict[str, Any]:
    runs = [r for r in arm.runs if r.kind == kind]
    if not runs:
        return {"n": 0}
    phases = sorted({p for r in runs for p in r.phases})
    per_store: dict[str, dict[str, float | None]] = {}
    for phase in sorted({p for r in runs for p in r.per_store}):
        names = sorted({n for r in runs for n in r.per_store.get(phase, {})})
        per_store[phase] = {
            n: _round(_median([r.per_store[phase][n] for r in runs if n in r.per_store.get(phase, {})]))
            for n in names
        }
    stores = sorted({s for r in runs for s in r.calls})
    wall = distribution([r.wall_s for r in runs], digits=4)
    median_wall = wall["median"]
    return {
        "n": len(runs),
        "wall_s": wall,
        "wall_over_L": None if median_wall is None else round(median_wall / delay, 3),
        "phase_wall_s_median": {
            p: _round(_median([r.phases[p] for r in runs if p in r.phases])) for p in phases
        },
        "per_store_s_median": per_store,
        "llm_calls_per_step_median": {s: _median([r.calls.get(s, 0) for r in runs]) for s in stores},
        "llm_calls_per_step_total_median": _median([sum(r.calls.values()) for r in runs]),
    }


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else round(a / b, 3)


def _ratios(arms: dict[str, dict[str, Any]], ops: str, delay: float) -> dict[str, Any]:
    def med(arm: str, kind: str, stat: str = "median") -> float | None:
        summary = arms.get(arm, {}).get(kind, {})
        return summary.get("wall_s", {}).get(stat) if summary.get("n") else None

    temporal_step = med("temporal_only", "ordinary_step")
    out: dict[str, Any] = {}
    for kind in ("ordinary_step", "final_step"):
        parallel, sequential = med(f"{ops}/parallel", kind), med(f"{ops}/sequential", kind)
        out[kind] = {
            "parallel_s": parallel,
            "sequential_s": sequential,
            "parallel_over_L": _ratio(parallel, delay),
            "parallel_p95_over_L": _ratio(med(f"{ops}/parallel", kind, "p95"), delay),
            "sequential_over_parallel": _ratio(sequential, parallel),
            "parallel_over_temporal_only_step": _ratio(parallel, temporal_step),
        }
    return out


def _targets(ratios: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for ops, kinds in ratios.items():
        for kind, r in kinds.items():
            checks = [
                ("parallel_over_L", TARGET_PARALLEL_OVER_L, "<="),
                ("sequential_over_parallel", TARGET_SEQUENTIAL_OVER_PARALLEL, ">="),
            ]
            if ops.startswith("paper"):
                checks = [(m, t, "<=") for (k, m), t in PAPER_TARGETS.items() if k == kind]
            for metric, target, better in checks:
                value = r[metric]
                met = None if value is None else (value <= target if better == "<=" else value >= target)
                rows.append(
                    {
                        "ops": ops,
                        "kind": kind,
                        "metric": metric,
                        "value": value,
                        "target": f"{better} {target}",
                        "met": met,
                    }
                )
    return rows


def _fallbacks(arm: _Arm) -> dict[str, int]:
    """Replies a memory operation could not use (it fell back to its deterministic variant)."""
    out: dict[str, int] = {}
    for name, store in arm.system.stores.items():
        inner: Any = store
        count = 0
        for attr in ("compressor", "decider", "creator"):
            count += int(getattr(getattr(inner, attr, None), "failures", 0) or 0)
        counters = getattr(inner, "counters", None)
        if isinstance(counters, Counter):
            count += counters.get("extract_fallbacks", 0) + counters.get("resolve_fallbacks", 0)
        out[name] = count
    return out


def _decisions(arm: _Arm) -> dict[str, dict[str, int]]:
    """Per long-term store: LLM decisions taken in the creating call (``preset``) and asked (``asked``)."""
    out: dict[str, dict[str, int]] = {}
    for name, store in arm.system.stores.items():
        counts = getattr(getattr(store, "decider", None), "counts", None)
        if isinstance(counts, dict):
            out[name] = dict(counts)
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    delay: float = args.delay
    ops_list: list[str] = args.ops
    total = args.warmup + args.repeats
    episodes = gold_episodes("alfred", "base", total)
    max_steps = args.max_steps
    if max_steps is not None:
        episodes = [GoldEpisode(e.profile, e.task, e.steps[: max_steps + 1]) for e in episodes]
    started = time.perf_counter()
    with (
        ScriptedLLMServer(memory_reply_rules(), fixed_delay_s=delay) as server,
        tempfile.TemporaryDirectory(prefix="bench-parallel-memory-") as tmp,
    ):
        plan: list[tuple[str, str, str | None]] = [("temporal_only", "temporal_only", None)]
        plan += [(f"{ops}/{mode}", mode, ops) for ops in ops_list for mode in MODES]
        arms = [_open_arm(name, mode, ops, server.base_url, Path(tmp), args) for name, mode, ops in plan]
        try:
            for index, episode in enumerate(episodes):
                for arm in arms:
                    _run_episode(arm, episode, index, server, record=index >= args.warmup)
        finally:
            for arm in arms:
                arm.system.close()
                if callable(arm.close_llm):
                    arm.close_llm()
        served_errors = server.errors
    summaries: dict[str, dict[str, Any]] = {}
    for arm in arms:
        usage = arm.accounting.snapshot()
        summaries[arm.name] = {
            "mode": arm.mode,
            "ops": arm.ops,
            "stores": list(arm.config.stores),
            "parallel": arm.config.parallel,
            "ordinary_step": _summarise(arm, "ordinary_step", delay),
            "final_step": _summarise(arm, "final_step", delay),
            "llm_client_latency_s": usage["total"]["latency_s"],
            "llm_calls_total": usage["total"]["calls"],
            "fallbacks": _fallbacks(arm),
            "decisions": _decisions(arm),
        }
    ratios = {ops: _ratios(summaries, ops, delay) for ops in ops_list}
    return {
        "benchmark": "parallel_memory",
        "quick": args.quick,
        "delay_s": delay,
        "repeats": args.repeats,
        "warmup_episodes": args.warmup,
        "episodes": [
            {"task_id": e.task.task_id, "scene": e.task.scene, "steps_measured": len(e.steps) - 1}
            for e in episodes[args.warmup :]
        ],
        "temporal_capacity": args.temporal_capacity,
        "embedder": args.embedder,
        "vector_backend": args.vector,
        "ops": {name: OPS[name] for name in ops_list},
        "measured": (
            "ordinary_step: update + retrieve of a step in which temporal compresses (temporal and spatial "
            "call the LLM); final_step: the last step as the agent runs it, MemorySystem.update_and_end "
            "(each store's update then end_episode in one fan-out task: all four stores call the LLM) and "
            "settle (waiting for the consolidation that outlives the step)"
        ),
        "arms": summaries,
        "ratios": ratios,
        "targets": _targets(ratios),
        "scripted_server_errors": served_errors,
        "seconds": round(time.perf_counter() - started, 2),
        "machine": machine_info(),
        "created": now_iso(),
    }


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--delay",
        type=float,
        default=None,
        help="seconds the LLM server waits per reply (L; default 0.2, quick 0.05)",
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="measured episodes per arm (default 5, quick 1)"
    )
    parser.add_argument(
        "--warmup", type=int, default=None, help="unrecorded episodes per arm first (default 1, quick 0)"
    )
    parser.add_argument(
        "--max-steps", type=int, default=None, help="cut each episode to this many actions (quick 4)"
    )
    parser.add_argument(
        "--ops",
        default="paper,paper_on_conflict,paper_two_calls",
        help=f"LLM-operation sets to measure, comma-separated ({', '.join(OPS)})",
    )
    parser.add_argument(
        "--temporal-capacity", type=int, default=2, help="temporal buffer size (2: compress every step)"
    )
    parser.add_argument("--embedder", choices=("minilm", "hashing"), default="minilm")
    parser.add_argument("--vector", choices=("chroma", "exact"), default="chroma")


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    args.delay = args.delay if args.delay is not None else (0.05 if args.quick else 0.2)
    args.repeats = args.repeats if args.repeats is not None else (1 if args.quick else 5)
    args.warmup = args.warmup if args.warmup is not None else (0 if args.quick else 1)
    if args.max_steps is None and args.quick:
        args.max_steps = 4
    args.ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    unknown = [o for o in args.ops if o not in OPS]
    if unknown or not args.ops:
        parser.error(f"--ops takes {', '.join(OPS)}")
    if args.repeats < 1 or args.warmup < 0 or args.delay <= 0:
        parser.error("--repeats must be >= 1, --warmup >= 0 and --delay > 0")
    if args.max_steps is not None and args.max_steps < 3:
        parser.error("--max-steps must be >= 3 (temporal compresses from step 2)")
    return run(args)


def _summary(report: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        f"{ops:9s} {kind:17s} parallel {r['parallel_s']} s = {r['parallel_over_L']} L, "
        f"sequential/parallel {r['sequential_over_parallel']}"
        for ops, kinds in report["ratios"].items()
        for kind, r in kinds.items()
    ]
    lines.append(
        f"L = {report['delay_s']} s, median of {args.repeats} episodes, {report['seconds']} s -> {args.out}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return bench_main(__doc__, DEFAULT_OUT, argv, arguments=_arguments, run=_run, summary=_summary)


if __name__ == "__main__":
    sys.exit(main())
