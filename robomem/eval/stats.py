"""Statistics over episode results shared by the benchmarks (``bench/``) and ``robomem report``: means with
95% intervals, SR/GC/steps of a group of episodes, and the paired difference of steps between two runs of
the same tasks. One implementation, so a report and a benchmark print the same numbers for the same runs.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from robomem.eval.results import EpisodeRecord

__all__ = ("fmt_mean", "fmt_rate", "markdown_table", "mean_ci", "outcome_stats", "paired_steps_delta")


def mean_ci(values: Sequence[float], z: float = 1.96, digits: int = 3) -> dict[str, Any]:
    """``{"n", "mean", "ci"}``: the mean and its normal-approximation 95% interval ``mean ± z·s/√n``, not
    clipped (for unbounded values such as step counts or differences of them). ``ci`` is ``None`` with fewer
    than two values, whose spread cannot be estimated; ``mean`` is ``None`` with none."""
    from robomem.eval.metrics import normal_interval

    n = len(values)
    if n == 0:
        return {"n": 0, "mean": None, "ci": None}
    interval = normal_interval(values, z)
    return {
        "n": n,
        "mean": round(statistics.fmean(values), digits),
        "ci": None if interval is None else [round(interval[0], digits), round(interval[1], digits)],
    }


def outcome_stats(records: Sequence[EpisodeRecord]) -> dict[str, Any]:
    """SR (Wilson 95% CI) and GC (mean 95% CI) as fractions, via :func:`robomem.eval.metrics.summarize`,
    plus the mean number of steps with its 95% CI, over a group of episodes."""
    from robomem.eval.metrics import summarize

    s = summarize(records)
    steps = mean_ci([float(r.num_steps) for r in records])
    return {
        "n": s.n,
        "successes": s.successes,
        "sr": round(s.sr, 4),
        "sr_ci": [round(x, 4) for x in s.sr_ci],
        "gc": round(s.gc, 4),
        "gc_ci": [round(x, 4) for x in s.gc_ci],
        "mean_steps": steps["mean"],
        "steps_ci": steps["ci"],
        "invalid_action_ratio": round(s.invalid_action_ratio, 4),
        "errors": s.errors,
    }


def paired_steps_delta(
    records: Sequence[EpisodeRecord], reference: Sequence[EpisodeRecord] | None
) -> dict[str, Any] | None:
    """Paired difference of steps (``records`` minus ``reference``) over the (subset, task) pairs both ran:
    :func:`mean_ci` of the differences plus how many tasks took fewer, the same and more steps. ``None``
    without a reference run."""
    if reference is None:
        return None
    theirs = {(r.subset, r.task_id): r.num_steps for r in reference}
    deltas = [
        float(r.num_steps - theirs[r.subset, r.task_id]) for r in records if (r.subset, r.task_id) in theirs
    ]
    return {
        **mean_ci(deltas),
        "fewer": sum(d < 0 for d in deltas),
        "same": sum(d == 0 for d in deltas),
        "more": sum(d > 0 for d in deltas),
    }


def fmt_rate(value: float, ci: Sequence[float]) -> str:
    """A fraction and its interval in percent: ``62.0 [48.2, 74.1]``."""
    return f"{100 * value:.1f} [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"


def fmt_mean(value: float | None, ci: Sequence[float] | None, digits: int = 1) -> str:
    """A mean and its interval: ``9.6 [8.9, 10.3]`` (no interval: the mean alone; no mean: ``-``)."""
    if value is None:
        return "-"
    if ci is None:
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table, columns padded so the text reads as a table too."""
    cells = [[str(c) for c in header], *([str(c) for c in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"

    return "\n".join([line(cells[0]), line(["-" * w for w in widths]), *(line(row) for row in cells[1:])])
