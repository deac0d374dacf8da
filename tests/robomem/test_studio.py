"""``langgraph.json`` for LangGraph Studio / ``langgraph dev``: its graph factory loads the way the server
loads it (a module imported from its file path), builds the runtime from a preset, and each run of the graph
is one real episode on the household simulator, with memory and a step trace. The dev server itself is not
started: langgraph-cli is not installed here (and the Studio UI is a hosted web page)."""

from __future__ import annotations

import importlib.util
import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from langgraph.graph.state import CompiledStateGraph

ROOT = Path(__file__).resolve().parents[2]


def _load_factory(spec: str) -> tuple[Any, Any]:
    path, _, attr = spec.partition(":")
    module_spec = importlib.util.spec_from_file_location("robomem_studio_graph", ROOT / path)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module, getattr(module, attr)


def test_the_langgraph_json_factory_runs_episodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = json.loads((ROOT / "langgraph.json").read_text(encoding="utf-8"))
    assert manifest["dependencies"] == ["."]
    module, factory = _load_factory(manifest["graphs"]["robomem"])
    run_dir = tmp_path / "studio run"
    overrides = [f"run.dir={json.dumps(str(run_dir))}", "eval.subsets=[base]", "eval.episodes=2"]
    monkeypatch.setenv("ROBOMEM_CONFIG", str(ROOT / "configs" / "demo.yaml"))
    monkeypatch.setenv("ROBOMEM_OVERRIDES", shlex.join(overrides))
    graph = factory()
    try:
        assert isinstance(graph, CompiledStateGraph)
        assert set(graph.get_graph().nodes) >= {"reset", "perceive", "memory_update", "plan", "execute"}
        assert factory() is not graph  # a new graph, the same session
        assert len(module._SESSIONS) == 1
        for n in (1, 2):  # each run is the next planned episode
            state = graph.invoke({}, {"recursion_limit": 1000})
            assert state["done"] and state["history"], state.get("stop_reason")
            trace = run_dir / "base" / "trace" / f"episode_{n}_trace.jsonl"
            records = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines()]
            assert [r["action"] for r in records if not r.get("final")] == [
                h["action"] for h in state["history"]
            ]
    finally:
        for session in module._SESSIONS.values():
            session.close()
    episodes = (run_dir / "memory" / "episodes.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(episodes) == 2  # both consolidated
