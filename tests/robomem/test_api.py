"""``robomem.evaluate``: the Python entry point runs what ``robomem eval`` runs (the README's example runs in
tests/test_readme.py); here a ``Config`` object with overrides in both forms, a resume, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import robomem
from robomem.config import load_config
from robomem.errors import ConfigError


def test_a_config_object_with_overrides_then_a_resume(tmp_path: Path) -> None:
    cfg = load_config(None, ["eval.subsets=[base]"])
    run_dir = tmp_path / "run"
    summary = robomem.evaluate(cfg, {"eval.episodes": 2, "run.dir": str(run_dir), "agent.critic": None})
    assert summary.overall.n == 2 and set(summary.subsets) == {"base"}
    written = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert written == summary.model_dump(mode="json")
    assert "critic: null" in (run_dir / "config.yaml").read_text(encoding="utf-8")
    # A resume of a finished run runs nothing again and returns the same summary.
    last = run_dir / "base" / "results" / "episode_2_final_res.json"
    assert robomem.evaluate(resume=run_dir) == summary and last.is_file()


def test_bad_input_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^eval\.episodes: "):
        robomem.evaluate(None, ["eval.episodes=-1", f"run.dir={tmp_path / 'a'}"])
    with pytest.raises(ConfigError, match=r"--resume takes the run's own config\.yaml"):
        robomem.evaluate("configs/demo.yaml", resume=tmp_path)
    with pytest.raises(TypeError, match="not one string"):
        robomem.evaluate(None, "eval.episodes=2")
    assert not (tmp_path / "a").exists()
