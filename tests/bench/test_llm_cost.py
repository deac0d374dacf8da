"""`bench/llm_cost.py` runs the paper preset and configs/llm_agent.yaml through the evaluation harness at CI
size against the scripted loopback server and writes their reports side by side (shape only; no timing)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import llm_cost

#: The paper preset's roles (spatial extraction and conflict edits in one call: spatial.resolve_calls joint;
#: lessons decided in the lesson call, semantic.decide_calls joint, so `memory.semantic` is not asked).
PAPER_ROLES = {
    "planner",
    "critic",
    "thalamus.summary",
    "thalamus.queries",
    "memory.temporal",
    "memory.spatial.update",
    "memory.episodic.creator",
    "memory.episodic",
    "memory.lessons",
}
#: configs/llm_agent.yaml: memory operations stay deterministic.
AGENT_ROLES = {"planner", "critic", "thalamus.summary", "thalamus.queries"}


def test_quick_run_reports_both_presets_side_by_side(tmp_path: Path) -> None:
    out = tmp_path / "llm_cost.json"
    code = llm_cost.main(["--quick", "--embedder", "hashing", "--vector", "exact", "--out", str(out)])
    assert code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["benchmark"] == "llm_cost"
    assert report["quick"] is True
    assert "words" in report["tokens_are"]
    assert {"cpu_count", "python"} <= set(report["machine"])
    presets = report["presets"]
    assert [presets[p]["config"] for p in presets] == ["configs/robomemory.yaml", "configs/llm_agent.yaml"]
    for name, roles in (("robomemory", PAPER_ROLES), ("llm_agent", AGENT_ROLES)):
        result = presets[name]
        assert result["episodes"] == 1 and result["env_steps"] > 0
        assert set(result["roles"]) == roles, name
        for role in result["roles"].values():
            assert role["calls"] > 0
            assert role["prompt_tokens"] > 0 and role["completion_tokens"] > 0
            assert role["calls_per_step"] > 0
            assert role["calls_per_episode_median"] == role["calls"]  # one episode
            assert role["deterministic_fallbacks"] == 0  # every reply was usable
        total = result["total"]
        assert total["calls"] == sum(r["calls"] for r in result["roles"].values())
        assert total["prompt_tokens"] == sum(r["prompt_tokens"] for r in result["roles"].values())
        assert total["completion_tokens"] == sum(r["completion_tokens"] for r in result["roles"].values())
        assert total["calls_per_episode_mean"] == total["calls"]
        assert total["steps_per_episode_mean"] == result["env_steps"]
        (episode,) = result["per_episode"]
        assert episode["planner_output_error"] == 0
        assert episode["calls"] == total["calls"]
        assert episode["steps"] == result["env_steps"]
    paper = presets["robomemory"]
    assert paper["roles"]["planner"]["when"] == "per step or plan"
    for role in ("memory.episodic.creator", "memory.episodic", "memory.lessons"):
        assert paper["roles"][role]["when"] == "per episode"
    episodic = paper["roles"]["memory.episodic"]
    assert episodic["calls_with_nothing_stored"] == 1  # the first episode meets an empty memory
    assert episodic["retraction_calls"] == 0  # the quick episode is cut short: a failure, nothing to retract
    # Both presets played the same episode; memory on the model costs calls.
    assert paper["env_steps"] == presets["llm_agent"]["env_steps"]
    assert paper["total"]["calls"] > presets["llm_agent"]["total"]["calls"]


def test_one_preset_alone(tmp_path: Path) -> None:
    out = tmp_path / "llm_cost.json"
    argv = [
        "--quick",
        "--preset",
        "llm_agent",
        "--embedder",
        "hashing",
        "--vector",
        "exact",
        "--out",
        str(out),
    ]
    assert llm_cost.main(argv) == 0
    assert list(json.loads(out.read_text(encoding="utf-8"))["presets"]) == ["llm_agent"]


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
