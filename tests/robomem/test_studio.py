"""``langgraph.json`` for LangGraph Studio / ``langgraph dev``: its graph factory loads the way the server
loads it (a module imported from its file path), builds the runtime from a preset, and each run of the graph
is one real episode on the household simulator, with memory and a step trace; and ``langgraph dev`` (the
studio extra) serves it offline. The Studio UI itself is a hosted web page, not tested here."""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from robomem.config import load_config
from robomem.state import initial_state
from robomem.trace import read_trace, trace_path

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
            records = read_trace(trace_path(run_dir, f"base/{n}"))
            assert [r["action"] for r in records if not r.get("final")] == [
                h["action"] for h in state["history"]
            ]
    finally:
        for session in module._SESSIONS.values():
            session.close()
    episodes = (run_dir / "memory" / "episodes.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(episodes) == 2  # both consolidated


@pytest.mark.skipif(
    importlib.util.find_spec("langgraph_api") is None,
    reason="langgraph-cli[inmem] (the studio extra, make studio) is not installed in this venv",
)
def test_langgraph_dev_serves_the_loop_offline(tmp_path: Path) -> None:
    """The real in-memory dev server on 127.0.0.1 (analytics off): it loads the factory from langgraph.json,
    and a run over its HTTP API, picking its episode by context, is one episode with its trace."""
    import socket
    import urllib.error
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run_dir = tmp_path / "run"
    env = {
        **os.environ,
        "LANGGRAPH_CLI_NO_ANALYTICS": "1",
        "ROBOMEM_CONFIG": str(ROOT / "configs" / "demo.yaml"),
        "ROBOMEM_OVERRIDES": shlex.join([f"run.dir={run_dir}", "eval.subsets=[base]"]),
    }
    # The server resolves the graph's path from its working directory and keeps its data there: a folder
    # that looks like the checkout.
    (tmp_path / "robomem").symlink_to(ROOT / "robomem")
    (tmp_path / "langgraph.json").write_bytes((ROOT / "langgraph.json").read_bytes())
    command = [str(Path(sys.executable).parent / "langgraph"), "dev", "--config", "langgraph.json"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-browser", "--no-reload", "--allow-blocking"]
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=log, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # bounded wait for the server to answer
            try:
                with urllib.request.urlopen(f"{base}/ok", timeout=5) as reply:
                    if reply.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, (tmp_path / "server.log").read_text(errors="replace")
                time.sleep(0.2)
        body = {"assistant_id": "robomem", "input": {}, "context": {"task": "base/2"}}
        request = urllib.request.Request(
            f"{base}/runs/wait", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=300) as reply:
            state = json.loads(reply.read())
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    assert state.get("done") and state.get("history"), state
    records = read_trace(trace_path(run_dir, "base/2"))
    assert [r["action"] for r in records if not r.get("final")] == [h["action"] for h in state["history"]]


class _OtherGrammarEnv(HouseholdEnv):
    """The household simulator declaring another skill grammar and agent name (as a ROS robot's env does)."""

    @property
    def grammar(self) -> str:
        return "textworld"

    @property
    def robot(self) -> str:
        return "the rover"


@pytest.mark.slow  # a Studio session: the environment, the agent, the episode plan
def test_a_studio_episode_speaks_the_environments_grammar(tmp_path: Path) -> None:
    """Studio built its episode apart from the agent's and left out the env's grammar and agent name, so its
    memory and prompts assumed EmbodiedBench's whatever the environment spoke."""
    from robomem.studio import StudioSession

    cfg = load_config(ROOT / "configs" / "demo.yaml", ["eval.subsets=[base]"])
    session = StudioSession(cfg, tmp_path / "run")
    try:
        session.env.close()
        session.env = _OtherGrammarEnv(HouseholdConfig())
        options: Any = {"task": "base/1"}  # a Studio run's context (StudioOptions)
        session.reset(initial_state({}), Runtime(context=options))
        episode = session.context().episode
        assert (episode.grammar, episode.robot) == ("textworld", "the rover")
        assert episode.episode_id == "run/base/1" and episode.site == session.context().task.scene
    finally:
        session.close()
