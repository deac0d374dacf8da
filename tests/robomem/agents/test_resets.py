"""Memory respects resets: an episode in a restored scene (EmbodiedBench, the simulator's episodic mode)
sees nothing of an earlier episode's world in its prompts, while a lifelong run in a persistent house still
remembers it. The LLM planner's prompts are read off a real OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envs.household.env import HouseholdEnv
from envs.registry import ENVS
from envs.task import Task
from robomem.agents import AGENTS
from robomem.agents.robomemory import RoboMemoryAgent
from robomem.config import load_config
from robomem.eval.harness import RecordingEnv
from robomem.run_id import read_run_id
from robomem.testing.scripted_llm import RecordedRequest, Rule, ScriptedLLMServer


def _pick_planner() -> Callable[[RecordedRequest], str]:
    """A planner that finds and picks up objects, one candidate after another, until it holds one; then it
    declares the task done (an empty plan), so the episode ends with the robot holding it."""
    tried: set[str] = set()

    def reply(request: RecordedRequest) -> str:
        text = request.last_user_text
        plan: list[dict[str, object]] = []
        if "You are holding nothing" in text:
            finds = {name: int(i) for i, name in re.findall(r"action id (\d+): find a ([A-Za-z]+)\n", text)}
            for i, name in re.findall(r"action id (\d+): pick up the ([A-Za-z]+)\n", text):
                if name in finds and name not in tried:
                    tried.add(name)
                    plan = [
                        {"action_id": finds[name], "action_name": f"find a {name}"},
                        {"action_id": int(i), "action_name": f"pick up the {name}"},
                    ]
                    break
        return json.dumps({"reasoning_and_reflection": "", "language_plan": "", "executable_plan": plan})

    return reply


def _two_tasks_in_one_scene(env: HouseholdEnv) -> tuple[Task, Task]:
    tasks = env.tasks("base")
    scenes = Counter(t.scene for t in tasks)
    scene = next(s for s, n in scenes.items() if n >= 2)
    first, second = [t for t in tasks if t.scene == scene][:2]
    return first, second


def _planner_prompts(keep_world: bool, run_dir: Path, *extra: str) -> tuple[list[str], list[str]]:
    """The planner prompts of two episodes in the same scene, the second one restored or continued."""
    with ScriptedLLMServer([Rule(role="planner", reply=_pick_planner())]) as server:
        cfg = load_config(
            None,
            [
                "agent.type=robomem",
                "agent.planner={type: llm, max_retries: 0}",
                f"agent.llm={{base_url: '{server.base_url}', model: scripted, max_retries: 0}}",
                "agent.critic=null",
                "agent.memory.stores=[temporal, spatial]",
                "agent.memory.embedder.type=hashing",
                "agent.memory.vector.type=exact",
                "env.max_steps=30",
                *extra,
            ],
        )
        agent = AGENTS.build(cfg.agent)
        assert isinstance(agent, RoboMemoryAgent)
        env = ENVS.build(cfg.env)
        assert isinstance(env, HouseholdEnv)
        recorder = RecordingEnv(env)
        first, second = _two_tasks_in_one_scene(env)
        agent.begin_run(run_dir)
        prompts: list[list[str]] = []
        try:
            for n, (task, keep) in enumerate(((first, False), (second, keep_world)), start=1):
                server.clear_requests()
                recorder.start_episode()
                observation = recorder.reset(task, keep_world=keep)
                agent.run_episode(recorder, task, observation, episode_id=f"base/{n}")
                prompts.append([r.last_user_text for r in server.chat_requests if r.role == "planner"])
        finally:
            agent.end_run()
            env.close()
    return prompts[0], prompts[1]


def _memory_part(prompt: str) -> str:
    return prompt[prompt.index("### Spatial memory") :]


def test_a_restored_scene_sees_nothing_of_the_previous_episode(tmp_path: Path) -> None:
    first, second = _planner_prompts(False, tmp_path / "run")
    # The first episode ended holding something (so the checks below can fail).
    assert re.search(r"You are holding [A-Z]", first[-1])
    opening = _memory_part(second[0])
    assert "I holding" not in opening, "the robot's hand does not survive a reset"
    # Episodes are counted per graph: a restored scene's graph starts at ep1, and at its first prompt all it
    # knows is what its own step 0 saw.
    assert set(re.findall(r"seen (ep\d+/step\d+)", opening)) == {"ep1/step0"}


def test_a_persistent_house_is_remembered_in_the_next_episode(tmp_path: Path) -> None:
    first, second = _planner_prompts(True, tmp_path / "run")
    held = re.search(r"You are holding (\w+)", first[-1])
    assert held
    opening = _memory_part(second[0])
    assert "ep1/" in opening, "the house seen in the first episode is still known"
    assert f"I holding {held[1]}" in opening, "the robot still holds it, and memory says so"


def test_site_scope_keeps_one_graph_per_site_across_resets(tmp_path: Path) -> None:
    # The opt-in: facts from before the reset stay (stale where the scene was restored).
    _, second = _planner_prompts(False, tmp_path / "run", "agent.memory.spatial.scope=site")
    assert set(re.findall(r"seen (ep\d+/step\d+)", _memory_part(second[0]))) > {"ep2/step0"}


# ---- who judges success -------------------------------------------------------------------------------
class _RobotLikeHousehold(HouseholdEnv):
    """The simulator standing in for a robot: its score is not something the agent may know. (A test
    double only in this one attribute; a real robot is tested in tests/envs/ros.)"""

    privileged_success = False


def _episodes_after_giving_up(
    tmp_path: Path, env_cls: type[HouseholdEnv], *extra: str
) -> list[dict[str, Any]]:
    """One episode whose planner declares the task done at once (an empty plan): the simulator scores it a
    failure; the agent's own judgement is a success. Returns the raw episodic log."""
    done = json.dumps({"reasoning_and_reflection": "", "language_plan": "", "executable_plan": []})
    with ScriptedLLMServer([Rule(role="planner", reply=done)]) as server:
        cfg = load_config(
            None,
            [
                "agent.type=robomem",
                "agent.planner={type: llm, max_retries: 0}",
                f"agent.llm={{base_url: '{server.base_url}', model: scripted, max_retries: 0}}",
                "agent.memory.stores=[episodic]",
                "agent.memory.embedder.type=hashing",
                "agent.memory.vector.type=exact",
                *extra,
            ],
        )
        agent = AGENTS.build(cfg.agent)
        env = env_cls(cfg.env)  # type: ignore[arg-type]
        recorder = RecordingEnv(env)
        task = env.tasks("base")[0]
        agent.begin_run(tmp_path / "run")
        try:
            agent.run_episode(recorder, task, recorder.reset(task), episode_id="base/1")
        finally:
            agent.end_run()
            env.close()
    assert recorder.last_info is None or recorder.last_info["task_success"] == 0.0
    log = tmp_path / "run" / "memory" / "episodes.jsonl"
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def test_a_simulator_records_its_own_score_by_default(tmp_path: Path) -> None:
    (episode,) = _episodes_after_giving_up(tmp_path, HouseholdEnv)
    assert episode["success"] is False
    assert "outcome: failure (progress 0%)" in episode["text"]


def test_a_robot_records_the_agents_own_judgement_by_default(tmp_path: Path) -> None:
    (episode,) = _episodes_after_giving_up(tmp_path, _RobotLikeHousehold)
    assert episode["success"] is True
    assert "outcome: success (as the agent judged it)" in episode["text"]


def test_the_outcome_source_can_be_chosen(tmp_path: Path) -> None:
    (episode,) = _episodes_after_giving_up(tmp_path, HouseholdEnv, "agent.memory.outcome=agent")
    assert episode["success"] is True
    (episode,) = _episodes_after_giving_up(
        tmp_path / "b", _RobotLikeHousehold, "agent.memory.outcome=simulator"
    )
    assert episode["success"] is False


def test_memory_show_lists_each_worlds_graph_and_no_empty_pointer_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from robomem.cli.main import main

    run = tmp_path / "run"
    args = ["--subset", "base", "--episodes", "2", "--no-progress", "--run-dir", str(run)]
    assert main(["eval", "--config", "configs/demo.yaml", *args, "agent.memory.embedder.type=hashing"]) == 0
    capsys.readouterr()
    assert main(["memory", "show", "--memory-dir", str(run / "memory")]) == 0
    sites = re.findall(r"^spatial \[([^\]]+)\]", capsys.readouterr().out, re.M)
    # Each restored scene has its own graph, named after the episode that began it.
    run_id = read_run_id(run)
    assert sorted(sites) == sorted(f"{s}@{run_id}/base/{n}" for n, s in enumerate(_scenes(2), start=1))


def _scenes(n: int) -> list[str]:
    cfg = load_config(None, [])
    with ENVS.build(cfg.env) as env:
        return [t.scene for t in env.tasks("base")[:n]]
