"""The embedding benchmark runs end to end (``--quick``) and writes its JSON; speed is not checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_quick_run_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "throughput.json"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "embedding_throughput.py"), "--quick", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
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
    assert report["load_seconds"] > 0
    assert report["mean_tokens_per_sentence"] > 2
    assert [(r["batch_size"], r["caller_threads"]) for r in report["results"]] == [(1, 1), (32, 1), (4, 4)]
    for row in report["results"]:
        assert len(row["sentences_per_s_runs"]) == 2
        assert row["sentences_per_s_median"] > 0
    assert {"python", "numpy", "platform", "cpu_count"} <= set(report["machine"])
