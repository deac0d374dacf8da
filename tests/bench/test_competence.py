"""``bench/competence.py``: the ablation overrides configure what they claim, and a ``--quick`` run through
the real harness writes a report of the documented shape (its numbers mean nothing and are not checked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.competence import DEFAULT_VARIANTS, VARIANTS, merge, overrides_for, sr_svg
from robomem.config import load_config

ROOT = Path(__file__).resolve().parents[2]
STAT_KEYS = {
    "n",
    "successes",
    "sr",
    "sr_ci",
    "gc",
    "gc_ci",
    "mean_steps",
    "steps_ci",
    "invalid_action_ratio",
    "errors",
}


def _config(variant: str) -> Any:
    overrides = overrides_for(
        variant, "habitat", subsets=("base", "spatial"), episodes=3, embedder="hashing", vector="exact"
    )
    return load_config(None, overrides)


@pytest.mark.parametrize(
    ("variant", "stores", "critic"),
    [
        ("full", ("temporal", "spatial", "episodic", "semantic"), True),
        ("no_spatial", ("temporal", "episodic", "semantic"), True),
        ("no_critic", ("temporal", "spatial", "episodic", "semantic"), False),
        ("no_long_term", ("temporal", "spatial"), True),
        ("no_memory", (), True),
        ("no_episodic", ("temporal", "spatial", "semantic"), True),
        ("no_semantic", ("temporal", "spatial", "episodic"), True),
    ],
)
def test_variants_ablate_what_they_name(variant: str, stores: tuple[str, ...], critic: bool) -> None:
    cfg = _config(variant)
    assert cfg.agent.type == "robomem"
    assert cfg.agent.memory.stores == stores
    assert (cfg.agent.critic is not None) is critic
    assert cfg.agent.memory.embedder.type == "hashing"
    assert cfg.agent.memory.vector.type == "exact"
    assert (cfg.env.profile, cfg.eval.mode, cfg.eval.episodes) == ("habitat", "episodic", 3)
    assert cfg.eval.subsets == ("base", "spatial")


def test_random_baseline_replaces_the_agent() -> None:
    cfg = _config("random")
    assert cfg.agent.type == "random"
    assert set(DEFAULT_VARIANTS) <= set(VARIANTS)


def _check_stats(stats: dict[str, Any], n: int) -> None:
    assert set(stats) == STAT_KEYS
    assert stats["n"] == n
    for rate, ci in (("sr", "sr_ci"), ("gc", "gc_ci")):
        low, high = stats[ci]
        assert 0.0 <= low <= stats[rate] <= high <= 1.0
    assert stats["mean_steps"] >= 0
    assert stats["steps_ci"] is None or len(stats["steps_ci"]) == 2


def test_quick_run_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "competence.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.competence", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["benchmark"] == "competence"
    assert report["quick"] is True
    assert report["episodes_per_subset"] == 2
    assert report["subsets"] == ["base"]
    assert report["profiles"] == ["alfred", "habitat"]
    assert list(report["variants"]) == list(DEFAULT_VARIANTS)
    assert {"python", "cpu_count", "platform"} <= set(report["machine"])
    assert report["created"]
    runs = report["runs"]
    assert [(r["profile"], r["variant"]) for r in runs] == [
        (p, v) for p in ("alfred", "habitat") for v in DEFAULT_VARIANTS
    ]
    for item in runs:
        assert item["episodes"] == 2
        assert item["command"].startswith("robomem eval ")
        assert f"env.profile={item['profile']}" in item["overrides"]
        assert list(item["subsets"]) == ["base"]
        _check_stats(item["subsets"]["base"], 2)
        _check_stats(item["all"], 2)
        delta = item["steps_delta_vs_full"]
        paired = item["subset_deltas_vs_full"]
        if item["variant"] == "full":
            assert delta is None and paired is None
        else:
            assert delta["n"] == 2
            assert delta["fewer"] + delta["same"] + delta["more"] == 2
            assert list(paired) == ["base"] and paired["base"]["sr"]["n"] == paired["base"]["steps"]["n"] == 2
            assert -1 <= paired["base"]["sr"]["mean"] <= 1
    # One table row per (variant, profile, subset); no pooled row with a single subset.
    assert len(report["table"]) == len(runs)
    for row in report["table"]:
        assert row["subset"] == "base"
        _check_stats({k: v for k, v in row.items() if k not in ("variant", "profile", "subset")}, 2)
    table = out.with_suffix(".md").read_text(encoding="utf-8")
    assert "| variant" in table
    assert "no_long_term" in table


def test_memory_suite_runs_lifelong_on_memory_v4_and_draws_sr_per_variant() -> None:
    overrides = overrides_for(
        "no_spatial",
        "habitat",
        subsets=("recall", "moved"),
        episodes=22,
        embedder="hashing",
        vector="exact",
        memory_suite=True,
    )
    assert {"env.suite=memory_v4", "eval.mode=lifelong", "eval.subsets=[recall,moved]"} <= set(overrides)
    assert "eval.mode=episodic" not in overrides
    row = {"profile": "alfred", "sr": 0.5, "sr_ci": [0.4, 0.6]}
    report = {
        "suite": "memory_v2 (lifelong)",
        "subsets": ["recall"],
        "table": [
            {**row, "variant": "full", "subset": "recall"},
            {**row, "variant": "full", "subset": "recall_setup"},
            {**row, "variant": "no_memory", "subset": "recall", "sr": 0.25},
        ],
    }
    svg = sr_svg(report)
    assert svg.startswith("<svg") and "no_memory" in svg and "recall_setup" not in svg


def test_reports_of_one_profile_each_merge_into_one() -> None:
    def report(profile: str, created: str) -> dict[str, Any]:
        row = {"variant": "full", "profile": profile, "subset": "jammed", "sr": 1.0, "sr_ci": [0.9, 1.0]}
        return {
            "benchmark": "competence",
            "quick": False,
            "episodes_per_subset": 57,
            "subsets": ["jammed"],
            "embedder": "minilm",
            "vector": "chroma",
            "suite": "memory_v4 (lifelong)",
            "profiles": [profile],
            "variants": {"full": []},
            "runs": [{"variant": "full", "profile": profile}],
            "table": [row],
            "created": created,
        }

    merged = merge([report("alfred", "2026-12-05T00:40"), report("habitat", "2026-12-05T00:41")])
    assert merged["profiles"] == ["alfred", "habitat"]
    assert (
        [r["profile"] for r in merged["runs"]]
        == [r["profile"] for r in merged["table"]]
        == merged["profiles"]
    )
    assert merged["created"] == "2026-12-05T00:41"
    with pytest.raises(ValueError, match="episodes_per_subset"):
        merge([report("alfred", "x"), {**report("habitat", "y"), "episodes_per_subset": 44}])
