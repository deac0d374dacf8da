"""A pool of bridge servers (``env.endpoints``) serving parallel workers: real household bridge servers on
127.0.0.1, one SIGKILLed mid-run (or crashing mid-episode); every episode is still run, once, with the
results of a run on the simulator in this process."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from envs.registry import ENVS
from robomem.agents import AGENTS
from robomem.config import Config, load_config
from robomem.errors import EnvConnectionError
from robomem.eval.harness import evaluate
from robomem.eval.metrics import Summary
from tests.envs.bridge.conftest import StartServer

EVAL = [
    "agent.type=robomem",
    "agent.memory.embedder.type=hashing",
    "agent.memory.vector.type=exact",
    "eval.subsets=[base, spatial]",
    "eval.episodes=5",
]
KEYS = ("task_id", "task_success", "task_progress", "num_steps", "num_invalid_actions", "planner_steps")


def _evaluate(cfg: Config, run_dir: Path) -> Summary:
    with ENVS.build(cfg.env) as env:
        return evaluate(cfg, env, AGENTS.build(cfg.agent), run_dir, progress=False)


def _records(run_dir: Path) -> list[dict[str, Any]]:
    out = []
    for subset in ("base", "spatial"):
        for n in range(1, 6):
            data = json.loads((run_dir / subset / "results" / f"episode_{n}_final_res.json").read_text())
            out.append({k: data[k] for k in KEYS})
    return out


def _pool(ports: list[int]) -> str:
    return "env.endpoints=" + json.dumps([f"127.0.0.1:{p}" for p in ports])


def _finished(run_dir: Path) -> int:
    return len(list(run_dir.glob("*/results/episode_*_final_res.json")))


def test_a_server_killed_mid_run_leaves_the_pool_and_no_episode_is_lost_or_counted_twice(
    household_server: StartServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    servers = [household_server() for _ in range(3)]
    local = tmp_path / "local"
    _evaluate(load_config(None, ["env.type=household", *EVAL]), local)
    run_dir = tmp_path / "pool"
    cfg = load_config(
        None,
        [
            "env.type=eb_bridge",
            _pool([s.port for s in servers]),
            "eval.workers=2",
            "eval.executor=threads",
            *EVAL,
        ],
    )
    victim = servers[0]  # worker 1 starts on the first endpoint

    def kill_mid_run() -> None:
        deadline = time.monotonic() + 300
        while _finished(run_dir) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(victim.proc.pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_mid_run, daemon=True)
    killer.start()
    with caplog.at_level(logging.WARNING, logger="envs.bridge.client"):
        summary = _evaluate(cfg, run_dir)
    killer.join(timeout=30)
    assert victim.proc.wait(timeout=30) == -signal.SIGKILL
    assert _finished(run_dir) == 10  # the run went on past the kill
    assert summary.overall.n == 10 and summary.overall.errors == 0
    assert _records(run_dir) == _records(local)  # each episode once, as if nothing had happened
    dead = [r.getMessage() for r in caplog.records if "leaves the pool" in r.getMessage()]
    assert len(dead) == 1 and f"127.0.0.1:{victim.port} is dead" in dead[0], dead


def test_an_episode_whose_server_dies_mid_episode_moves_to_another(
    household_server: StartServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    crashing = household_server("--crash-after-steps", "3")  # dies during the first episode
    spare = household_server()
    local = tmp_path / "local"
    _evaluate(load_config(None, ["env.type=household", *EVAL]), local)
    run_dir = tmp_path / "pool"
    cfg = load_config(None, ["env.type=eb_bridge", _pool([crashing.port, spare.port]), *EVAL])
    with caplog.at_level(logging.WARNING, logger="envs.bridge.client"):
        summary = _evaluate(cfg, run_dir)
    assert crashing.proc.wait(timeout=30) == 70
    assert summary.overall.errors == 0
    assert _records(run_dir) == _records(local)
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"127.0.0.1:{crashing.port} is dead and leaves the pool" in m for m in messages), messages
    first = json.loads((local / "base" / "results" / "episode_1_final_res.json").read_text())["task_id"]
    moved = [m for m in messages if "moved from" in m]
    assert moved == [
        f"episode {first} moved from 127.0.0.1:{crashing.port} to 127.0.0.1:{spare.port} (3 steps replayed)"
    ]


def test_with_every_server_dead_the_episodes_fail_with_one_clear_error(
    household_server: StartServer, tmp_path: Path
) -> None:
    servers = [household_server() for _ in range(2)]
    cfg = load_config(None, ["env.type=eb_bridge", _pool([s.port for s in servers]), *EVAL])
    with ENVS.build(cfg.env) as env:
        task = env.tasks("base")[0]  # connected to one
        for server in servers:
            os.kill(server.proc.pid, signal.SIGKILL)
            server.proc.wait(timeout=30)
        with pytest.raises(EnvConnectionError, match="every bridge server of the pool is dead"):
            env.reset(task)
