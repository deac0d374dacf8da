"""The composition root's seams: a bench or a test wraps the planner and the memory opener through
:class:`RoboMemoryAgent`'s constructor instead of replacing attributes or patching modules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from envs.registry import ENVS
from modules.hippocampus.factory import open_memory
from modules.hippocampus.system import MemorySystem
from modules.prefrontal.base import Plan, Planner, PlanningInput
from robomem.agents.robomemory import RoboMemoryAgent
from robomem.agents.robomemory_config import RoboMemoryAgentConfig
from robomem.config import load_config
from robomem.eval.harness import evaluate


class _Counting:
    def __init__(self, inner: Planner) -> None:
        self.inner = inner
        self.inputs: list[PlanningInput] = []

    def plan(self, inp: PlanningInput) -> Plan:
        self.inputs.append(inp)
        return self.inner.plan(inp)


@pytest.mark.slow  # a whole episode of the real agent (about 1.5 s)
def test_the_planner_wrapper_and_memory_opener_are_what_the_loop_uses(tmp_path: Path) -> None:
    cfg = load_config(None, ["agent.type=robomem", "eval.subsets=[base]", "eval.episodes=1"])
    assert isinstance(cfg.agent, RoboMemoryAgentConfig)
    wrappers: list[_Counting] = []
    opened: list[tuple[Path, MemorySystem]] = []

    def wrap(planner: Planner) -> Planner:
        wrappers.append(_Counting(planner))
        return wrappers[-1]

    def opener(config: Any, memory_dir: Path, **kwargs: Any) -> MemorySystem:
        system = open_memory(config, memory_dir, **kwargs)
        opened.append((memory_dir, system))
        return system

    agent = RoboMemoryAgent(cfg.agent, planner_wrapper=wrap, memory_opener=opener)
    with ENVS.build(cfg.env) as env:
        summary = evaluate(cfg, env, agent, tmp_path / "run", progress=False)
    assert summary.overall.n == 1
    assert len(wrappers) == 1 and agent.planner is wrappers[0]
    assert wrappers[0].inputs, "the loop planned through the wrapper"
    assert wrappers[0].inputs[0].task.instruction
    assert [d for d, _ in opened] == [tmp_path / "run" / "memory"]
    assert agent.memory is opened[0][1]
