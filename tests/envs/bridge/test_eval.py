"""The full RoboMemory agent (symbolic planner, critic, thalamus and all memory stores, offline) evaluated
through the bridge, against the household simulator in a separate process over a real socket."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from robomem.agents import AGENTS
from robomem.cli.main import main
from robomem.config import Config, load_config
from robomem.eval.harness import evaluate
from robomem.eval.metrics import Summary
from tests.envs.bridge.conftest import StartServer

ROOT = Path(__file__).resolve().parents[3]

EVAL = ["agent.type=robomem", "eval.subsets=[base, spatial]", "eval.episodes=2"]


def _evaluate(cfg: Config, run_dir: Path) -> Summary:
    from envs.registry import ENVS

    with ENVS.build(cfg.env) as env:
        return evaluate(cfg, env, AGENTS.build(cfg.agent), run_dir, progress=False)


def _records(run_dir: Path, subset: str) -> list[dict[str, object]]:
    files = sorted((run_dir / subset / "results").glob("episode_*_final_res.json"))
    return [json.loads(f.read_text(encoding="utf-8")) for f in files]


def test_the_agent_scores_the_same_through_the_bridge(household_server: StartServer, tmp_path: Path) -> None:
    server = household_server()
    bridged = _evaluate(
        load_config(None, ["env.type=eb_bridge", f"env.port={server.port}", *EVAL]), tmp_path / "b"
    )
    local = _evaluate(load_config(None, ["env.type=household", *EVAL]), tmp_path / "l")
    assert bridged.overall.n == local.overall.n == 4
    assert bridged.overall.errors == 0
    assert bridged.overall.sr == local.overall.sr
    assert bridged.overall.gc == local.overall.gc
    assert bridged.overall.mean_steps == local.overall.mean_steps
    keys = ("task_id", "task_success", "task_progress", "num_steps", "num_invalid_actions", "planner_steps")
    for subset in ("base", "spatial"):
        got, want = _records(tmp_path / "b", subset), _records(tmp_path / "l", subset)
        assert [{k: r[k] for k in keys} for r in got] == [{k: r[k] for k in keys} for r in want]


def test_a_server_crash_fails_the_episode_and_the_run_goes_on(
    household_server: StartServer, tmp_path: Path
) -> None:
    server = household_server("--crash-after-steps", "3")
    cfg = load_config(
        None, ["env.type=eb_bridge", f"env.port={server.port}", "env.connect_timeout_s=5", *EVAL]
    )
    run_dir = tmp_path / "run"
    summary = _evaluate(cfg, run_dir)
    assert server.proc.wait(timeout=30) == 70  # it really died, mid-episode
    assert summary.overall.n == 4 and summary.overall.errors == 4 and summary.overall.sr == 0.0
    first, second = _records(run_dir, "base")
    assert first["num_steps"] == 3  # the three steps before the crash were recorded
    assert "EnvConnectionError" in str(first["error"])
    assert f"127.0.0.1:{server.port}" in str(first["error"])
    assert "closed the connection during step" in str(first["error"])
    assert "Connection refused" in str(second["error"])  # later episodes fail fast, not hang
    assert "start the server" in str(second["error"])
    assert (run_dir / "summary.json").exists()
    # The agent saved the crashed episode to memory before the error ended it.
    episodes = (run_dir / "memory" / "episodes.jsonl").read_text(encoding="utf-8").splitlines()
    assert any(json.loads(line)["episode_id"].endswith("base/1") for line in episodes)
    assert "--crash-after-steps reached" in server.log_text()


def _documented_command() -> list[str]:
    """The `robomem eval` command of deploy/embodiedbench/README.md §7, as a user would paste it."""
    text = (ROOT / "deploy" / "embodiedbench" / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## 7. Trying the bridge without EmbodiedBench") :]
    block = section[
        section.index("```bash") + len("```bash") : section.index("```", section.index("```bash") + 7)
    ]
    lines = block.replace("\\\n", " ").splitlines()
    (command,) = [line for line in lines if "robomem eval" in line]
    argv = shlex.split(command)
    assert argv[0] == ".venv/bin/robomem", argv
    return argv[1:]


def test_the_documented_offline_bridge_command_runs_offline(
    household_server: StartServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = household_server()
    monkeypatch.chdir(ROOT)  # the command's config path is relative to the checkout
    run_dir = tmp_path / "run"
    argv = [*_documented_command(), f"env.port={server.port}", "--run-dir", str(run_dir), "--no-progress"]
    assert main(argv) == 0
    assert json.loads((run_dir / "summary.json").read_text())["overall"]["sr"] == 1.0
    # No role may reach for the preset's LLM endpoint: an agent without LLM roles writes no usage file.
    assert not (run_dir / "llm_usage.json").exists()
