"""Success rate (SR) and goal-condition progress (GC) with 95% confidence intervals.

* SR uses the Wilson score interval: unlike the normal approximation it stays inside [0, 1] and is not
  degenerate at 0% or 100% success, which small subsets hit often.
* GC is a mean of per-episode fractions in [0, 1]. Its interval is Agresti–Coull's, generalized from 0/1
  outcomes to fractions: add ``z²/2`` pseudo-episodes at 0 and as many at 1, then take the normal interval
  of the mean of that augmented sample (clipped to [0, 1]). For 0/1 progress it *is* the Agresti–Coull
  interval (close to Wilson's); unlike the plain ``mean ± z·s/√n`` it does not collapse to a point when
  every episode has the same progress, and it widens towards [0, 1] as the sample shrinks to nothing.
* With no episodes both intervals are the uninformative [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from robomem.eval.results import EpisodeRecord

__all__ = (
    "Z_95",
    "SubsetSummary",
    "Summary",
    "mean_interval",
    "normal_interval",
    "summarize",
    "wilson_interval",
)

#: Two-sided 95% normal quantile, rounded as in most papers' tables.
Z_95 = 1.96


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for ``successes`` out of ``n`` Bernoulli trials."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got {successes} of {n}")
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denominator = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, center - half), min(1.0, center + half)


def normal_interval(values: Sequence[float], z: float = Z_95) -> tuple[float, float] | None:
    """``mean ± z·s/√n`` (sample standard deviation), unclipped; ``None`` with fewer than two values, whose
    spread cannot be estimated."""
    n = len(values)
    if n < 2:
        return None
    mean = sum(values) / n
    variance = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = z * math.sqrt(variance / n)
    return mean - half, mean + half


def mean_interval(values: Sequence[float], z: float = Z_95) -> tuple[float, float]:
    """95% interval for the mean of values in [0, 1]: generalized Agresti–Coull (see the module notes)."""
    values = [min(1.0, max(0.0, v)) for v in values]  # a summary never fails a finished run
    pseudo = z * z / 2  # pseudo-episodes at 0 and at 1 each
    n = len(values) + 2 * pseudo
    mean = (sum(values) + pseudo) / n
    spread = sum((v - mean) ** 2 for v in values) + pseudo * (mean**2 + (1 - mean) ** 2)
    half = z * math.sqrt(spread / n / n)
    return max(0.0, mean - half), min(1.0, mean + half)


class SubsetSummary(BaseModel):
    """Aggregate of a group of episodes (a subset, an attempt, or all of them). Rates are fractions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    n: int
    successes: int
    sr: float
    sr_ci: tuple[float, float]
    gc: float
    gc_ci: tuple[float, float]
    mean_steps: float
    #: Mean of the per-episode ``num_invalid_action_ratio`` (EmbodiedBench averages per episode too).
    invalid_action_ratio: float
    #: Episodes that ended in an environment error (counted as failures).
    errors: int


class Summary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["episodic", "lifelong"]
    subsets: dict[str, SubsetSummary]
    overall: SubsetSummary
    #: Lifelong mode only: all subsets pooled per attempt (1, 2, ...), to show learning across attempts.
    by_attempt: dict[int, SubsetSummary] = Field(default_factory=dict)


def summarize(records: Sequence[EpisodeRecord]) -> SubsetSummary:
    n = len(records)
    # EmbodiedBench stores success as 0.0 / 1.0; anything short of full success is a failure.
    successes = sum(1 for r in records if r.task_success >= 1.0)
    progress = [r.task_progress for r in records]
    return SubsetSummary(
        n=n,
        successes=successes,
        sr=successes / n if n else 0.0,
        sr_ci=wilson_interval(successes, n),
        gc=sum(progress) / n if n else 0.0,
        gc_ci=mean_interval(progress),
        mean_steps=sum(r.num_steps for r in records) / n if n else 0.0,
        invalid_action_ratio=sum(r.num_invalid_action_ratio for r in records) / n if n else 0.0,
        errors=sum(1 for r in records if r.error is not None),
    )
