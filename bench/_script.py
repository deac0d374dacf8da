"""What every benchmark script uses: the machine description, robust statistics, the JSON report and the
standard command line, and :func:`bench_main`, the one ``main()`` of the scripts.

Every script writes one JSON report (``results/bench/<name>.json`` by default) holding ``machine``
(:func:`machine_info`) and ``created``; figures are medians (and p95 where stated) over repeats.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

# The statistics live in the core, so `robomem report` prints the same numbers as the benchmarks.
from robomem.eval.stats import fmt_mean, fmt_rate, markdown_table, mean_ci, outcome_stats

__all__ = (
    "RESULTS_DIR",
    "add_standard_args",
    "bench_main",
    "distribution",
    "fmt_mean",
    "fmt_rate",
    "machine_info",
    "markdown_table",
    "mean_ci",
    "now_iso",
    "outcome_stats",
    "parse_counts",
    "percentile",
    "total_ram_bytes",
    "write_json",
)

RESULTS_DIR = Path("results/bench")


def total_ram_bytes() -> int | None:
    """Physical memory in bytes (POSIX ``sysconf``), or ``None`` where unknown."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine_info() -> dict[str, Any]:
    """Cores, RAM, CPU model, Python, numpy, platform, load average and the date: enough to know which
    machine a figure came from (figures are only comparable within one machine and one run)."""
    ram = total_ram_bytes()
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return {
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(affinity) if affinity is not None else None,
        "cpu_model": _cpu_model(),
        "ram_gb": None if ram is None else round(ram / 2**30, 2),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "date": now_iso(),
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation (numpy's default); NaN for no values."""
    if not values:
        return math.nan
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def distribution(values: Sequence[float], *, scale: float = 1.0, digits: int = 3) -> dict[str, Any]:
    """``{"n", "median", "p95", "mean", "min", "max"}`` of ``values`` times ``scale`` (e.g. 1e3 for ms),
    rounded to ``digits``; the numbers are ``None`` when there are no values."""
    if not values:
        return {"n": 0, "median": None, "p95": None, "mean": None, "min": None, "max": None}
    scaled = [v * scale for v in values]
    return {
        "n": len(scaled),
        "median": round(statistics.median(scaled), digits),
        "p95": round(percentile(scaled, 95), digits),
        "mean": round(statistics.fmean(scaled), digits),
        "min": round(min(scaled), digits),
        "max": round(max(scaled), digits),
    }


def add_standard_args(parser: argparse.ArgumentParser, default_out: Path) -> None:
    """``--out`` and ``--quick``, as every benchmark script takes them."""
    parser.add_argument("--out", type=Path, default=default_out, help=f"JSON output (default {default_out})")
    parser.add_argument(
        "--quick", action="store_true", help="a tiny CI-sized run (numbers are not meaningful)"
    )


def parse_counts(text: str, what: str) -> list[int]:
    """``"1e3,1e4,1e5"`` → ``[1000, 10000, 100000]`` (in the given order), for ``argparse`` types."""
    try:
        return [int(float(part)) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of {what}: {text!r}") from None


def write_json(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def bench_main(
    doc: str | None,
    default_out: Path,
    argv: Sequence[str] | None,
    *,
    arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace, argparse.ArgumentParser], dict[str, Any]],
    summary: Callable[[dict[str, Any], argparse.Namespace], str],
) -> int:
    """A benchmark script's ``main``: the standard arguments (``--out``, ``--quick``) plus the script's own
    (``arguments``), ``run`` (which may reject a combination with ``parser.error``, exit 2), the report's
    envelope (``machine``, ``created``, unless ``run`` set them where it wanted them), the JSON report at
    ``--out``, and the one-line ``summary`` printed."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    add_standard_args(parser, default_out)
    arguments(parser)
    args = parser.parse_args(argv)
    report = run(args, parser)
    report.setdefault("machine", machine_info())
    report.setdefault("created", now_iso())
    write_json(report, args.out)
    print(summary(report, args))
    return 0
