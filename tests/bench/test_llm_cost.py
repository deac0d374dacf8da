"""`bench/llm_cost.py` runs the LLM-mode agent through the evaluation harness at CI size against the scripted
loopback server and writes its report (shape only; no timing)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import llm_cost

ROLES = {
    "planner",
    "critic",
    "thalamus.summary",
    "thalamus.queries",
    "memory.temporal",
    "memory.spatial.update",  # relations and conflict edits in one call (spatial.resolve_calls: joint)
    "memory.episodic",
    "memory.lessons",
}


def test_quick_run_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "llm_cost.json"
    code = llm_cost.main(["--quick", "--embedder", "hashing", "--vector", "exact", "--out", str(out)])
    assert code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["benchmark"] == "llm_cost"
    assert report["quick"] is True
    assert report["episodes"] == 1
    assert report["env_steps"] > 0
    assert "words" in report["tokens_are"]
    assert {"cpu_count", "python"} <= set(report["machine"])
    # Every LLM role of the agent was called (spatial resolution only when a step brings new facts).
    assert set(report["roles"]) >= ROLES
    for role in report["roles"].values():
        assert role["calls"] > 0
        assert role["prompt_tokens"] > 0
        assert role["calls_per_step"] > 0
        assert role["calls_per_episode_median"] == role["calls"]  # one episode
    planner = report["roles"]["planner"]
    assert planner["when"] == "per step or plan"
    episodic = report["roles"]["memory.episodic"]
    assert episodic["when"] == "per episode"
    assert episodic["calls_with_nothing_stored"] == 1  # the first episode meets an empty memory
    assert episodic["retraction_calls"] == 0  # the quick episode is cut short: a failure, nothing to retract
    total = report["total"]
    assert total["calls"] == sum(r["calls"] for r in report["roles"].values())
    assert total["prompt_tokens"] == sum(r["prompt_tokens"] for r in report["roles"].values())
    (episode,) = report["per_episode"]
    assert episode["planner_output_error"] == 0
    assert episode["calls"] == total["calls"]
    assert episode["steps"] == report["env_steps"]


def test_scripted_planner_follows_the_oracle_solution() -> None:
    from robomem.testing.scripted_llm import RecordedRequest

    prompt = (
        "## Action list\naction id 0: find a Mug\naction id 1: pick up the Mug\naction id 2: find a Sink\n"
        "\n## Guidelines\n...\n## Task\nClean a mug.\n\n## The action history\n"
        "Step 1, action id 0, find a Mug, env feedback: ok\n"
    )
    request = RecordedRequest(
        "POST", "/v1/chat/completions", {}, {"messages": [{"role": "user", "content": prompt}]}, 0.0
    )
    gold: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {
        ("Clean a mug.", ("find a Mug", "pick up the Mug", "find a Sink")): (
            "find a Mug",
            "pick up the Mug",
            "find a Sink",
        )
    }
    plan = json.loads(llm_cost.planner_reply(gold, 1)(request))["executable_plan"]
    assert plan == [{"action_id": 1, "action_name": "pick up the Mug"}]


def test_scripted_planner_resumes_after_the_steps_temporal_memory_holds() -> None:
    from robomem.testing.scripted_llm import RecordedRequest

    gold: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {
        ("Clean a mug.", ("find a Mug", "pick up the Mug", "find a Sink")): (
            "find a Mug",
            "pick up the Mug",
            "find a Sink",
        )
    }
    for note, expected in (("(step 1 is", "pick up the Mug"), ("(steps 1-2 are", "find a Sink")):
        prompt = (
            "## Action list\naction id 0: find a Mug\naction id 1: pick up the Mug\n"
            "action id 2: find a Sink\n"
            f"\n## Task\nClean a mug.\n\n## The action history\n{note} in temporal memory above)\n"
        )
        request = RecordedRequest(
            "POST", "/v1/chat/completions", {}, {"messages": [{"role": "user", "content": prompt}]}, 0.0
        )
        plan = json.loads(llm_cost.planner_reply(gold, 1)(request))["executable_plan"]
        assert [p["action_name"] for p in plan] == [expected]
