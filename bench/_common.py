"""Kept for bench/step_overhead.py and bench/parallel_eval.py until their import lines move: the helpers now
live by job in :mod:`bench._script` (machine, statistics, JSON report, command line, the shared ``main``),
:mod:`bench._plots`, :mod:`bench._replies`, :mod:`bench._harness` and :mod:`bench._houses`."""

from __future__ import annotations

from bench._harness import HarnessRun, eval_command, run_harness
from bench._houses import AGENT_NODE, HouseRows, bench_house, house_rows, tag_perception, tagged, walk_through
from bench._plots import svg_bar_chart, svg_line_plot, svg_stack
from bench._replies import MEMORY_ROLE_STORES, GoldEpisode, GoldStep, gold_episodes, memory_reply_rules
from bench._script import (
    RESULTS_DIR,
    add_standard_args,
    bench_main,
    distribution,
    fmt_mean,
    fmt_rate,
    machine_info,
    markdown_table,
    mean_ci,
    now_iso,
    outcome_stats,
    parse_counts,
    percentile,
    total_ram_bytes,
    write_json,
)

__all__ = (
    "AGENT_NODE",
    "MEMORY_ROLE_STORES",
    "RESULTS_DIR",
    "GoldEpisode",
    "GoldStep",
    "HarnessRun",
    "HouseRows",
    "add_standard_args",
    "bench_house",
    "bench_main",
    "distribution",
    "eval_command",
    "fmt_mean",
    "fmt_rate",
    "gold_episodes",
    "house_rows",
    "machine_info",
    "markdown_table",
    "mean_ci",
    "memory_reply_rules",
    "now_iso",
    "outcome_stats",
    "parse_counts",
    "percentile",
    "run_harness",
    "svg_bar_chart",
    "svg_line_plot",
    "svg_stack",
    "tag_perception",
    "tagged",
    "total_ram_bytes",
    "walk_through",
    "write_json",
)
