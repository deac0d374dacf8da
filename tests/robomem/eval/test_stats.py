"""The statistics shared by the benchmarks and ``robomem report``."""

from __future__ import annotations

import math

import pytest

from robomem.eval.results import EpisodeRecord
from robomem.eval.stats import fmt_mean, mean_ci, paired_steps_delta


def record(subset: str, task: str, steps: int) -> EpisodeRecord:
    return EpisodeRecord(
        instruction="x", task_success=1.0, task_progress=1.0, num_steps=steps, planner_steps=steps,
        planner_output_error=0, num_invalid_actions=0, num_invalid_action_ratio=0.0,
        episode_elapsed_seconds=0.1, empty_plan=0, task_id=task, subset=subset, task_type="t", scene="s",
        gold_plan_length=None,
    )  # fmt: skip


def test_paired_steps_delta_pairs_by_subset_and_task() -> None:
    full = [record("base", "a", 10), record("base", "b", 8), record("spatial", "a", 5)]
    ablation = [
        record("base", "a", 12),
        record("base", "b", 8),
        record("spatial", "a", 4),
        record("x", "z", 9),
    ]
    delta = paired_steps_delta(ablation, full)
    assert delta is not None
    # Differences 2, 0, -1 (the unpaired task is left out): mean 1/3, s = sqrt(7/3).
    half = 1.96 * math.sqrt(7 / 3) / math.sqrt(3)
    assert delta["n"] == 3 and delta["mean"] == pytest.approx(1 / 3, abs=1e-3)
    assert delta["ci"] == pytest.approx([1 / 3 - half, 1 / 3 + half], abs=1e-3)
    assert (delta["fewer"], delta["same"], delta["more"]) == (1, 1, 1)
    assert paired_steps_delta(ablation, None) is None


def test_mean_ci_edges() -> None:
    assert mean_ci([]) == {"n": 0, "mean": None, "ci": None}
    assert mean_ci([3.0]) == {"n": 1, "mean": 3.0, "ci": None}
    assert fmt_mean(None, None) == "-" and fmt_mean(2.0, [1.0, 3.0]) == "2.0 [1.0, 3.0]"
