"""``bench/bounded_context.py`` at CI size: the real agent over a short lifelong run, the LLM planner's prompt
measured at every planner call, the report's shape and its SVG plot (the quick ratio is not checked)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from bench import bounded_context


def test_quick_run_writes_the_report_and_plot(tmp_path: Path) -> None:
    out = tmp_path / "bounded_context.json"
    assert bounded_context.main(["--quick", "--work-dir", str(tmp_path), "--out", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["benchmark"] == "bounded_context"
    assert report["quick"] is True
    assert {"cpu_count", "ram_gb", "python", "date"} <= set(report["machine"])
    assert report["lifetime_steps"] >= 80
    assert report["planner_calls"] == len(report["tokens_by_call"]) > 0
    probes = report["probes"]
    assert [p["step"] for p in probes] == [10, 40, 70]
    for probe in probes:
        assert probe["calls"] == 3
        assert probe["tokens_median"] > 0
        assert probe["wordpieces_median"] > 0
        assert {"skills", "memory", "history", "observation", "template"} <= set(
            probe["section_chars_median"]
        )
        assert set(probe["retrieved_lines_median"]) == {"temporal", "spatial", "episodic", "semantic"}
    # Memory was measured at every probe and it grew.
    memory = report["memory"]
    assert set(memory) == {"10", "40", "70", "end"}
    assert memory["end"]["episodic_items"] > memory["10"]["episodic_items"]
    assert memory["end"]["spatial_edges"] > 0
    assert report["target"]["ratio"] > 0
    assert isinstance(report["target"]["met"], bool)
    assert ET.parse(report["plot"]).getroot().tag.endswith("svg")
