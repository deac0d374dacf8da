"""Competence and ablations: SR and GC per subset, with 95% confidence intervals, of the full RoboMemory agent
and of its ablations on both household profiles, with the random baseline for reference (the paper's Table I
and Table II, on the offline simulator with the symbolic planner).

    python -m bench.competence [--quick] [--episodes N] [--subset S ...] [--profile P ...]
                               [--variant V ...] [--embedder minilm|hashing] [--vector chroma|exact]
                               [--runs-dir DIR] [--out PATH]

Every (variant, profile) pair is one run of the real harness (:func:`robomem.eval.harness.evaluate`) on a
config built from the defaults by ``dotted.key=value`` overrides, in a fresh run folder with a fresh memory:
episodic mode, the subsets one after another, the first ``--episodes`` tasks of each in suite order. As in
``robomem eval``, long-term memory and each house's spatial graph carry over from one episode of a run to the
next. The JSON keeps each run's overrides and the equivalent ``robomem eval`` command.

Variants (``VARIANTS``): ``full`` (every memory store, deterministic critic), ``no_spatial``,
``no_critic``, ``no_long_term`` (no episodic and no semantic memory), ``no_memory`` (no store at all),
``random`` (a uniformly random skill each step); ``no_episodic`` and ``no_semantic`` (the paper's other two
rows) run only when asked for with ``--variant``.

Defaults: 20 episodes per subset, all six subsets, both profiles, the real embedder and vector store
(MiniLM, Chroma on disk): 1440 episodes, about 15 minutes on two busy cores (0.5-1.1 s per episode with
memory, 0.3 s without). All of every subset (``--episodes 50``: 3000 episodes) takes about 40 minutes;
``--embedder hashing --vector exact`` (about 0.45 s per episode for the full agent) roughly halves that, but
is not the agent's real retrieval. ``--quick`` (CI): 2 episodes of one subset, hashing embedder and exact
vectors unless given; its numbers mean nothing.

Besides SR, GC and mean steps per subset, each variant gets the paired difference of its steps from the full
agent's on the same tasks (the number that moves when SR is at its ceiling).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from bench._harness import HarnessRun, eval_command, run_harness
from bench._plots import svg_bar_chart
from bench._script import (
    RESULTS_DIR,
    bench_main,
    fmt_mean,
    fmt_rate,
    machine_info,
    markdown_table,
    now_iso,
    outcome_stats,
)
from robomem.eval.stats import mean_ci, paired_steps_delta

__all__ = ("DEFAULT_VARIANTS", "PAPER_TABLE_II", "VARIANTS", "main", "overrides_for", "run")

DEFAULT_OUT = RESULTS_DIR / "competence.json"
PROFILES = ("alfred", "habitat")
SUBSETS = ("base", "common_sense", "complex_instruction", "spatial", "visual_appearance", "long_horizon")
#: Scored subsets of the memory suite (their ``_setup`` tasks run along and are reported apart).
MEMORY_SUBSETS = ("recall", "moved", "lesson", "return", "jammed")
MEMORY_SUITE = "memory_v4"
#: Sequences in it (9 + 13 + 9 + 13 + 13): ``--episodes`` counts sequences of all subsets together.
MEMORY_SEQUENCES = 57

#: Each variant's overrides on top of the RoboMemory agent's defaults (``random`` replaces the agent).
VARIANTS: dict[str, tuple[str, ...]] = {
    "full": (),
    "no_spatial": ("agent.memory.stores=[temporal,episodic,semantic]",),
    "no_critic": ("agent.critic=null",),
    "no_long_term": ("agent.memory.stores=[temporal,spatial]",),
    "no_memory": ("agent.memory.stores=[]",),
    "random": (),
    "no_episodic": ("agent.memory.stores=[temporal,spatial,semantic]",),
    "no_semantic": ("agent.memory.stores=[temporal,spatial,episodic]",),
}
DEFAULT_VARIANTS = ("full", "no_spatial", "no_critic", "no_long_term", "no_memory", "random")
#: On the memory suite every store's own ablation runs (random cannot do a lifelong sequence's setups).
MEMORY_VARIANTS = (
    "full",
    "no_spatial",
    "no_episodic",
    "no_semantic",
    "no_long_term",
    "no_critic",
    "no_memory",
)

#: The paper's Table II (EB-ALFRED, SR in %, Qwen2.5-VL-72B planner), for reference.
PAPER_TABLE_II: dict[str, dict[str, float]] = {
    "full": {"base": 68.0, "long_horizon": 66.0},
    "no_critic": {"base": 60.0, "long_horizon": 50.0},
    "no_spatial": {"base": 52.0, "long_horizon": 42.0},
    "no_episodic": {"base": 68.0, "long_horizon": 56.0},
    "no_semantic": {"base": 66.0, "long_horizon": 50.0},
    "no_long_term": {"base": 66.0, "long_horizon": 48.0},
}


def overrides_for(
    variant: str,
    profile: str,
    *,
    subsets: Sequence[str],
    episodes: int,
    embedder: str,
    vector: str,
    memory_suite: bool = False,
) -> list[str]:
    """The ``dotted.key=value`` overrides of one run (the same as ``robomem eval`` takes). With
    ``memory_suite``: the memory suite's lifelong sequences, ``episodes`` of them per subset."""
    mode = [f"env.suite={MEMORY_SUITE}", "eval.mode=lifelong"] if memory_suite else ["eval.mode=episodic"]
    common = [
        "env.type=household",
        f"env.profile={profile}",
        *mode,
        f"eval.episodes={episodes}",
        f"eval.subsets=[{','.join(subsets)}]",
        f"run.name=competence_{variant}_{profile}",
    ]
    if variant == "random":
        return [*common, "agent.type=random"]
    return [
        *common,
        "agent.type=robomem",
        f"agent.memory.embedder.type={embedder}",
        f"agent.memory.vector.type={vector}",
        *VARIANTS[variant],
    ]


def _subset_deltas(run: HarnessRun, full: HarnessRun | None) -> dict[str, Any] | None:
    """Per subset, the paired differences from the full agent on the same tasks (this run minus full): of
    success (a difference of rates, in [-1, 1]) and of steps, each with its 95% interval."""
    if full is None:
        return None
    theirs = {(r.subset, r.task_id): r for r in full.records}
    out: dict[str, Any] = {}
    for subset in dict.fromkeys(r.subset for r in run.records):
        pairs = [(r, theirs[key]) for r in run.records if (key := (r.subset, r.task_id)) in theirs]
        pairs = [(a, b) for a, b in pairs if a.subset == subset]
        out[subset] = {
            "sr": mean_ci([float(a.task_success - b.task_success) for a, b in pairs]),
            "steps": mean_ci([float(a.num_steps - b.num_steps) for a, b in pairs]),
        }
    return out


def _steps_delta(run: HarnessRun, full: HarnessRun | None) -> dict[str, Any] | None:
    """Paired difference of steps (this run minus the full agent's) over the tasks both ran."""
    return paired_steps_delta(run.records, None if full is None else full.records)


def run(
    *,
    quick: bool,
    episodes: int,
    subsets: Sequence[str],
    profiles: Sequence[str],
    variants: Sequence[str],
    embedder: str,
    vector: str,
    runs_dir: Path,
    log: TextIO = sys.stderr,
    memory_suite: bool = False,
) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for profile in profiles:
        full: HarnessRun | None = None
        for variant in variants:
            overrides = overrides_for(
                variant,
                profile,
                subsets=subsets,
                episodes=episodes,
                embedder=embedder,
                vector=vector,
                memory_suite=memory_suite,
            )
            result = run_harness(overrides, runs_dir / f"{profile}_{variant}")
            if variant == "full":
                full = result
            by_subset = {
                subset: outcome_stats([r for r in result.records if r.subset == subset])
                for subset in result.summary.subsets
            }
            pooled = outcome_stats(result.records)
            n = len(result.records)
            runs.append(
                {
                    "variant": variant,
                    "profile": profile,
                    "overrides": overrides,
                    "command": eval_command(overrides),
                    "episodes": n,
                    "elapsed_s": round(result.elapsed_s, 2),
                    "s_per_episode": round(result.elapsed_s / n, 3) if n else None,
                    "subsets": by_subset,
                    "all": pooled,
                    "steps_delta_vs_full": None if variant == "full" else _steps_delta(result, full),
                    "subset_deltas_vs_full": None if variant == "full" else _subset_deltas(result, full),
                }
            )
            pooled_row = [("all", pooled)] if len(by_subset) > 1 else []
            for subset, stats in [*by_subset.items(), *pooled_row]:
                rows.append({"variant": variant, "profile": profile, "subset": subset, **stats})
            print(
                f"competence: {variant:<13} {profile:<8} {n} episodes in {result.elapsed_s:6.1f} s, "
                f"SR {100 * pooled['sr']:.1f}%, steps {pooled['mean_steps']}",
                file=log,
                flush=True,
            )
    return {
        "benchmark": "competence",
        "quick": quick,
        "episodes_per_subset": episodes,
        "subsets": list(subsets),
        "profiles": list(profiles),
        "variants": {name: list(VARIANTS[name]) for name in variants},
        "embedder": embedder,
        "vector": vector,
        "planner": "symbolic (default)",
        "suite": f"{MEMORY_SUITE} (lifelong)" if memory_suite else "v1 (episodic)",
        "notes": (
            "SR: Wilson 95% CI; GC: Agresti-Coull 95% CI generalized to fractions; steps: "
            "normal-approximation 95% CI of the mean. Fractions, not %. "
            "steps_delta_vs_full: paired per task (variant minus full). Episodic mode; memory persists "
            "across the episodes of a run, fresh per run."
        ),
        "runs": runs,
        "table": rows,
        "paper_table_ii_sr_percent": PAPER_TABLE_II,
        "machine": machine_info(),
        "created": now_iso(),
    }


def format_report(report: dict[str, Any]) -> str:
    """The per-subset table and the per-run summary, as Markdown."""
    table = markdown_table(
        ("variant", "profile", "subset", "n", "SR % [95% CI]", "GC % [95% CI]", "mean steps [95% CI]"),
        [
            (
                row["variant"],
                row["profile"],
                row["subset"],
                row["n"],
                fmt_rate(row["sr"], row["sr_ci"]),
                fmt_rate(row["gc"], row["gc_ci"]),
                fmt_mean(row["mean_steps"], row["steps_ci"]),
            )
            for row in report["table"]
        ],
    )
    summary_rows = []
    for item in report["runs"]:
        delta = item["steps_delta_vs_full"]
        summary_rows.append(
            (
                item["variant"],
                item["profile"],
                item["episodes"],
                fmt_rate(item["all"]["sr"], item["all"]["sr_ci"]),
                fmt_mean(item["all"]["mean_steps"], item["all"]["steps_ci"], 2),
                "-" if delta is None else fmt_mean(delta["mean"], delta["ci"], 2),
                "-" if delta is None else f"{delta['fewer']}/{delta['same']}/{delta['more']}",
                item["s_per_episode"],
            )
        )
    summary = markdown_table(
        (
            "variant",
            "profile",
            "n",
            "SR % [95% CI]",
            "mean steps",
            "Δ steps vs full (paired)",
            "fewer/same/more",
            "s/episode",
        ),
        summary_rows,
    )
    paired = [
        (
            item["variant"],
            item["profile"],
            subset,
            d["sr"]["n"],
            "-" if d["sr"]["mean"] is None else fmt_mean(100 * d["sr"]["mean"], _pct(d["sr"]["ci"]), 1),
            "-" if d["steps"]["mean"] is None else fmt_mean(d["steps"]["mean"], d["steps"]["ci"], 2),
        )
        for item in report["runs"]
        for subset, d in (item.get("subset_deltas_vs_full") or {}).items()
        if subset in report["subsets"]
    ]
    if paired:
        summary += "\n\nPaired per task, variant minus full, on the scored subsets:\n\n" + markdown_table(
            ("variant", "profile", "subset", "n", "Δ SR points [95% CI]", "Δ steps [95% CI]"), paired
        )
    head = (
        f"Competence ({report['created']}; {report['episodes_per_subset']} episodes per subset; "
        f"embedder {report['embedder']}, vectors {report['vector']}; symbolic planner)"
    )
    return f"{head}\n\n{table}\n\n{summary}\n"


def _pct(ci: Sequence[float] | None) -> list[float] | None:
    """A difference of rates in points; its normal interval clipped to what a difference can be."""
    return None if ci is None else [100 * min(1.0, max(-1.0, x)) for x in ci]


def merge(reports: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One report from runs of the same benchmark split by profile (one process per profile)."""
    first = reports[0]
    for other in reports[1:]:
        for key in ("benchmark", "quick", "episodes_per_subset", "subsets", "embedder", "vector", "suite"):
            if other[key] != first[key]:
                raise ValueError(f"cannot merge reports that differ in {key!r}")
    return {
        **first,
        "profiles": [p for r in reports for p in r["profiles"]],
        "variants": {k: v for r in reports for k, v in r["variants"].items()},
        "runs": [run for r in reports for run in r["runs"]],
        "table": [row for r in reports for row in r["table"]],
        "created": max(r["created"] for r in reports),
    }


def sr_svg(report: dict[str, Any]) -> str:
    """SR per variant (bars, 95% CI whiskers) per profile and scored subset."""
    rows = [r for r in report["table"] if r["subset"] in report["subsets"]]
    groups = list(dict.fromkeys(f"{r['profile']}\n{r['subset']}" for r in rows))
    series: dict[str, Sequence[tuple[float, Sequence[float] | None]]] = {}
    for variant in dict.fromkeys(r["variant"] for r in rows):
        mine = {f"{r['profile']}\n{r['subset']}": r for r in rows if r["variant"] == variant}
        series[variant] = [
            (100 * mine[g]["sr"], [100 * x for x in mine[g]["sr_ci"]]) if g in mine else (0.0, None)
            for g in groups
        ]
    return svg_bar_chart(
        groups,
        series,
        title=f"SR per variant ({report['suite']}, symbolic planner, 95% CI)",
        y_label="SR %",
        y_max=100.0,
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--episodes", type=int, help="tasks per subset, from the start (default 20, quick 2)")
    parser.add_argument(
        "--memory",
        action="store_true",
        help="the memory suite (memory_v4, lifelong sequences; subsets recall, moved, lesson, return, "
        "jammed; --episodes counts sequences of all selected subsets together, default all 57; variants "
        "default to every store's ablation)",
    )
    parser.add_argument(
        "--subset",
        action="append",
        choices=SUBSETS + MEMORY_SUBSETS,
        help="subset to run (repeatable; default all, quick base)",
    )
    parser.add_argument(
        "--profile", action="append", choices=PROFILES, help="profile (repeatable; default both)"
    )
    parser.add_argument(
        "--variant",
        action="append",
        choices=tuple(VARIANTS),
        help=f"variant (repeatable; default {', '.join(DEFAULT_VARIANTS)})",
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
        help="keep the run folders here (<profile>_<variant>; must be new), default a temporary folder",
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="do not run: merge these reports (one per profile) into --out, with its .md and .svg",
    )


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    if args.merge:
        report = merge([json.loads(p.read_text(encoding="utf-8")) for p in args.merge])
        _write(report, args.out, svg=report["suite"].startswith("memory"))
        return report
    episodes = args.episodes or (2 if args.quick else 20 if not args.memory else MEMORY_SEQUENCES)
    if episodes < 1:
        parser.error("--episodes must be >= 1")
    variants = tuple(dict.fromkeys(args.variant or (MEMORY_VARIANTS if args.memory else DEFAULT_VARIANTS)))
    if "full" in variants:  # first, so the other variants can be paired with it
        variants = ("full", *(v for v in variants if v != "full"))
    options: dict[str, Any] = {
        "quick": args.quick,
        "episodes": episodes,
        "subsets": tuple(
            dict.fromkeys(
                args.subset or (MEMORY_SUBSETS if args.memory else ("base",) if args.quick else SUBSETS)
            )
        ),
        "memory_suite": args.memory,
        "profiles": tuple(dict.fromkeys(args.profile or PROFILES)),
        "variants": variants,
        "embedder": args.embedder or ("hashing" if args.quick else "minilm"),
        "vector": args.vector or ("exact" if args.quick else "chroma"),
    }
    if args.runs_dir is not None:
        if args.runs_dir.exists():
            parser.error(f"--runs-dir {args.runs_dir} already exists")
        report = run(**options, runs_dir=args.runs_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="robomem-competence-") as tmp:
            report = run(**options, runs_dir=Path(tmp))
    _write(report, args.out, svg=args.memory)
    return report


def _write(report: dict[str, Any], out: Path, *, svg: bool) -> None:
    """The report's Markdown and (memory suite) SVG beside the JSON :func:`bench_main` writes."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(format_report(report), encoding="utf-8")
    if svg:
        out.with_suffix(".svg").write_text(sr_svg(report), encoding="utf-8")


def _summary(report: dict[str, Any], args: argparse.Namespace) -> str:
    return f"{format_report(report)}\n-> {args.out} (and {args.out.with_suffix('.md')})"


def main(argv: list[str] | None = None) -> int:
    return bench_main(__doc__, DEFAULT_OUT, argv, arguments=_arguments, run=_run, summary=_summary)


if __name__ == "__main__":
    sys.exit(main())
