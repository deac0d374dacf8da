"""Third-party planners plug in through the ``robomem.planners`` entry-point group — exercised with a real
distribution's metadata on ``sys.path`` (what ``pip install`` of a plug-in package produces)."""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from modules.prefrontal.registry import PLANNERS
from robomem.agents import AGENTS, RoboMemoryAgentConfig
from robomem.agents.robomemory import RoboMemoryAgent
from robomem.cli.main import main
from robomem.config import load_config
from robomem.errors import RegistryError

PLANNER_MODULE = textwrap.dedent(
    '''
    from typing import Literal

    from pydantic import BaseModel

    from modules.prefrontal.base import Plan, PlanningInput


    class GreedyFinder:
        """Finds every thing the goal mentions, once, then stops."""

        class Config(BaseModel):
            type: Literal["greedy_finder"] = "greedy_finder"
            max_plan_len: int = 3

        def __init__(self, config: "GreedyFinder.Config", *, llm: object = None) -> None:
            self.config = config
            self.llm = llm

        def plan(self, inp: PlanningInput) -> Plan:
            done = {h.action for h in inp.history}
            wanted = [f"find a {c.object.type}" for c in inp.task.goal]
            actions = [a for a in dict.fromkeys(wanted) if a in inp.skills and a not in done]
            return Plan(tuple(actions[: self.config.max_plan_len]), empty=not actions)
    '''
)


@pytest.fixture
def installed_plugin(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "greedy_plugin.py").write_text(PLANNER_MODULE, encoding="utf-8")
    dist = tmp_path / "greedy_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: greedy-plugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[robomem.planners]\ngreedy_finder = greedy_plugin:GreedyFinder\n", encoding="utf-8"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("greedy_plugin", None)
        if "greedy_finder" in PLANNERS:
            PLANNERS.unregister("greedy_finder")


def test_entry_point_planner_is_found_by_its_config_type(installed_plugin: Path) -> None:
    cfg = load_config(
        None, ["agent.type=robomem", "agent.planner.type=greedy_finder", "agent.planner.max_plan_len=2"]
    )
    assert isinstance(cfg.agent, RoboMemoryAgentConfig)
    assert type(cfg.agent.planner).__qualname__ == "GreedyFinder.Config"
    assert cfg.agent.planner.model_dump() == {"type": "greedy_finder", "max_plan_len": 2}
    assert PLANNERS.load_entry_points() == []  # already registered: loading again adds nothing


def test_entry_point_planner_drives_an_evaluation(installed_plugin: Path, tmp_path: Path) -> None:
    code = main(
        [
            "eval",
            "--episodes",
            "1",
            "--subset",
            "base",
            "--no-progress",
            "--run-dir",
            str(tmp_path / "run"),
            "agent.type=robomem",
            "agent.planner.type=greedy_finder",
            "agent.critic=null",
            "agent.memory.embedder.type=hashing",
            "agent.memory.vector.type=exact",
        ]
    )
    assert code == 0
    steps = (tmp_path / "run" / "base" / "steps" / "episode_1_steps.json").read_text()
    assert '"action": "find a ' in steps


def test_an_entry_point_planner_gets_the_llm_client_when_one_is_configured(
    installed_plugin: Path, tmp_path: Path
) -> None:
    # No built-in role uses the LLM here: the plug-in planner alone may, so the client is built for it.
    overrides = [
        "agent.type=robomem",
        "agent.planner.type=greedy_finder",
        "agent.memory.stores=[]",
        "agent.llm={base_url: 'http://127.0.0.1:9/v1', model: m}",  # never called here
    ]
    agent = AGENTS.build(load_config(None, overrides).agent)
    assert isinstance(agent, RoboMemoryAgent)
    agent.begin_run(tmp_path)
    try:
        assert agent.llm is not None and getattr(agent.planner, "llm", None) is agent.llm
    finally:
        agent.end_run()
    without = AGENTS.build(load_config(None, overrides[:3]).agent)
    assert isinstance(without, RoboMemoryAgent)
    (tmp_path / "b").mkdir()
    without.begin_run(tmp_path / "b")
    try:
        assert getattr(without.planner, "llm", "?") is None
    finally:
        without.end_run()


def test_unknown_planner_type_lists_what_exists() -> None:
    from robomem.errors import ConfigError

    with pytest.raises(
        ConfigError, match=r"agent.planner.type: unknown planner type 'nope'; available: llm, symbolic"
    ):
        load_config(None, ["agent.type=robomem", "agent.planner.type=nope"])


def test_a_broken_entry_point_does_not_disable_the_others(tmp_path: Path) -> None:
    (tmp_path / "mixed_plugin.py").write_text(
        PLANNER_MODULE + "\n\nclass NoConfig:\n    pass\n", encoding="utf-8"
    )
    dist = tmp_path / "mixed_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: mixed-plugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[robomem.planners]\n"
        "greedy_finder = mixed_plugin:GreedyFinder\n"
        "no_config = mixed_plugin:NoConfig\n"
        "misnamed = mixed_plugin:GreedyFinder\n"
        "missing = mixed_plugin_gone:Planner\n",
        encoding="utf-8",
    )
    sys.path.insert(0, str(tmp_path))
    try:
        cfg = load_config(None, ["agent.type=robomem", "agent.planner.type=greedy_finder"])  # still works
        assert isinstance(cfg.agent, RoboMemoryAgentConfig)
        assert getattr(cfg.agent.planner, "type", None) == "greedy_finder"
        for name, reason in (
            ("no_config", "has no pydantic `Config`"),
            ("misnamed", "names a class whose Config.type defaults to 'greedy_finder', not 'misnamed'"),
            ("missing", "cannot be imported (ModuleNotFoundError"),
        ):
            with pytest.raises(RegistryError, match=re.escape(f"planner entry point {name!r}")) as caught:
                load_config(None, ["agent.type=robomem", f"agent.planner.type={name}"])
            assert reason in str(caught.value)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("mixed_plugin", None)
        if "greedy_finder" in PLANNERS:
            PLANNERS.unregister("greedy_finder")
        PLANNERS.broken.clear()
