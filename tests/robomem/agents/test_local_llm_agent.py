"""The real RoboMemory agent driven by a real tiny local LLM (SmolLM2-135M via llama.cpp's server on
127.0.0.1, started by ``robomem eval --llm local``): two episodes play to the end, whatever the model says —
unusable plans are counted as planner output errors, never crashes. The model is far too small to plan well;
this proves the pipeline, not competence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from robomem.cli.main import main


@pytest.mark.local_llm
def test_two_episodes_end_to_end_through_the_local_llm(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    code = main(
        [
            "eval",
            "--config",
            "configs/llm_agent.yaml",
            "--llm",
            "local",
            "--subset",
            "base",
            "--episodes",
            "2",
            "--no-progress",
            "--run-dir",
            str(run_dir),
            # Habitat's short action list keeps the prompt small enough for a 135M model on 2 cores.
            "env.profile=habitat",
            "env.max_steps=2",
            "agent.critic=null",
            "agent.thalamus.type=deterministic",
            "agent.planner.memory_chars=300",
            "agent.planner.observation_chars=600",
            "agent.planner.max_retries=0",
            "agent.max_output_errors=2",
            "agent.memory.embedder.type=hashing",
            "agent.memory.vector.type=exact",
        ]
    )
    assert code == 0
    records = [
        json.loads((run_dir / "base" / "results" / f"episode_{n}_final_res.json").read_text()) for n in (1, 2)
    ]
    for record in records:
        assert record["planner_steps"] >= 1
        assert 0 <= record["planner_output_error"] <= record["planner_steps"]
        assert record["num_steps"] <= 2
        assert "error" not in record  # the episode ended normally, not through an exception
    usage = json.loads((run_dir / "llm_usage.json").read_text())
    assert usage["roles"]["planner"]["calls"] >= 2
