"""``bench/cumulative_learning.py``: McNemar's exact test, the lifelong overrides and the trimmed suite, and a
``--quick`` run through the real harness writing a report of the documented shape plus its SVG figure (the
numbers of a quick run mean nothing and are not checked)."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bench.cumulative_learning import mcnemar_p, overrides_for, trimmed_suite
from envs.household.config import HouseholdConfig
from envs.household.suites import load_suite
from robomem.agents import RoboMemoryAgentConfig
from robomem.config import Config, load_config

ROOT = Path(__file__).resolve().parents[2]


def _parts(cfg: Config) -> tuple[HouseholdConfig, RoboMemoryAgentConfig]:
    assert isinstance(cfg.env, HouseholdConfig)
    assert isinstance(cfg.agent, RoboMemoryAgentConfig)
    return cfg.env, cfg.agent


@pytest.mark.parametrize(
    ("b", "c", "p"),
    [(0, 0, 1.0), (0, 5, 0.0625), (5, 0, 0.0625), (3, 3, 1.0), (1, 9, 0.021484375)],
)
def test_mcnemar_exact_p(b: int, c: int, p: float) -> None:
    assert mcnemar_p(b, c) == pytest.approx(p)


def test_overrides_make_a_lifelong_config_on_a_trimmed_suite(tmp_path: Path) -> None:
    suite = trimmed_suite("alfred", 3, tmp_path)
    trimmed = load_suite(str(suite), "alfred")
    assert trimmed.lifelong
    assert all(len(seq.tasks) == 3 for seq in trimmed.lifelong)
    full_cfg = load_config(
        None,
        overrides_for(
            "full", "alfred", 2, sequences=1, attempts=2, suite=suite, embedder="hashing", vector="exact"
        ),
    )
    assert (full_cfg.eval.mode, full_cfg.eval.lifelong_repeats, full_cfg.eval.episodes) == ("lifelong", 2, 1)
    env, agent = _parts(full_cfg)
    assert (env.perturb_k, env.suite) == (2, str(suite))
    assert agent.memory.stores == ("temporal", "spatial", "episodic", "semantic")
    control = load_config(
        None,
        overrides_for(
            "no_memory",
            "habitat",
            0,
            sequences=None,
            attempts=2,
            suite=None,
            embedder="minilm",
            vector="chroma",
        ),
    )
    env, agent = _parts(control)
    assert agent.memory.stores == ()
    assert (env.profile, env.perturb_k, control.eval.episodes) == ("habitat", 0, None)


def test_quick_run_writes_the_report_and_the_plot(tmp_path: Path) -> None:
    out = tmp_path / "cumulative_learning.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.cumulative_learning", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["benchmark"] == "cumulative_learning"
    assert (report["quick"], report["mode"], report["attempts"]) == (True, "lifelong", 2)
    assert (report["sequences"], report["tasks_per_sequence"]) == (1, 2)
    assert report["perturb_k"] == [0, 2]
    assert {"python", "cpu_count", "platform"} <= set(report["machine"])
    assert report["paper_real_robot"]["attempt_2"]["successes"] == 7
    runs = report["runs"]
    assert [(r["profile"], r["perturb_k"], r["variant"]) for r in runs] == [
        (p, k, v) for p in ("alfred", "habitat") for k in (0, 2) for v in ("full", "no_memory")
    ]
    for item in runs:
        assert item["episodes"] == 4  # one house, two tasks, two attempts
        assert item["sequences"] == 1
        assert "eval.mode=lifelong" in item["overrides"]
        assert f"env.perturb_k={item['perturb_k']}" in item["overrides"]
        assert set(item["attempts"]) == {"1", "2"}
        for stats in item["attempts"].values():
            assert stats["n"] == 2
            low, high = stats["sr_ci"]
            assert 0.0 <= low <= stats["sr"] <= high <= 1.0
        (pair,) = item["paired"]
        assert pair["attempt"] == 2
        assert pair["pairs"] == 2
        assert pair["fewer_steps"] + pair["same_steps"] + pair["more_steps"] == 2
        assert 0.0 <= pair["mcnemar_p"] <= 1.0
        assert 0 <= pair["identical_trajectories"] <= 2
        assert pair["first_task_steps_delta"]["n"] == 1  # one house: one first task
        assert set(item["steps_by_position"]) == {"1", "2"}
        assert all(len(means) == 2 for means in item["steps_by_position"].values())
        if item["variant"] == "no_memory" and item["perturb_k"] == 0:
            # Nothing to learn with, nothing moved, the house restarted: attempt 2 repeats attempt 1.
            assert pair["identical_trajectories"] == 2
    plot = Path(report["plot"])
    assert plot == out.with_suffix(".svg")
    root = ET.fromstring(plot.read_text(encoding="utf-8"))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "attempt 2" in out.with_suffix(".md").read_text(encoding="utf-8")
