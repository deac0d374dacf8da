from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from robomem.llm import LLMAccounting


def test_snapshot_sums_counts_and_percentiles() -> None:
    acc = LLMAccounting()
    for latency in (0.1, 0.2, 0.3, 0.4, 1.0):
        acc.record("planner", latency_s=latency, prompt_tokens=10, completion_tokens=3)
    acc.record("critic", latency_s=0.5, requests=2, error="malformed", repairs=1)
    acc.record("critic", latency_s=2.0, requests=3, error="transport", fallbacks=2, queue_wait_s=0.25)

    snap = acc.snapshot()
    planner = snap["roles"]["planner"]
    assert (
        planner["calls"],
        planner["requests"],
        planner["prompt_tokens"],
        planner["completion_tokens"],
    ) == (5, 5, 50, 15)
    assert planner["latency_s"] == {"sum": 2.0, "mean": 0.4, "p50": 0.3, "p95": 1.0, "max": 1.0, "samples": 5}
    critic = snap["roles"]["critic"]
    assert (
        critic["malformed_replies"],
        critic["transport_errors"],
        critic["repairs"],
        critic["fallbacks"],
    ) == (1, 1, 1, 2)
    assert (critic["requests"], critic["queue_wait_s_sum"]) == (5, 0.25)
    total = snap["total"]
    assert (total["calls"], total["requests"], total["latency_s"]["max"], total["latency_s"]["samples"]) == (
        7,
        10,
        2.0,
        7,
    )
    assert list(snap["roles"]) == ["critic", "planner"]


def test_empty_snapshot_and_reset() -> None:
    acc = LLMAccounting()
    assert acc.snapshot()["total"]["latency_s"]["p95"] == 0.0
    acc.record("x", latency_s=1.0)
    acc.reset()
    assert acc.snapshot() == LLMAccounting().snapshot()


def test_latency_samples_are_bounded_but_sums_are_not() -> None:
    acc = LLMAccounting(max_samples=3)
    for latency in (9.0, 1.0, 1.0, 1.0):
        acc.record("p", latency_s=latency)
    latency = acc.snapshot()["roles"]["p"]["latency_s"]
    assert (latency["samples"], latency["p95"], latency["sum"], latency["max"]) == (3, 1.0, 12.0, 9.0)
    with pytest.raises(ValueError, match="max_samples"):
        LLMAccounting(max_samples=0)


def test_recording_from_many_threads_loses_nothing() -> None:
    acc = LLMAccounting()

    def work(n: int) -> None:
        for _ in range(500):
            acc.record(f"role{n % 2}", latency_s=0.001, prompt_tokens=1)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    snap = acc.snapshot()
    assert snap["total"]["calls"] == 4000
    assert snap["roles"]["role0"]["prompt_tokens"] == 2000


def test_write_is_atomic_and_replaces_the_old_file(tmp_path: Path) -> None:
    acc = LLMAccounting()
    target = tmp_path / "nested" / "llm.json"
    acc.record("planner", latency_s=0.5)
    assert acc.write(target) == target
    acc.record("planner", latency_s=0.5)
    acc.write(str(target))
    assert json.loads(target.read_text())["roles"]["planner"]["calls"] == 2
    assert sorted(p.name for p in target.parent.iterdir()) == ["llm.json"]


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    acc = LLMAccounting()
    target = tmp_path / "llm.json"
    target.write_text("old")
    acc.record("p", latency_s=0.1)
    (tmp_path / "llm.json.dir").mkdir()
    with pytest.raises(IsADirectoryError):
        acc.write(tmp_path / "llm.json.dir")  # os.replace cannot put a file over a directory
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["llm.json", "llm.json.dir"]
