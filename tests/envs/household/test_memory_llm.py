"""The memory suite as an LLM researcher's lifelong benchmark: one ``memory_v4`` sequence (``jammed``: two
setups, four scored tasks) run end to end by the paper preset (``configs/robomemory.yaml``) through
``robomem eval`` against the real scripted OpenAI-compatible server on 127.0.0.1. The scripted planner tries
the jammed drawer once in the first setup; the scored tasks' planner prompts must then carry what that
episode stored (the failed open and its reason), read back from memory."""

from __future__ import annotations

import json
import re
from pathlib import Path

from envs.household.suites import load_suite
from robomem.cli.main import main
from robomem.testing.role_replies import PAPER_ROLES, paper_rules
from robomem.testing.scripted_llm import RecordedRequest, Rule, ScriptedLLMServer

_ACTION = re.compile(r"action id (\d+): ([^\n]+)\n")
_FAILED = re.compile(r"\d+\. ([^\n]+?) -> FAILED: ([^\n]+)")


def test_the_paper_preset_runs_a_lifelong_memory_sequence_and_plans_with_what_it_stored(
    tmp_path: Path,
) -> None:
    suite = load_suite("memory_v4", "alfred")
    sequence = next(s for s in suite.lifelong if s.sequence_id == "alfred-jammed-01")
    setups = [t for t in sequence.tasks if t.subset == "jammed_setup"]
    scored = [t for t in sequence.tasks if t.subset == "jammed"]
    jam = sorted(suite.world(sequence.scene).jammed)[0]  # the test's script, not the agent, reads this

    def try_the_jammed_drawer(request: RecordedRequest) -> str:
        ids = {name: int(i) for i, name in _ACTION.findall(request.all_text)}
        plan = [{"action_id": ids[a], "action_name": a} for a in (f"find a {jam}", f"open the {jam}")]
        return json.dumps({"reasoning_and_reflection": "", "language_plan": "", "executable_plan": plan})

    def account(request: RecordedRequest) -> str:
        """A careful model's episodic account: what failed, and why, in the trajectory it is shown."""
        failures = _FAILED.findall(request.last_user_text)
        said = "; ".join(f"'{a}' failed: {why}" for a, why in failures) or "nothing failed"
        return json.dumps({"account": f"I tried the task; {said}."})

    rules = [
        Rule(role="planner", anywhere=setups[0].instruction, reply=try_the_jammed_drawer, times=1),
        Rule(role="memory.episodic.creator", reply=account),
    ]
    run = tmp_path / "run"
    with ScriptedLLMServer([*rules, *paper_rules()]) as server:
        code = main(
            [
                "eval",
                "--config",
                "configs/robomemory.yaml",
                "--no-progress",
                "--run-dir",
                str(run),
                f"agent.llm.base_url={server.base_url}",
                "agent.llm.model=scripted",
                "agent.llm.max_retries=0",
                "agent.memory.embedder.type=hashing",
                "agent.memory.vector.type=exact",
                "env.profile=alfred",
                "env.suite=memory_v4",
                "eval.mode=lifelong",
                "eval.subsets=[jammed]",
                "eval.episodes=1",
                "agent.max_steps=4",  # a few steps per episode are enough to store and recall something
            ]
        )
        requests = list(server.chat_requests)
    assert code == 0
    # Every task of the sequence ran and was written, setups and scored tasks apart.
    assert len(list((run / "jammed_setup" / "results").glob("episode_*_final_res.json"))) == len(setups)
    results = sorted((run / "jammed" / "results").glob("episode_*_final_res.json"))
    assert {json.loads(p.read_text())["task_id"] for p in results} == {t.task_id for t in scored}
    # Every role, memory's included, was called and none fell back.
    usage = json.loads((run / "llm_usage.json").read_text())["roles"]
    for role in PAPER_ROLES:
        assert usage[role]["calls"] >= 1 and usage[role]["deterministic_fallbacks"] == 0, role
    stored = [json.loads(line) for line in (run / "memory" / "episodes.jsonl").read_text().splitlines()]
    assert len(stored) == len(sequence.tasks)
    # The trajectory logged beside the first setup's episodic item has the failed open and its reason.
    assert f"open the {jam} -> Open action failed. The {jam} is jammed" in stored[0]["text"]
    # The scored tasks were planned with it: that episode, retrieved from memory, is in the planner's prompt
    # (its instruction and the failed open with its reason).
    for task in scored:
        prompts = [r.all_text for r in requests if r.role == "planner" and task.instruction in r.all_text]
        assert prompts, task.task_id
        assert any(setups[0].instruction in p and f"The {jam} is jammed" in p for p in prompts), task.task_id
