"""The benches measure the agent through its public seams (``RoboMemoryAgent(node_middleware=...,
memory_opener=..., planner_wrapper=...)``, :class:`envs.wrapper.EnvWrapper`): none patches a module, replaces
an agent's part after it started, or imports a private name of the agent."""

from __future__ import annotations

import re
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"

PATTERNS = {
    "monkeypatching": re.compile(r"\bmonkeypatch\b|\bsetattr\(|mock\.patch|\bpatch\.object\("),
    "importing the loop's node module to change it": re.compile(
        r"import robomem\.nodes\b|from robomem import nodes"
    ),
    "replacing an agent's part after it started": re.compile(
        r"\bagent\.(planner|critic|thalamus|executor|memory|llm|trace|_\w+) = "
    ),
    "a private name of the agent": re.compile(
        r"from robomem\.agents[\w.]* import [^\n]*\b_\w+|robomem\.agents[\w.]*\._\w+|\bagent\._\w+"
    ),
}


def offences(text: str) -> list[str]:
    return [what for what, pattern in PATTERNS.items() if pattern.search(text)]


def test_the_benches_use_public_seams_only() -> None:
    found = {
        path.name: what
        for path in sorted(BENCH.glob("*.py"))
        if (what := offences(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_check_sees_each_kind_of_patching() -> None:
    assert offences("setattr(nodes_module, name, fn)") == ["monkeypatching"]
    assert offences("import robomem.nodes as nodes_module") == [
        "importing the loop's node module to change it"
    ]
    assert offences("agent.planner = Probe(agent.planner)") == ["replacing an agent's part after it started"]
    assert offences("from robomem.agents.robomemory import _replay") == ["a private name of the agent"]
    assert offences("if agent.planner == other:") == []
    assert offences('overrides = ("agent.critic=null",)') == [], "a config override is no patch"
    # The old bench/step_overhead.py swapped the nodes and the agent module's memory factory.
    assert offences("setattr(agent_module, _OPEN_MEMORY, open_timed)") == ["monkeypatching"]
