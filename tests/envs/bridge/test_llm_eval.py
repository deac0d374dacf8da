"""The documented EB-ALFRED command (deploy/embodiedbench/README.md), end to end: ``robomem eval --config
configs/eb_bridge_alfred.yaml`` with the LLM agent, against ``envs/bridge/server.py --backend eb_alfred`` in
a subprocess and an OpenAI-compatible endpoint on 127.0.0.1.

Faked: EmbodiedBench (the fake ``embodiedbench`` package of ``fake_embodiedbench.py``: no Unity here) and the
model (``ScriptedLLMServer`` replays a plan built from the action list in the prompt: no model here). The
server script, sockets, CLI, agent, HTTP client and result files are real.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path

from robomem.cli.main import main
from robomem.testing.role_replies import paper_rules
from robomem.testing.scripted_llm import RecordedRequest, Rule, ScriptedLLMServer
from tests.envs.bridge.conftest import SERVER_PY, server_process
from tests.envs.bridge.fake_embodiedbench import write_fake_embodiedbench


def _plan(request: RecordedRequest) -> str:
    ids = dict((name, int(i)) for i, name in re.findall(r"action id (\d+): ([^\n]+)\n", request.all_text))
    steps = ["pick up the Mug", "put down the object in hand"]
    plan = [{"action_id": ids[name], "action_name": name} for name in steps]
    reply = {"visual_state_description": "a mug", "reasoning_and_reflection": "", "language_plan": ""}
    return json.dumps({**reply, "executable_plan": plan})


def test_eb_alfred_preset_with_an_llm_endpoint(tmp_path: Path) -> None:
    fake = write_fake_embodiedbench(tmp_path / "fake_eb")
    environ = {"PYTHONPATH": str(fake), "FAKE_EB_LOG": str(tmp_path / "eb.jsonl"), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, str(SERVER_PY), "--backend", "eb_alfred", "--port", "0"]
    rules = [
        Rule(role="planner", reply=_plan),
        Rule(role="critic", reply='{"reasoning": "fine", "ok": true, "feedback": ""}'),
        Rule(role="thalamus.summary", reply='{"summary": "I see a mug."}'),
        Rule(role="thalamus.queries", reply='{"queries": ["mug"]}'),
        *paper_rules(),  # the preset is the paper's: every memory operation asks the model too
    ]
    run_dir = tmp_path / "run"
    with (
        server_process(command, tmp_path / "server.log", cwd=tmp_path, env=environ) as server,
        ScriptedLLMServer(rules) as llm,
    ):
        code = main(
            [
                "eval",
                "--config",
                "configs/eb_bridge_alfred.yaml",
                "--subset",
                "base",
                "--episodes",
                "2",
                "--no-progress",
                "--run-dir",
                str(run_dir),
                f"env.port={server.port}",
                f"agent.llm.base_url={llm.base_url}",
                "agent.llm.model=scripted-vlm",
                "agent.memory.embedder.type=hashing",
                "agent.memory.vector.type=exact",
            ]
        )
        planner_requests = [r for r in llm.chat_requests if r.headers.get("x-robomem-role") == "planner"]
    assert code == 0
    results = sorted((run_dir / "base" / "results").glob("episode_*_final_res.json"))
    records = [json.loads(p.read_text(encoding="utf-8")) for p in results]
    assert [r["task_success"] for r in records] == [1.0, 1.0]
    assert [r["instruction"] for r in records] == [
        "base: put mug 0 in a cabinet",
        "base: put mug 1 in a cabinet",
    ]
    assert all("error" not in r for r in records)
    # The head camera frame reached the model as an image_url data URL (EB's vision input).
    images = [
        part["image_url"]["url"]
        for request in planner_requests
        for message in request.messages
        if isinstance(message.get("content"), list)
        for part in message["content"]
        if part.get("type") == "image_url"
    ]
    assert images and images[0].startswith("data:image/png;base64,")
    assert base64.b64decode(images[0].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
