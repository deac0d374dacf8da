"""The RoboMemory agent's memory lifecycle: the last step starts the episode's consolidation in its update
fan-out, and long-term memory is written exactly once per episode."""

from __future__ import annotations

from pathlib import Path

import pytest

from envs.registry import ENVS
from robomem.agents import AGENTS
from robomem.agents.robomemory import RoboMemoryAgent
from robomem.config import load_config
from robomem.errors import ConfigError
from robomem.eval.harness import evaluate
from tests.robomem.scripted_env import ScriptedTestEnv, make_task


def test_each_episode_is_consolidated_once(tmp_path: Path) -> None:
    cfg = load_config(None, ["agent.type=robomem", "eval.subsets=[base]", "eval.episodes=2"])
    agent = AGENTS.build(cfg.agent)
    assert isinstance(agent, RoboMemoryAgent)
    with ENVS.build(cfg.env) as env:
        memory_phases: list[str] = []
        original_end = agent.end_run

        def end_run() -> None:  # read the memory's fan-out timings before the run closes it
            assert agent.memory is not None
            memory_phases.extend(t.phase for t in agent.memory.timings)
            original_end()

        agent.end_run = end_run  # type: ignore[method-assign]
        summary = evaluate(cfg, env, agent, tmp_path / "run", progress=False)
    assert summary.overall.n == 2
    assert memory_phases.count("end") == 2, "each episode is consolidated once"
    episodes = (tmp_path / "run" / "memory" / "episodes.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(episodes) == 2


def test_the_symbolic_planner_refuses_tasks_without_a_goal_before_the_run(tmp_path: Path) -> None:
    # Tasks from a file (a real robot's) carry no structured goal: the symbolic planner would end every
    # episode at step 0 with an empty plan. One clear error instead, and nothing written.
    cfg = load_config(None, ["agent.type=robomem", "eval.subsets=[base]"])
    agent = AGENTS.build(cfg.agent)
    with pytest.raises(ConfigError, match=r"agent.planner.type: the symbolic planner needs tasks with a str"):
        evaluate(cfg, ScriptedTestEnv(), agent, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()
    # An LLM planner takes them (the check runs before anything needs the endpoint).
    llm = load_config(
        None,
        [
            "agent.type=robomem",
            "agent.planner={type: llm}",
            "agent.llm={base_url: 'http://127.0.0.1:9/v1', model: m}",
        ],
    )
    AGENTS.build(llm.agent).check_tasks([make_task("t", "base")])


def test_a_resumed_run_keeps_the_earlier_llm_usage(tmp_path: Path) -> None:
    cfg = load_config(
        None,
        [
            "agent.type=robomem",
            "agent.planner.type=llm",  # a role that uses the LLM (never called here)
            "agent.memory.stores=[]",
            "agent.llm={base_url: 'http://127.0.0.1:9/v1', model: m}",
        ],
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    for _process in range(3):  # the first run and two resumes, each writing its own part on exit
        agent = AGENTS.build(cfg.agent)
        agent.begin_run(run_dir)
        agent.end_run()
    names = sorted(p.name for p in run_dir.glob("llm_usage*.json"))
    assert names == ["llm_usage.json", "llm_usage.part1.json", "llm_usage.part2.json"]
