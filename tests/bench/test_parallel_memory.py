"""`bench/parallel_memory.py` runs end to end at CI size (a real loopback LLM server, real stores) and writes
its report. No timing is asserted: only the report's shape and what the run must have done."""

from __future__ import annotations

import json
from pathlib import Path

from bench import parallel_memory

STORES = {"temporal", "spatial", "episodic", "semantic"}


def test_quick_run_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "parallel_memory.json"
    args = ["--quick", "--delay", "0.01", "--vector", "exact", "--ops", "one_call,paper", "--out", str(out)]
    assert parallel_memory.main(args) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["benchmark"] == "parallel_memory"
    assert report["quick"] is True
    assert report["delay_s"] == 0.01
    assert {"cpu_count", "python", "platform"} <= set(report["machine"])
    assert set(report["ops"]) == {"one_call", "paper"}
    expected_arms = {"temporal_only"} | {
        f"{o}/{m}" for o in ("one_call", "paper") for m in parallel_memory.MODES
    }
    assert set(report["arms"]) == expected_arms

    one_call = report["arms"]["one_call/parallel"]
    final = one_call["final_step"]
    assert final["n"] == 1
    # Every store made exactly one LLM call in the final step, and every reply was usable.
    assert final["llm_calls_per_step_median"] == dict.fromkeys(STORES, 1)
    # The agent's last step: update and end_episode in one fan-out, no retrieval.
    assert set(final["per_store_s_median"]) == {"update", "end"}
    assert set(final["per_store_s_median"]["update"]) == STORES
    assert set(final["per_store_s_median"]["end"]) == STORES
    assert set(final["phase_wall_s_median"]) == {"update", "end (after the step)"}
    assert one_call["ordinary_step"]["llm_calls_per_step_median"] == {"temporal": 1, "spatial": 1}
    # The paper's memory operations: spatial extraction and conflict resolution in one call per step.
    paper = report["arms"]["paper/parallel"]
    assert paper["ordinary_step"]["llm_calls_per_step_median"] == {"temporal": 1, "spatial": 1}
    assert paper["final_step"]["llm_calls_per_step_median"]["spatial"] == 1
    # ... and lesson creation decides on its lessons in the same call: no decision call after it.
    assert paper["final_step"]["llm_calls_per_step_median"]["semantic"] == 1
    assert paper["decisions"]["semantic"]["asked"] == 0 and paper["decisions"]["semantic"]["preset"] > 0
    assert all(count == 0 for arm in report["arms"].values() for count in arm["fallbacks"].values())
    assert report["arms"]["temporal_only"]["stores"] == ["temporal"]
    assert report["arms"]["one_call/sequential"]["parallel"] is False

    for kinds in report["ratios"].values():
        assert set(kinds) == {"ordinary_step", "final_step"}
        for ratio in kinds.values():
            assert ratio["parallel_over_L"] > 0
            assert ratio["sequential_over_parallel"] > 0
    metrics = {(t["ops"], t["metric"]) for t in report["targets"]}
    assert {("one_call", "parallel_over_L"), ("one_call", "sequential_over_parallel")} <= metrics
    assert {("paper", "parallel_over_L"), ("paper", "parallel_p95_over_L")} <= metrics
    assert report["scripted_server_errors"] == 0
