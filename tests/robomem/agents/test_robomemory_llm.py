"""The RoboMemory agent with an LLM in every role, end to end through ``robomem eval`` against a real
OpenAI-compatible server on 127.0.0.1 that replays scripted replies: malformed and unknown-action plans are
counted as planner output errors, critic rejections force replans, nothing crashes, and per-role LLM usage
lands in the run directory."""

from __future__ import annotations

import json
import re
from pathlib import Path

from robomem.cli.main import main
from robomem.testing.scripted_llm import RecordedRequest, Rule, ScriptedLLMServer


def _plan(request: RecordedRequest) -> str:
    """A valid EB-format plan built from the action list the planner was shown."""
    ids = dict(re.findall(r"action id (\d+): (find a [A-Za-z]+)\n", request.all_text))
    chosen = list(ids.items())[:2]
    plan = [{"action_id": int(i), "action_name": name} for i, name in chosen]
    return (
        "Sure! Here is my plan:\n```json\n"
        + json.dumps(
            {
                "reasoning_and_reflection": "look around",
                "language_plan": "find things",
                "executable_plan": plan,
            }
        )
        + "\n```"
    )


def test_llm_agent_runs_episodes_and_counts_output_errors(tmp_path: Path) -> None:
    rules = [
        Rule(role="planner", reply='{"executable_plan": [{"action_id": 1, "action_', times=1),  # truncated
        Rule(role="planner", reply="I think the robot should go to the kitchen.", times=1),  # prose, no JSON
        Rule(
            role="planner",
            reply=json.dumps(
                {
                    "reasoning_and_reflection": "",
                    "language_plan": "",
                    "executable_plan": [{"action_id": 99999, "action_name": "teleport to the moon"}],
                }
            ),
            times=1,
        ),
        Rule(role="planner", reply=_plan),
        Rule(
            role="critic", reply='{"reasoning": "too early", "ok": false, "feedback": "look first"}', times=1
        ),
        Rule(role="critic", reply='{"reasoning": "fine", "ok": true, "feedback": ""}'),
        Rule(role="thalamus.summary", reply='{"summary": "I moved."}'),
        Rule(role="thalamus.queries", reply='{"queries": ["mug", "cabinet", "kitchen", "counter"]}'),
    ]
    with ScriptedLLMServer(rules) as server:
        code = main(
            [
                "eval",
                "--config",
                "configs/llm_agent.yaml",
                "--subset",
                "base",
                "--episodes",
                "2",
                "--no-progress",
                "--run-dir",
                str(tmp_path / "run"),
                f"agent.llm.base_url={server.base_url}",
                "agent.llm.model=scripted",
                "agent.llm.max_retries=0",
                "agent.llm.repair_attempts=0",
                "agent.planner.max_retries=0",
                "agent.max_output_errors=5",
                "env.max_steps=8",
                "agent.memory.embedder.type=hashing",
                "agent.memory.vector.type=exact",
            ]
        )
        roles = {r.role for r in server.chat_requests}
    assert code == 0
    first = json.loads((tmp_path / "run" / "base" / "results" / "episode_1_final_res.json").read_text())
    assert first["planner_output_error"] == 3  # truncated, prose, unknown action
    assert first["num_steps"] > 0
    assert roles == {"planner", "critic", "thalamus.summary", "thalamus.queries"}
    usage = json.loads((tmp_path / "run" / "llm_usage.json").read_text())
    assert usage["roles"]["planner"]["calls"] >= 4
    assert usage["roles"]["critic"]["calls"] >= 1
    steps = json.loads((tmp_path / "run" / "base" / "steps" / "episode_1_steps.json").read_text())
    assert all(s["action"].startswith("find a ") for s in steps)
