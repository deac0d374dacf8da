"""Evaluation at scale: wall time of ``robomem eval`` with 1..N parallel workers (robomem/eval/parallel.py).

Two workloads:

* **LLM-bound**: 60 household episodes (base and spatial, 30 each) of the RoboMemory agent with the LLM
  planner (plans of ``--plan-len`` actions from the oracle's solution, bench/llm_replies.py), against the
  scripted OpenAI-compatible server on 127.0.0.1 answering every call after a fixed latency L (0.5 s), with
  1, 4, 8 and 16 workers (``--executor``, threads by default) and on a 2-worker Dask LocalCluster (127.0.0.1,
  processes, no dashboard; skipped without the dask extra). Critic and thalamus are the deterministic ones and
  memory uses hashed embeddings and the exact store, so the model's latency dominates, as it does in a real
  evaluation; every configuration runs the same episodes and must reach the same SR.
* **Offline demo**: ``robomem eval --config configs/demo.yaml`` (300 episodes, CPU-bound) as a user runs it,
  start-up included, with 1 and with ``--demo-workers`` (2) worker processes, taking turns ``--demo-repeats``
  times; each run also records the CPU time of all its processes (workers included).

Wall times are medians over ``--repeats``; speed-up is the 1-worker median over the N-worker median (the demo
also gives each 1-then-N pair's own speed-up). The machine's load average is recorded before and after each
measurement: on a shared machine other processes take cores, and the figures say so rather than hide it.
CPU time says what a run costs whatever the load: a 2-worker run can only be twice as fast when it gets two
cores.

    python -m bench.parallel_eval                 # results/bench/parallel_eval.json
    python -m bench.parallel_eval --no-llm-bound --demo-repeats 5   # the offline demo alone
    python -m bench.parallel_eval --quick         # CI size, numbers not meaningful
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._replies import gold_episodes
from bench._script import RESULTS_DIR, bench_main, parse_counts
from bench.llm_replies import agent_rules
from robomem.testing.scripted_llm import ScriptedLLMServer

DEFAULT_OUT = RESULTS_DIR / "parallel_eval.json"
ROOT = Path(__file__).resolve().parents[1]
SUBSETS = ("base", "spatial")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _llm_overrides(args: argparse.Namespace, run_dir: Path, base_url: str) -> list[str]:
    return [
        "agent.type=robomem",
        "agent.planner.type=llm",
        f"agent.llm.base_url={base_url}",
        "agent.llm.model=scripted",
        "agent.llm.max_retries=0",
        "agent.memory.embedder.type=hashing",
        "agent.memory.vector.type=exact",
        f"eval.subsets={json.dumps(list(SUBSETS))}",
        f"eval.episodes={args.episodes // len(SUBSETS)}",
        f"run.dir={json.dumps(str(run_dir))}",
    ]


def _llm_run(
    args: argparse.Namespace, server: ScriptedLLMServer, workers: int, executor: str
) -> dict[str, Any]:
    from envs.registry import ENVS
    from robomem.agents import AGENTS
    from robomem.config import load_config
    from robomem.eval.harness import evaluate

    with tempfile.TemporaryDirectory(prefix="bench-parallel-") as tmp:
        run_dir = Path(tmp) / "run"
        extra = [f"eval.workers={workers}", f"eval.executor={executor}"]
        cfg = load_config(None, [*_llm_overrides(args, run_dir, server.base_url), *extra])
        calls = len(server.chat_requests)
        load = _load()
        started = time.perf_counter()
        with ENVS.build(cfg.env) as env:
            summary = evaluate(cfg, env, AGENTS.build(cfg.agent), run_dir, progress=False)
        wall = time.perf_counter() - started
    return {
        "wall_s": round(wall, 2),
        "episodes": summary.overall.n,
        "sr": round(summary.overall.sr, 4),
        "errors": summary.overall.errors,
        "llm_calls": len(server.chat_requests) - calls,
        "load_before": load,
        "load_after": _load(),
    }


def _summarise(runs: list[dict[str, Any]], baseline: float | None, workers: int) -> dict[str, Any]:
    median = statistics.median(r["wall_s"] for r in runs)
    out: dict[str, Any] = {"workers": workers, "median_wall_s": round(median, 2), "runs": runs}
    if baseline is not None:
        out["speedup"] = round(baseline / median, 2)
        out["efficiency"] = round(baseline / median / workers, 3)  # speed-up over N: the target is >= 0.7
    return out


def llm_bound(args: argparse.Namespace) -> dict[str, Any]:
    from envs.household.config import HouseholdConfig
    from envs.household.env import HouseholdEnv

    env = HouseholdEnv(HouseholdConfig(profile="alfred"))
    tasks = [t for s in SUBSETS for t in env.tasks(s)[: args.episodes // len(SUBSETS)]]
    env.close()
    gold = {
        (e.task.instruction, e.skills): e.actions for e in gold_episodes("alfred", "base", 0, tasks=tasks)
    }
    report: dict[str, Any] = {"configurations": []}
    with ScriptedLLMServer(agent_rules(gold, args.plan_len), fixed_delay_s=args.latency) as server:
        # Untimed: the first run in a process pays robomem's imports, which would flatter every later one.
        warm = argparse.Namespace(**{**vars(args), "episodes": len(SUBSETS)})
        _llm_run(warm, server, 1, "threads")
        baseline = None
        for workers in args.workers:
            runs = [_llm_run(args, server, workers, args.executor) for _ in range(args.repeats)]
            row = _summarise(runs, baseline, workers)
            baseline = baseline if baseline is not None else row["median_wall_s"]
            row["executor"] = args.executor if workers > 1 else "sequential"
            report["configurations"].append(row)
            print(
                f"llm-bound {row['executor']:>10s} x{workers:<2d} {row['median_wall_s']:7.1f} s  "
                f"speed-up {row.get('speedup', 1.0)}",
                file=sys.stderr,
            )
        if args.dask and importlib.util.find_spec("distributed") is not None:
            runs = [_llm_run(args, server, 2, "dask") for _ in range(args.repeats)]
            row = _summarise(runs, baseline, 2)
            row["executor"] = "dask LocalCluster (2 processes, 127.0.0.1)"
            report["configurations"].append(row)
            print(
                f"llm-bound dask x2 {row['median_wall_s']:7.1f} s  speed-up {row['speedup']}", file=sys.stderr
            )
        elif args.dask:
            report["dask"] = "skipped: the dask extra is not installed"
    return report


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _demo_run(args: argparse.Namespace, workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        command = [sys.executable, "-m", "robomem", "eval", "--config", str(ROOT / "configs" / "demo.yaml")]
        command += ["--no-progress", "--run-dir", str(Path(tmp) / "run"), "--workers", str(workers)]
        if args.demo_episodes is not None:
            command += ["--episodes", str(args.demo_episodes)]
        load = _load()
        cpu = _children_cpu_s()
        started = time.perf_counter()
        done = subprocess.run(command, cwd=tmp, capture_output=True, text=True, timeout=3600)  # noqa: S603
        wall = time.perf_counter() - started
        # Every process of the run: robomem waits for its worker processes, so their CPU counts too.
        cpu = _children_cpu_s() - cpu
        if done.returncode != 0:
            raise RuntimeError(f"demo run failed: {done.stderr[-2000:]}")
        summary = json.loads((Path(tmp) / "run" / "summary.json").read_text(encoding="utf-8"))
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "episodes": summary["overall"]["n"],
        "sr": round(summary["overall"]["sr"], 4),
        "load_before": load,
        "load_after": _load(),
    }


def offline_demo(args: argparse.Namespace) -> dict[str, Any]:
    """1 and ``--demo-workers`` workers taking turns, repeat by repeat: a change in the machine's load then
    hits both alike, and each pair gives a speed-up of its own."""
    counts = (1, args.demo_workers)
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in counts}
    for _ in range(args.demo_repeats):
        for workers in counts:
            runs[workers].append(_demo_run(args, workers))
            last = runs[workers][-1]
            print(
                f"offline demo x{workers} {last['wall_s']:7.1f} s (CPU {last['cpu_s']:.1f} s, load "
                f"{last['load_before'][0]:.1f} -> {last['load_after'][0]:.1f})",
                file=sys.stderr,
            )
    baseline = statistics.median(r["wall_s"] for r in runs[1])
    rows = [_summarise(runs[n], None if n == 1 else baseline, n) for n in counts]
    for row in rows:
        row["median_cpu_s"] = round(statistics.median(r["cpu_s"] for r in row["runs"]), 2)
    pairs = [
        round(one["wall_s"] / many["wall_s"], 2) for one, many in zip(runs[1], runs[counts[1]], strict=True)
    ]
    return {
        "command": "robomem eval --config configs/demo.yaml --workers N",
        "configurations": rows,
        "pair_speedups": pairs,
        "median_pair_speedup": round(statistics.median(pairs), 2),
    }


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--latency", type=float, default=None, help="L: seconds per LLM reply (default 0.5)")
    parser.add_argument("--episodes", type=int, default=None, help="LLM-bound episodes (default 60, quick 4)")
    parser.add_argument(
        "--workers",
        type=lambda t: parse_counts(t, "worker counts"),
        default=None,
        help="comma-separated worker counts, 1 first (default 1,4,8,16; quick 1,2)",
    )
    parser.add_argument("--executor", choices=("threads", "processes"), default="threads")
    parser.add_argument("--plan-len", type=int, default=2, help="actions per scripted plan (default 2)")
    parser.add_argument(
        "--repeats", type=int, default=1, help="runs per configuration; the median is reported"
    )
    parser.add_argument("--no-dask", dest="dask", action="store_false", help="skip the Dask LocalCluster run")
    parser.add_argument(
        "--no-llm-bound", dest="llm_bound", action="store_false", help="skip the LLM-bound workload"
    )
    parser.add_argument("--no-demo", dest="demo", action="store_false", help="skip the offline demo")
    parser.add_argument("--demo-workers", type=int, default=2)
    parser.add_argument(
        "--demo-repeats", type=int, default=1, help="pairs of demo runs (1 worker, then N), medians reported"
    )
    parser.add_argument(
        "--demo-episodes", type=int, default=None, help="--episodes of the demo (default all)"
    )


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    args.latency = args.latency if args.latency is not None else (0.05 if args.quick else 0.5)
    args.episodes = args.episodes if args.episodes is not None else (4 if args.quick else 60)
    args.workers = args.workers or ([1, 2] if args.quick else [1, 4, 8, 16])
    if args.quick and args.demo_episodes is None:
        args.demo_episodes = 1
    if args.workers[0] != 1 or args.episodes < len(SUBSETS) or args.repeats < 1:
        parser.error("--workers must start with 1; --episodes >= 2; --repeats >= 1")
    if args.demo_workers < 2 or args.demo_repeats < 1:
        parser.error("--demo-workers must be >= 2 and --demo-repeats >= 1")
    report: dict[str, Any] = {
        "benchmark": "parallel_eval",
        "quick": args.quick,
        "latency_s": args.latency,
        "episodes": args.episodes,
        "plan_len": args.plan_len,
        "repeats": args.repeats,
        "demo_repeats": args.demo_repeats,
    }
    if args.llm_bound:
        report["llm_bound"] = llm_bound(args)
    if args.demo:
        report["offline_demo"] = offline_demo(args)
    return report


def _summary(report: dict[str, Any], args: argparse.Namespace) -> str:
    parts = []
    for row in report.get("llm_bound", {}).get("configurations", []):
        if "speedup" in row:
            parts.append(f"{row['executor']} x{row['workers']} {row['speedup']}x")
    if "offline_demo" in report:
        demo = report["offline_demo"]
        one, many = demo["configurations"]
        parts.append(
            f"demo {one['median_wall_s']} s -> {many['median_wall_s']} s with {many['workers']} workers "
            f"({many['speedup']}x; pairs {demo['pair_speedups']})"
        )
    return f"parallel_eval: {'; '.join(parts) or 'nothing run'} -> {args.out}"


def main(argv: list[str] | None = None) -> int:
    return bench_main(__doc__, DEFAULT_OUT, argv, arguments=_arguments, run=_run, summary=_summary)


if __name__ == "__main__":
    sys.exit(main())
