"""Evaluation: the harness, SR/GC metrics with confidence intervals, and EB-format result files."""

from robomem.eval.harness import PlannedEpisode, evaluate, format_table, plan_episodes
from robomem.eval.metrics import SubsetSummary, Summary, mean_interval, summarize, wilson_interval
from robomem.eval.results import EB_KEYS, EXTRA_KEYS, EpisodeRecord
from robomem.eval.runner import RecordingEnv

__all__ = (
    "EB_KEYS",
    "EXTRA_KEYS",
    "EpisodeRecord",
    "PlannedEpisode",
    "RecordingEnv",
    "SubsetSummary",
    "Summary",
    "evaluate",
    "format_table",
    "mean_interval",
    "plan_episodes",
    "summarize",
    "wilson_interval",
)
