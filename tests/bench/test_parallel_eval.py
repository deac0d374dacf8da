"""`bench/parallel_eval.py` at CI size: the same LLM-bound episodes sequentially and with 2 worker threads
against the scripted server, and the offline demo with 1 and 2 worker processes (shape only; no timing)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import parallel_eval


def test_quick_run_reports_every_configuration_on_the_same_episodes(tmp_path: Path) -> None:
    out = tmp_path / "parallel_eval.json"
    assert parallel_eval.main(["--quick", "--no-dask", "--out", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["benchmark"] == "parallel_eval" and report["quick"] is True
    rows = report["llm_bound"]["configurations"]
    assert [(r["workers"], r["executor"]) for r in rows] == [(1, "sequential"), (2, "threads")]
    runs = [run for row in rows for run in row["runs"]]
    # Every configuration ran the same 4 episodes, asked the model the same number of times, and scored alike.
    assert {(r["episodes"], r["errors"], r["sr"], r["llm_calls"]) for r in runs} == {
        (4, 0, 1.0, runs[0]["llm_calls"])
    }
    assert runs[0]["llm_calls"] >= 4
    assert "speedup" not in rows[0] and rows[1]["speedup"] > 0
    demo = report["offline_demo"]["configurations"]
    assert [r["workers"] for r in demo] == [1, 2]
    assert {run["episodes"] for r in demo for run in r["runs"]} == {6}  # one task of each of the six subsets
    # CPU time covers the worker processes too (robomem waits for them): no run is CPU-free.
    assert all(run["cpu_s"] > 0 for r in demo for run in r["runs"])
    assert len(report["offline_demo"]["pair_speedups"]) == 1 and "created" in report
    assert {"cpu_count", "python"} <= set(report["machine"])
