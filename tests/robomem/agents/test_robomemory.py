"""The RoboMemory agent's memory lifecycle: the last step starts the episode's consolidation in its update
fan-out, and long-term memory is written exactly once per episode."""

from __future__ import annotations

from pathlib import Path

from envs.registry import ENVS
from robomem.agents import AGENTS
from robomem.agents.robomemory import RoboMemoryAgent
from robomem.config import load_config
from robomem.eval.harness import evaluate


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
