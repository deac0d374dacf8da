"""`bench/embedding_throughput.py` runs end to end (``--quick``) and writes its JSON; speed is not checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "throughput.json"
    result = subprocess.run(
        [sys.executable, "-m", "bench.embedding_throughput", "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1
    assert str(out) in result.stdout
    report = json.loads(out.read_text())
    assert report["benchmark"] == "embedding_throughput"
    assert (report["model"], report["dim"], report["quick"], report["repeats"]) == (
        "all-MiniLM-L6-v2",
        384,
        True,
        2,
    )
    backends = ["numpy", "onnx", "onnx-default-threads"]
    assert report["backends"] == backends
    assert set(report["load_seconds"]) == set(backends) and min(report["load_seconds"].values()) > 0
    assert report["mean_tokens_per_sentence"] > 2
    settings = [(1, 1), (32, 1), (4, 4)]
    rows = [(r["backend"], r["batch_size"], r["caller_threads"]) for r in report["results"]]
    assert rows == [(b, *s) for b in backends for s in settings]
    for row in report["results"]:
        assert len(row["sentences_per_s_runs"]) == 2
        assert row["sentences_per_s_median"] > 0
    batch32 = {r["backend"]: r["sentences_per_s_median"] for r in report["results"] if r["batch_size"] == 32}
    assert report["ratios"]["onnx_vs_numpy_batch32"] == round(batch32["onnx"] / batch32["numpy"], 3)
    assert report["best_batch32_sentences_per_s"] == max(batch32.values())
    assert report["meets_target"] == (
        max(batch32.values()) >= report["target_batch32_sentences_per_s"] == 524
    )
    assert {"python", "numpy", "onnxruntime", "platform", "cpu_count"} <= set(report["machine"])


def test_unknown_backend_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.embedding_throughput", "--quick", "--backends", "numpy,torch"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "unknown backends ['torch']" in result.stderr
