from __future__ import annotations

import pytest

from robomem.eval.metrics import mean_interval, summarize, wilson_interval
from robomem.eval.results import EpisodeRecord

# Wilson score interval, z = 1.96, values worked out by hand from
#   center = (p + z²/2n) / (1 + z²/n),  half = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)
# e.g. 6/50: center = 0.158416 / 1.076832 = 0.147112, half = 0.097926 / 1.076832 = 0.090939.
WILSON_CASES = [
    (6, 50, 0.05617, 0.23805),
    (0, 10, 0.0, 0.27754),
    (10, 10, 0.72246, 1.0),
    (5, 10, 0.23659, 0.76341),
    (1, 1, 0.20654, 1.0),
    (0, 1, 0.0, 0.79346),
]


@pytest.mark.parametrize(("successes", "n", "low", "high"), WILSON_CASES)
def test_wilson_interval_matches_hand_computed(successes: int, n: int, low: float, high: float) -> None:
    assert wilson_interval(successes, n) == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_without_episodes_is_uninformative() -> None:
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("successes", "n"), [(-1, 3), (4, 3), (0, -1)])
def test_wilson_interval_rejects_impossible_counts(successes: int, n: int) -> None:
    with pytest.raises(ValueError, match="successes <= n"):
        wilson_interval(successes, n)


def test_mean_interval_is_agresti_coull_for_zero_one_progress() -> None:
    # 7 of 20: ñ = 20 + 1.96², p̃ = (7 + 1.96²/2) / ñ, p̃ ± 1.96·sqrt(p̃(1 - p̃)/ñ).
    assert mean_interval([1.0] * 7 + [0.0] * 13) == pytest.approx((0.179924, 0.568415), abs=1e-6)


def test_mean_interval_matches_hand_computed() -> None:
    # ñ = 4 + 3.8416 = 7.8416, mean (2 + 1.9208) / ñ = 0.5, spread 0.2 + 1.9208 * 0.5 = 1.1604,
    # half = 1.96 * sqrt(1.1604) / ñ = 0.269250.
    assert mean_interval([0.2, 0.4, 0.6, 0.8]) == pytest.approx((0.230750, 0.769250), abs=1e-6)


def test_identical_progress_still_has_an_interval_that_narrows_with_n() -> None:
    small, large = mean_interval([0.4] * 3), mean_interval([0.4] * 300)
    assert small[0] < 0.4 < small[1] and large[0] < 0.4 < large[1]
    assert large[1] - large[0] < (small[1] - small[0]) / 5
    everything = mean_interval([1.0] * 30)
    assert everything[1] == 1.0 and 0.85 < everything[0] < 0.9  # Wilson: 0.886


def test_mean_interval_stays_in_the_unit_range() -> None:
    low, high = mean_interval([0.0] * 5)
    assert low == 0.0 and 0.0 < high < 0.5
    assert mean_interval([1.2, -0.1]) == mean_interval([1.0, 0.0])  # out-of-range progress is clipped


def test_mean_interval_without_episodes_is_uninformative() -> None:
    assert mean_interval([]) == pytest.approx((0.0, 1.0))


def _record(
    success: float, progress: float, steps: int, invalid: int, error: str | None = None
) -> EpisodeRecord:
    return EpisodeRecord(
        instruction="x",
        task_success=success,
        task_progress=progress,
        num_steps=steps,
        planner_steps=1,
        planner_output_error=0,
        num_invalid_actions=invalid,
        num_invalid_action_ratio=invalid / steps if steps else 0.0,
        episode_elapsed_seconds=0.0,
        empty_plan=False,
        task_id="t",
        subset="base",
        task_type="simple",
        scene="s",
        gold_plan_length=None,
        error=error,
    )


def test_summarize() -> None:
    records = [
        _record(1.0, 1.0, 4, 0),
        _record(0.0, 0.5, 10, 5),
        _record(0.0, 0.0, 2, 1, error="EnvTimeoutError: slow"),
        _record(1.0, 1.0, 8, 2),
    ]
    s = summarize(records)
    assert (s.n, s.successes, s.errors) == (4, 2, 1)
    assert s.sr == 0.5
    assert s.sr_ci == pytest.approx(wilson_interval(2, 4))
    assert s.gc == pytest.approx(0.625)
    assert s.gc_ci == pytest.approx(mean_interval([1.0, 0.5, 0.0, 1.0]))
    assert s.mean_steps == pytest.approx(6.0)
    assert s.invalid_action_ratio == pytest.approx((0 + 0.5 + 0.5 + 0.25) / 4)


def test_summarize_nothing() -> None:
    s = summarize([])
    assert (s.n, s.sr, s.gc, s.sr_ci, s.gc_ci, s.mean_steps) == (0, 0.0, 0.0, (0.0, 1.0), (0.0, 1.0), 0.0)


def test_partial_success_is_not_a_success() -> None:
    assert summarize([_record(0.99, 0.99, 1, 0)]).successes == 0
