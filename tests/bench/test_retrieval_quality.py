"""`bench/retrieval_quality.py` at CI size: ~500 generated episodes in the exact and Chroma backends, real
MiniLM vectors, the report's shape (no timing, no recall threshold: the tiny run proves nothing)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import retrieval_quality


def test_quick_run_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "retrieval_quality.json"
    args = [
        "--quick",
        "--ef",
        "100,400",
        "--all-ef",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--out",
        str(out),
    ]
    assert retrieval_quality.main(args) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["benchmark"] == "retrieval_quality"
    assert report["quick"] is True
    assert report["n_items"] == 500
    assert report["queries"] == dict.fromkeys(retrieval_quality.STYLES, 10)
    exact = report["backends"]["exact"]
    assert set(exact["recall_at_5_thalamus_queries"]) == {"all", *retrieval_quality.STYLES}
    assert {"cpu_count", "python"} <= set(report["machine"])
    exact = report["backends"]["exact"]
    assert set(exact["recall_at_5"]) == {"all", *retrieval_quality.STYLES}
    assert exact["recall_at_5"]["verbatim"] == 1.0  # exact search finds the stored wording itself
    assert set(exact["latency_ms"]) == {
        "query_filtered",
        "query_unfiltered",
        "episodic_retrieve",
        "episodic_retrieve_thalamus_queries",
    }
    assert exact["latency_ms"]["query_filtered"]["n"] == 40
    assert [r["ef_search"] for r in report["backends"]["chroma"]] == [100, 400]
    assert [r["ef_search_in_collection"] for r in report["backends"]["chroma"]] == [100, 400]
    for run in report["backends"]["chroma"]:
        assert 0.0 <= run["recall_at_5"]["all"] <= 1.0
        assert 0.0 <= run["top5_overlap_with_exact"] <= 1.0
    assert report["embedding"]["items"]["texts_embedded"] == 500
    assert {t["backend"].split()[0] for t in report["targets"]} == {"exact", "chroma"}
    assert [s["n_items"] for s in report["exact_recall_by_store_size"]] == [100, 500]

    # A second run reads the cached item vectors.
    assert retrieval_quality.main([*args, "--ef", "100", "--queries-per-style", "2"]) == 0
    again = json.loads(out.read_text(encoding="utf-8"))
    assert again["embedding"]["items"]["from_cache"] is True
    assert again["embedding"]["items"]["texts_from_cache"] == 500
    assert again["queries"] == dict.fromkeys(retrieval_quality.STYLES, 2)


def test_generated_tasks_are_distinct_and_queries_keep_the_task() -> None:
    episodes = retrieval_quality.generate_episodes(300, seed=3)
    assert len({e.item.id for e in episodes}) == 300
    assert len({e.item.metadata["key"] for e in episodes}) == 300
    assert all(e.embed_text == f"Task: {e.instruction}" for e in episodes)
    queries = retrieval_quality.make_queries(episodes, 5, seed=4)
    for style, text, source in queries:
        if style == "verbatim":
            assert text == source.instruction
        elif style == "complex":
            assert source.instruction[1:] in text
        else:
            assert text != source.instruction
