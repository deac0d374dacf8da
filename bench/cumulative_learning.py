"""Cumulative learning: the paper's real-robot experiment (every task attempted twice without clearing
long-term memory: 26.67% -> 46.67% SR) reproduced offline on the household simulator.

    python -m bench.cumulative_learning [--quick] [--sequences N] [--tasks-per-sequence K] [--attempts A]
                                        [--profile P ...] [--embedder minilm|hashing] [--vector chroma|exact]
                                        [--runs-dir DIR] [--out PATH] [--plot PATH]

Each run is the real harness in lifelong mode (``eval.mode=lifelong``, ``eval.lifelong_repeats=2``) on the
committed lifelong sequences (5 houses x 10 tasks per profile): attempt 1 runs a house's tasks one after
another in the persistent house, then attempt 2 restarts the house from its initial state and runs the same
tasks again; only the agent's memory carries over (a fresh memory per run). Runs, per profile:

* ``full`` (every memory store) and ``no_memory`` (no store: the control, which has nothing to learn with);
* ``env.perturb_k=0`` (nobody else touches the house) and ``env.perturb_k=2`` (two objects moved by
  "someone else" before every task but the first of an attempt; attempt 2 sees other moves than attempt 1).

Reported per run and attempt: SR (Wilson 95% CI), GC, mean steps (95% CI); and attempt 2 paired with attempt 1
task by task: the step difference (95% CI), tasks with fewer/same/more steps, failures turned into successes
and back (with McNemar's exact p), trajectories repeated action for action, and the step difference on each
house's first task alone (there attempt 1 knows nothing of the house, while later tasks of attempt 1 already
profit from its earlier ones); plus mean steps by position in the sequence. The offline symbolic planner
solves nearly every task on the first attempt, so SR has little room to move: the steps are the figure to
watch. It reads spatial memory and semantic memory's task lessons (where the house keeps things; episodic
memory only for put-back goals, which these sequences do not have), so what attempt 2 can gain here is
where things are.
``--memory`` runs the memory suite's sequences instead (``memory_v2``: recall, moved, lesson with their
setups, no extra moves).

Time: about 8 minutes for the defaults on two busy cores (~0.9 s per episode with memory, ~0.3 s without).

The plot (``--plot``, default next to the JSON as ``.svg``) is an SVG written by hand: matplotlib is not a
dependency of robomem and is not installed here, and an SVG is a small, diffable text file that browsers and
GitHub render; no extra package is needed to produce it. ``--quick`` (CI): one house, its first two tasks,
hashing embedder and exact vectors unless given; its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from bench._harness import HarnessRun, eval_command, run_harness
from bench._plots import svg_bar_chart, svg_stack
from bench._script import (
    RESULTS_DIR,
    bench_main,
    fmt_mean,
    fmt_rate,
    machine_info,
    markdown_table,
    mean_ci,
    now_iso,
    outcome_stats,
)

__all__ = ("PAPER", "VARIANTS", "main", "mcnemar_p", "overrides_for", "paired", "run", "steps_by_position")

DEFAULT_OUT = RESULTS_DIR / "cumulative_learning.json"
PROFILES = ("alfred", "habitat")
PERTURB_K = (0, 2)
MEMORY_SUITE = "memory_v2"
MEMORY_SUBSETS = ("recall", "moved", "lesson")
VARIANTS: dict[str, tuple[str, ...]] = {"full": (), "no_memory": ("agent.memory.stores=[]",)}

#: The paper's real-robot result (§IV-E): successes out of 15 tasks per attempt.
PAPER = {"attempt_1": {"successes": 4, "n": 15}, "attempt_2": {"successes": 7, "n": 15}}


def overrides_for(
    variant: str,
    profile: str,
    perturb_k: int,
    *,
    sequences: int | None,
    attempts: int,
    suite: Path | str | None,
    embedder: str,
    vector: str,
    subsets: Sequence[str] = (),
) -> list[str]:
    """The ``dotted.key=value`` overrides of one run (the same as ``robomem eval`` takes)."""
    overrides = ["env.type=household", f"env.profile={profile}", f"env.perturb_k={perturb_k}"]
    if suite is not None:
        overrides.append(f"env.suite={suite}")
    if subsets:
        overrides.append(f"eval.subsets=[{','.join(subsets)}]")
    overrides += ["eval.mode=lifelong", f"eval.lifelong_repeats={attempts}"]
    if sequences is not None:
        overrides.append(f"eval.episodes={sequences}")
    overrides += [
        f"run.name=cumulative_{variant}_{profile}_k{perturb_k}",
        "agent.type=robomem",
        f"agent.memory.embedder.type={embedder}",
        f"agent.memory.vector.type={vector}",
        *VARIANTS[variant],
    ]
    return overrides


def trimmed_suite(profile: str, tasks: int, folder: Path, memory_suite: bool = False) -> Path:
    """A copy of the committed suite whose lifelong sequences keep only their first ``tasks`` tasks."""
    from envs.household.suites import load_suite

    suite = load_suite(MEMORY_SUITE if memory_suite else "v1", profile)
    lifelong = tuple(seq.model_copy(update={"tasks": seq.tasks[:tasks]}) for seq in suite.lifelong)
    path = folder / f"{profile}_{suite.version}_first{tasks}.json"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(suite.model_copy(update={"lifelong": lifelong}).to_json(), encoding="utf-8")
    return path


def mcnemar_p(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for ``b`` and ``c`` discordant pairs (1.0 when there are none)."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / float(2**n)
    return min(1.0, 2 * tail)


def paired(run: HarnessRun, attempt: int) -> dict[str, Any]:
    """Attempt ``attempt`` against attempt 1, task by task (same sequence, same position)."""
    first: dict[tuple[str | None, int | None], tuple[int, bool, tuple[str, ...]]] = {}
    later: dict[tuple[str | None, int | None], tuple[int, bool, tuple[str, ...]]] = {}
    for record, actions in zip(run.records, run.actions, strict=True):
        key = (record.sequence_id, record.sequence_position)
        entry = (record.num_steps, record.task_success >= 1.0, actions)
        if record.attempt == 1:
            first[key] = entry
        elif record.attempt == attempt:
            later[key] = entry
    keys = [key for key in later if key in first]
    pairs = [(first[key], later[key]) for key in keys]
    deltas = [float(b[0] - a[0]) for a, b in pairs]
    # A house's first task: in attempt 1 the agent has never seen the house; in a later attempt all it knows
    # comes from the earlier attempts. Later tasks also profit from the same attempt's earlier tasks.
    opening = [d for key, d in zip(keys, deltas, strict=True) if key[1] == 1]
    gained = sum(1 for a, b in pairs if not a[1] and b[1])
    lost = sum(1 for a, b in pairs if a[1] and not b[1])
    return {
        "attempt": attempt,
        "pairs": len(pairs),
        "steps_delta": mean_ci(deltas),
        "fewer_steps": sum(d < 0 for d in deltas),
        "same_steps": sum(d == 0 for d in deltas),
        "more_steps": sum(d > 0 for d in deltas),
        "fail_to_success": gained,
        "success_to_fail": lost,
        "mcnemar_p": round(mcnemar_p(gained, lost), 4),
        "identical_trajectories": sum(1 for a, b in pairs if a[2] == b[2]),
        "first_task_steps_delta": mean_ci(opening),
    }


def steps_by_position(run: HarnessRun, attempts: int) -> dict[str, list[float | None]]:
    """Mean steps at each position of the sequences, per attempt (``{"1": [pos 1, pos 2, ...], ...}``)."""
    steps: dict[tuple[int | None, int | None], list[float]] = {}
    for r in run.records:
        steps.setdefault((r.attempt, r.sequence_position), []).append(float(r.num_steps))
    last = max((r.sequence_position or 0 for r in run.records), default=0)
    return {
        str(a): [mean_ci(steps.get((a, pos), []))["mean"] for pos in range(1, last + 1)]
        for a in range(1, attempts + 1)
    }


def run(
    *,
    quick: bool,
    sequences: int | None,
    tasks_per_sequence: int | None,
    attempts: int,
    profiles: Sequence[str],
    embedder: str,
    vector: str,
    runs_dir: Path,
    log: TextIO = sys.stderr,
    memory_suite: bool = False,
) -> dict[str, Any]:
    from robomem.eval.metrics import wilson_interval

    runs: list[dict[str, Any]] = []
    for profile in profiles:
        suite: Path | str | None = MEMORY_SUITE if memory_suite else None
        if tasks_per_sequence is not None:
            suite = trimmed_suite(profile, tasks_per_sequence, runs_dir / "suites", memory_suite)
        # The memory suite moves things itself (``moved``); random extra moves would only blur it.
        for perturb_k in (0,) if memory_suite else PERTURB_K:
            for variant in VARIANTS:
                overrides = overrides_for(
                    variant,
                    profile,
                    perturb_k,
                    sequences=sequences,
                    attempts=attempts,
                    suite=suite,
                    embedder=embedder,
                    vector=vector,
                    subsets=MEMORY_SUBSETS if memory_suite else (),
                )
                result = run_harness(overrides, runs_dir / f"{profile}_k{perturb_k}_{variant}")
                by_attempt = {
                    str(a): outcome_stats([r for r in result.records if r.attempt == a])
                    for a in range(1, attempts + 1)
                }
                n = len(result.records)
                runs.append(
                    {
                        "profile": profile,
                        "perturb_k": perturb_k,
                        "variant": variant,
                        "overrides": overrides,
                        "command": eval_command(overrides),
                        "episodes": n,
                        "sequences": len({r.sequence_id for r in result.records}),
                        "elapsed_s": round(result.elapsed_s, 2),
                        "s_per_episode": round(result.elapsed_s / n, 3) if n else None,
                        "attempts": by_attempt,
                        "paired": [paired(result, a) for a in range(2, attempts + 1)],
                        "steps_by_position": steps_by_position(result, attempts),
                    }
                )
                steps = " -> ".join(str(by_attempt[str(a)]["mean_steps"]) for a in range(1, attempts + 1))
                srs = " -> ".join(f"{100 * by_attempt[str(a)]['sr']:.1f}" for a in range(1, attempts + 1))
                print(
                    f"cumulative_learning: {profile:<8} k={perturb_k} {variant:<10} {n} episodes in "
                    f"{result.elapsed_s:6.1f} s, SR {srs}%, steps {steps}",
                    file=log,
                    flush=True,
                )
    paper = {
        key: {**value, "sr": round(value["successes"] / value["n"], 4)}
        | {"sr_ci": [round(x, 4) for x in wilson_interval(value["successes"], value["n"])]}
        for key, value in PAPER.items()
    }
    return {
        "benchmark": "cumulative_learning",
        "quick": quick,
        "mode": "lifelong",
        "attempts": attempts,
        "sequences": sequences,
        "tasks_per_sequence": tasks_per_sequence,
        "profiles": list(profiles),
        "perturb_k": [0] if memory_suite else list(PERTURB_K),
        "suite": f"{MEMORY_SUITE} ({', '.join(MEMORY_SUBSETS)})" if memory_suite else "v1",
        "variants": {name: list(v) for name, v in VARIANTS.items()},
        "embedder": embedder,
        "vector": vector,
        "planner": "symbolic (default)",
        "notes": (
            "Each attempt restarts the house from its initial state; memory persists across attempts "
            "(fresh per run). SR: Wilson 95% CI; GC: Agresti-Coull 95% CI generalized to fractions; steps: "
            "normal-approximation 95% CI of the mean. "
            "paired: attempt N minus attempt 1 on the same task. sequences/tasks_per_sequence null = all."
        ),
        "runs": runs,
        "paper_real_robot": paper,
        "plot": None,
        "machine": machine_info(),
        "created": now_iso(),
    }


def format_report(report: dict[str, Any]) -> str:
    """Per-attempt and paired tables, as Markdown."""
    rows = []
    for item in report["runs"]:
        for attempt, s in item["attempts"].items():
            rows.append(
                (
                    item["profile"],
                    item["perturb_k"],
                    item["variant"],
                    attempt,
                    s["n"],
                    fmt_rate(s["sr"], s["sr_ci"]),
                    fmt_rate(s["gc"], s["gc_ci"]),
                    fmt_mean(s["mean_steps"], s["steps_ci"], 2),
                )
            )
    attempts = markdown_table(
        (
            "profile",
            "perturb k",
            "variant",
            "attempt",
            "n",
            "SR % [95% CI]",
            "GC % [95% CI]",
            "steps [95% CI]",
        ),
        rows,
    )
    pair_rows = []
    for item in report["runs"]:
        for p in item["paired"]:
            pair_rows.append(
                (
                    item["profile"],
                    item["perturb_k"],
                    item["variant"],
                    f"{p['attempt']} vs 1",
                    p["pairs"],
                    fmt_mean(p["steps_delta"]["mean"], p["steps_delta"]["ci"], 2),
                    f"{p['fewer_steps']}/{p['same_steps']}/{p['more_steps']}",
                    f"{p['fail_to_success']}/{p['success_to_fail']}",
                    p["mcnemar_p"],
                    p["identical_trajectories"],
                    fmt_mean(p["first_task_steps_delta"]["mean"], p["first_task_steps_delta"]["ci"], 2),
                )
            )
    pairs = markdown_table(
        (
            "profile",
            "perturb k",
            "variant",
            "attempts",
            "tasks",
            "Δ steps [95% CI]",
            "fewer/same/more",
            "fail→ok / ok→fail",
            "McNemar p",
            "same actions",
            "Δ steps, 1st task of a house",
        ),
        pair_rows,
    )
    paper = report["paper_real_robot"]
    ref = ", ".join(
        f"{key.replace('_', ' ')} {fmt_rate(v['sr'], v['sr_ci'])} ({v['successes']}/{v['n']})"
        for key, v in paper.items()
    )
    head = (
        f"Cumulative learning ({report['created']}; lifelong mode, {report['attempts']} attempts; "
        f"embedder {report['embedder']}, vectors {report['vector']}; symbolic planner)"
    )
    return f"{head}\n\n{attempts}\n\n{pairs}\n\nPaper (real robot, SR % [Wilson 95% CI]): {ref}\n"


def plot(report: dict[str, Any]) -> str:
    """Mean steps and SR per attempt, with 95% CIs, one bar group per run."""
    groups = [f"{r['profile']} k={r['perturb_k']}\n{r['variant']}" for r in report["runs"]]
    attempts = [str(a) for a in range(1, report["attempts"] + 1)]
    width = max(520, 110 * len(groups) + 80)
    steps: dict[str, Sequence[tuple[float, Sequence[float] | None]]] = {
        f"attempt {a}": [
            (float(r["attempts"][a]["mean_steps"] or 0.0), r["attempts"][a]["steps_ci"])
            for r in report["runs"]
        ]
        for a in attempts
    }
    rates: dict[str, Sequence[tuple[float, Sequence[float] | None]]] = {
        f"attempt {a}": [
            (100 * r["attempts"][a]["sr"], [100 * x for x in r["attempts"][a]["sr_ci"]])
            for r in report["runs"]
        ]
        for a in attempts
    }
    return svg_stack(
        [
            (
                svg_bar_chart(
                    groups,
                    steps,
                    title="Cumulative learning: mean steps per task by attempt (95% CI)",
                    y_label="steps",
                    width=width,
                ),
                width,
                340,
            ),
            (
                svg_bar_chart(
                    groups,
                    rates,
                    title="Success rate by attempt (Wilson 95% CI)",
                    y_label="SR %",
                    y_max=100.0,
                    width=width,
                ),
                width,
                340,
            ),
        ]
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sequences", type=int, help="houses (lifelong sequences) per profile (default all 5, quick 1)"
    )
    parser.add_argument(
        "--tasks-per-sequence",
        type=int,
        help="keep only each sequence's first K tasks (default all 10, quick 2)",
    )
    parser.add_argument("--attempts", type=int, default=2, help="attempts of each sequence (default 2)")
    parser.add_argument(
        "--profile", action="append", choices=PROFILES, help="profile (repeatable; default both)"
    )
    parser.add_argument(
        "--embedder", choices=("minilm", "hashing"), help="memory embedder (default minilm, quick hashing)"
    )
    parser.add_argument(
        "--vector", choices=("chroma", "exact"), help="vector store (default chroma, quick exact)"
    )
    parser.add_argument(
        "--runs-dir",
        type=Path,
        help="keep the run folders here (<profile>_k<K>_<variant>; must be new), default a temporary folder",
    )
    parser.add_argument("--plot", type=Path, help="SVG figure (default: the JSON path with .svg)")
    parser.add_argument(
        "--memory",
        action="store_true",
        help="the memory suite's sequences (memory_v2: recall, moved, lesson, with their setups)",
    )


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    sequences = args.sequences or (1 if args.quick else None)
    tasks = args.tasks_per_sequence or (2 if args.quick else None)
    for name, value in (("--sequences", sequences), ("--tasks-per-sequence", tasks)):
        if value is not None and value < 1:
            parser.error(f"{name} must be >= 1")
    if args.attempts < 2:
        parser.error("--attempts must be >= 2 (attempt 2 is compared with attempt 1)")
    options: dict[str, Any] = {
        "quick": args.quick,
        "sequences": sequences,
        "tasks_per_sequence": tasks,
        "attempts": args.attempts,
        "profiles": tuple(dict.fromkeys(args.profile or PROFILES)),
        "embedder": args.embedder or ("hashing" if args.quick else "minilm"),
        "vector": args.vector or ("exact" if args.quick else "chroma"),
        "memory_suite": args.memory,
    }
    if args.runs_dir is not None:
        if args.runs_dir.exists():
            parser.error(f"--runs-dir {args.runs_dir} already exists")
        report = run(**options, runs_dir=args.runs_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="robomem-cumulative-") as tmp:
            report = run(**options, runs_dir=Path(tmp))
    plot_path = args.plot or args.out.with_suffix(".svg")
    plot_path.parent.mkdir(parents=True, exist_ok=True)
    plot_path.write_text(plot(report), encoding="utf-8")
    report["plot"] = str(plot_path)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(format_report(report), encoding="utf-8")
    return report


def _summary(report: dict[str, Any], args: argparse.Namespace) -> str:
    return f"{format_report(report)}\n-> {args.out} (and {args.out.with_suffix('.md')}, {report['plot']})"


def main(argv: list[str] | None = None) -> int:
    return bench_main(__doc__, DEFAULT_OUT, argv, arguments=_arguments, run=_run, summary=_summary)


if __name__ == "__main__":
    sys.exit(main())
