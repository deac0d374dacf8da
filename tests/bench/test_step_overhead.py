"""``bench/step_overhead.py`` at CI size: memory filled through the real stores, the real agent timed per node
and per store, the report's shape (no timing is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import step_overhead

NODES = {"perceive", "memory_update", "memory_retrieve", "plan", "critic", "execute"}
STORES = {"temporal", "spatial", "episodic", "semantic"}
DISTRIBUTION = {"n", "median", "p95", "mean", "min", "max"}


def test_quick_run_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "step_overhead.json"
    assert step_overhead.main(["--quick", "--work-dir", str(tmp_path), "--out", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["benchmark"] == "step_overhead"
    assert report["quick"] is True
    assert {"cpu_count", "ram_gb", "python", "date"} <= set(report["machine"])
    assert report["measuring_embedder"] == "all-MiniLM-L6-v2 (onnx MiniLM behind an LRU cache)"
    assert report["fill_embedder"] == "minilm"
    assert [(c["layout"], c["kg_edges"], c["ltm_items"]) for c in report["cases"]] == [
        ("site", 150, 150),
        ("spread", 150, 150),
    ]
    assert set(report["target"]["p95_ms_by_layout"]) == {"site", "spread"}
    assert isinstance(report["target"]["met"], bool)
    for case in report["cases"]:
        assert case["steps"] >= 6
        assert set(case["framework_ms"]) == DISTRIBUTION
        assert case["framework_ms"]["n"] == case["steps"]
        assert set(case["per_node"]) == NODES
        assert case["per_node"]["memory_update"]["when_run_ms"]["n"] == case["steps"]
        for phase in ("update", "retrieve"):
            assert set(case["per_store"][phase]) == STORES
        assert set(case["episode_ms"]) == {"begin_episode", "end_episode", "consolidation", "flush"}
        assert case["episode_ms"]["consolidation"]["n"] > 0, "the last step leaves consolidation running"
        split = case["framework_ms_ordinary_steps"]["n"] + case["framework_ms_last_steps"]["n"]
        assert split == case["steps"]
        assert case["framework_cpu_ms"]["n"] == case["steps"]
        assert case["framework_cpu_ms"]["min"] > 0  # every step costs the process some CPU time
        assert case["framework_cpu_ms_ordinary_steps"]["n"] == case["framework_ms_ordinary_steps"]["n"]
        # The garbage collector's pauses per generation, and what the slowest steps spend more on.
        assert set(case["gc"]) == {"gen0", "gen1", "gen2"}
        assert all(0 <= g["steps_with_one"] <= case["steps"] for g in case["gc"].values())
        assert case["tail"]["steps"] <= case["steps"] // 10 + 1
        if case["tail"]["steps"]:
            assert case["tail"]["framework_ms"]["min"] > case["tail"]["above_ms"]
            assert {"langgraph", "gc", "memory_update", "retrieve.episodic"} <= set(case["tail"]["parts"])
        fill = case["fill"]
        assert fill["spatial"]["edges"] >= 150
        assert fill["longterm"]["items"] == 150
        # The agent's site held the filled graph (site layout) or only its own house (spread).
        site_nodes = case["memory_at_end"]["agent_site_graph"]["nodes"]
        assert site_nodes > fill["spatial"]["agent_site_nodes"]
        assert case["memory_at_end"]["episodic"] >= fill["longterm"]["episodic"]
    # Everything was built under the work dir and removed afterwards.
    assert [p.name for p in tmp_path.iterdir()] == ["step_overhead.json"]


def test_collections_are_charged_to_the_step_they_fall_in_and_the_tail_names_them() -> None:
    from bench._step_probe import Event, steps_of_episode, summarize_steps

    events = []
    for step in range(20):
        t = step * 10.0
        events += [
            Event("perceive", t, t + 1),
            Event("memory_update", t + 1, t + 3),
            Event("execute", t + 3, t + 4),
        ]
    # A full collection of 5 s inside step 7's update; young ones here and there.
    collections = [(2, 71.5, 76.5), (0, 12.0, 12.25), (0, 45.0, 45.5)]
    steps = steps_of_episode(events, end=200.0, collections=collections)
    assert len(steps) == 20
    assert steps[7].gc_s == {2: 5.0}
    assert steps[1].gc_s == {0: 0.25} and steps[4].gc_s == {0: 0.5}
    steps[7].nodes["memory_update"] += 5.0  # the pause made that step's update slow
    steps[7].wall_s += 5.0
    report = summarize_steps(steps)
    assert report["gc"]["gen2"]["steps_with_one"] == 1
    tail = report["tail"]
    assert tail["steps"] == 1 and tail["with_gen2_collection"] == 1
    assert set(tail["largest_excess"][:2]) == {"memory_update", "gc"}
    assert tail["slowest"][0]["gc_ms"] == {"gen2": 5000.0}
