"""``bench/graph_locality.py`` at CI size: real spatial-memory updates on a growing site, the report's shape
and its SVG plot (the numbers of a quick run are not checked against the target)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from bench import graph_locality


def test_quick_run_writes_the_report_and_plot(tmp_path: Path) -> None:
    out = tmp_path / "graph_locality.json"
    assert (
        graph_locality.main(
            ["--quick", "--embedder", "hashing", "--work-dir", str(tmp_path), "--out", str(out)]
        )
        == 0
    )
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["benchmark"] == "graph_locality"
    assert report["quick"] is True
    assert {"cpu_count", "ram_gb", "python", "date"} <= set(report["machine"])
    assert report["paper_touched_per_update"] == 10
    assert report["spatial_config"]["max_nodes"] > report["spatial_config"]["max_nodes_default"]
    windows = report["windows"]
    assert [w["target_nodes"] for w in windows] == [100, 300]
    for window in windows:
        assert window["updates"] >= 20
        assert window["graph_nodes"]["start"] >= window["target_nodes"]
        assert window["touched"]["n"] == window["updates"]
        assert window["touched"]["min"] >= 0
        assert 0 <= window["expansion_capped_share"] <= 1
    assert windows[1]["graph_nodes"]["start"] >= windows[0]["graph_nodes"]["start"]
    assert isinstance(report["target"]["met"], bool)
    svg = ET.parse(report["plot"]).getroot()
    assert svg.tag.endswith("svg")
    assert Path(report["plot"]).parent == tmp_path
