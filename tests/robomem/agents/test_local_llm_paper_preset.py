"""The paper preset end to end with a real tiny local LLM: ``robomem eval --config configs/robomemory.yaml
--llm local`` (SmolLM2-135M behind llama.cpp's server on 127.0.0.1) plays one episode per household
profile, with the thalamus, the memory operations and the planner asking the model (the critic and temporal
compression need longer episodes; the scripted test of the preset covers them). The model is far too small
to be useful: unusable replies fall back (``--llm local`` sets ``on_failure: fallback``) and are counted;
this proves the pipeline, not competence. One step per episode bounds the run (measured: 37 s and 103 s on
two shared cores; grammar-constrained decoding runs at about 15 tokens/s)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from robomem.cli.main import main

#: Roles every one-step episode of the paper preset calls (temporal compression needs a full buffer).
CALLED = (
    "planner",
    "thalamus.summary",
    "thalamus.queries",
    "memory.spatial.update",  # relations and conflict edits in one call (spatial.resolve_calls: joint)
    "memory.episodic.creator",
    "memory.episodic",
    "memory.lessons",
)


@pytest.mark.local_llm
@pytest.mark.parametrize("profile", ["alfred", "habitat"])
def test_one_episode_per_profile_through_the_local_llm(tmp_path: Path, profile: str) -> None:
    run_dir = tmp_path / "run"
    code = main(
        [
            "eval",
            "--config",
            "configs/robomemory.yaml",
            "--llm",
            "local",
            "--subset",
            "base",
            "--episodes",
            "1",
            "--no-progress",
            "--run-dir",
            str(run_dir),
            f"env.profile={profile}",
            "env.max_steps=1",
            "agent.planner.max_retries=0",
            "agent.memory.embedder.type=hashing",
            "agent.memory.vector.type=exact",
        ]
    )
    assert code == 0
    record = json.loads((run_dir / "base" / "results" / "episode_1_final_res.json").read_text())
    assert "error" not in record and record["planner_steps"] >= 1 and record["num_steps"] <= 1
    usage = json.loads((run_dir / "llm_usage.json").read_text())["roles"]
    for role in CALLED:
        assert usage[role]["calls"] >= 1, role
        assert usage[role]["transport_errors"] == 0, role
    # What fell back is counted, never hidden: at most one fallback per call.
    assert all(stats["deterministic_fallbacks"] <= stats["calls"] for stats in usage.values())
