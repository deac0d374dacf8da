"""The numbers a report shows, computed once for both the HTML page and the Markdown summary.

Every statistic comes from :mod:`robomem.eval.stats`, the code ``bench.competence`` uses: a report on the
full agent and its ablations prints the paired step differences the benchmark prints for the same runs.
The first run is the reference the others are compared with (put the full agent first).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from robomem.eval.results import EpisodeRecord
from robomem.eval.stats import mean_ci, outcome_stats, paired_steps_delta
from robomem.report.load import Episode, RunData, usage_from_traces

__all__ = ("build_model", "worst_first")


def worst_first(episodes: Sequence[Episode]) -> list[Episode]:
    """Failures before successes, less progress first, then more steps, then run order."""
    return sorted(
        episodes,
        key=lambda e: (e.record.task_success, e.record.task_progress, -e.record.num_steps),
    )


def _paired(
    records: Sequence[EpisodeRecord], reference: Sequence[EpisodeRecord], value: str
) -> dict[str, Any]:
    """Mean difference (with its 95% CI) of ``value`` on the tasks both runs ran, this run minus the
    reference."""
    theirs = {(r.subset, r.task_id): float(getattr(r, value)) for r in reference}
    deltas = [
        float(getattr(r, value)) - theirs[r.subset, r.task_id]
        for r in records
        if (r.subset, r.task_id) in theirs
    ]
    return mean_ci(deltas, digits=4)


def _comparison(run: RunData, reference: RunData) -> dict[str, Any]:
    groups: list[tuple[str, list[EpisodeRecord], list[EpisodeRecord]]] = [
        ("all", run.records, reference.records)
    ]
    for subset in run.subsets:
        groups.append(
            (
                subset,
                [r for r in run.records if r.subset == subset],
                [r for r in reference.records if r.subset == subset],
            )
        )
    return {
        name: {
            "steps": paired_steps_delta(mine, theirs),
            "success": _paired(mine, theirs, "task_success"),
            "progress": _paired(mine, theirs, "task_progress"),
        }
        for name, mine, theirs in groups
    }


def _episode(episode: Episode) -> dict[str, Any]:
    r = episode.record
    return {
        "id": f"{episode.subset}/{episode.n}",
        "subset": episode.subset,
        "n": episode.n,
        "task_id": r.task_id,
        "instruction": r.instruction,
        "success": r.task_success,
        "progress": r.task_progress,
        "steps": r.num_steps,
        "invalid": r.num_invalid_actions,
        "seconds": r.episode_elapsed_seconds,
        "error": r.error,
        "step_log": episode.steps,
        "trace": episode.trace,
    }


def build_model(runs: Sequence[RunData]) -> dict[str, Any]:
    """JSON-ready: per run its overall and per-subset outcomes, LLM usage and episodes (worst first), and
    for every run after the first its paired differences from the first."""
    reference = runs[0]
    subsets = list(dict.fromkeys(s for run in runs for s in run.subsets))
    out: list[dict[str, Any]] = []
    for i, run in enumerate(runs):
        usage = run.usage or usage_from_traces(run.episodes)
        out.append(
            {
                "label": run.label,
                "path": str(run.path),
                "overall": outcome_stats(run.records),
                "subsets": {s: outcome_stats([r for r in run.records if r.subset == s]) for s in run.subsets},
                "usage": {role: {k: round(v, 3) for k, v in stats.items()} for role, stats in usage.items()},
                "usage_source": "llm_usage.json" if run.usage else ("trace" if usage else None),
                "traced": sum(1 for e in run.episodes if e.trace),
                "vs_reference": None if i == 0 else _comparison(run, reference),
                "episodes": [_episode(e) for e in worst_first(run.episodes)],
                "problems": run.problems,
            }
        )
    return {"reference": reference.label, "subsets": subsets, "runs": out}
