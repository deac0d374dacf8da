"""The full RoboMemory agent (``robomem eval --config configs/ros_robot.yaml``) against the reference skill
server, each in its own process, over real ROS 2: episodes succeed, step for step as with the simulator
in-process; when the server is killed or wedged
mid-episode, the step fails with a clear error within the timeouts, the episode is recorded as failed with
that error, what the episode taught is saved in memory, and a stop command goes out (seen by a third
participant)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from robomem.run_id import read_run_id
from robomem.storage import read_jsonl
from tests.envs.ros.conftest import ROOT, SimServer, StartServer, StopListener

pytestmark = pytest.mark.ros

RUN_TIMEOUT_S = 240.0
LIVENESS_S = 1.5
CANCEL_S = 1.5
SKILL_TIMEOUT_S = 3.0


def _eval(
    run_dir: Path,
    namespace: str,
    env: dict[str, str],
    *extra: str,
    witness: tuple[SimServer, StopListener] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``robomem eval``. With ``witness`` (a server started with ``--hold-until-sigusr1`` and a stop
    listener), the server is released only once the listener has discovered the client, so no stop the
    client sends can go out before the listener can hear it."""
    command = [
        sys.executable,
        "-m",
        "robomem",
        "eval",
        "--config",
        str(ROOT / "configs" / "ros_robot.yaml"),
        "--no-progress",
        "--run-dir",
        str(run_dir),
        "--subset",
        "base",  # the preset selects none: the simulator has six
        f"env.namespace={namespace}",
        "env.connect_timeout_s=60",
        "env.request_timeout_s=90",  # the first request may wait for the release
        *extra,  # later overrides win
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT
    ) as process:
        try:
            if witness is not None:
                server, listener = witness
                listener.wait_matched(1, timeout_s=60)
                server.process.send_signal(signal.SIGUSR1)
            stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
        except BaseException:
            process.kill()
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _result(run_dir: Path, n: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (run_dir / "base" / "results" / f"episode_{n}_final_res.json").read_text()
    )
    return data


def test_the_agent_completes_episodes_on_the_ros_robot(
    tmp_path: Path, start_server: StartServer, stop_listener: type[StopListener], ros_env: dict[str, str]
) -> None:
    server = start_server("--hold-until-sigusr1")
    listener = stop_listener(server.namespace)
    run_dir = tmp_path / "run"
    done = _eval(run_dir, server.namespace, ros_env, witness=(server, listener))
    assert done.returncode == 0, done.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["overall"]["n"] == 2
    assert summary["overall"]["sr"] == 1.0
    for n in (1, 2):
        record = _result(run_dir, n)
        assert "error" not in record  # the key is written only for failed episodes
        assert record["task_success"] == 1.0
    episodes = read_jsonl(run_dir / "memory" / "episodes.jsonl")
    run_id = read_run_id(run_dir)
    assert [e["episode_id"] for e in episodes] == [f"{run_id}/base/1", f"{run_id}/base/2"]  # type: ignore[index]
    # The env's close() stops the robot: the robot heard it, and so did every other participant.
    assert server.wait_for_line("STOP received: client closing", timeout_s=10)
    assert listener.wait_for(1, timeout_s=10) == ["client closing"]

    # The adapter is transparent: the same agent on the simulator in-process takes the same steps.
    local = tmp_path / "local"
    done = _eval(local, server.namespace, ros_env, "env={type: household}")
    assert done.returncode == 0, done.stderr
    for n in (1, 2):
        name = f"base/steps/episode_{n}_steps.json"
        assert json.loads((run_dir / name).read_text()) == json.loads((local / name).read_text())


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("crash", "the skill server's heartbeat stopped"),
        ("hang", f"no answer within {SKILL_TIMEOUT_S:g} s and the cancel was not confirmed"),
    ],
)
def test_a_dead_or_wedged_skill_server_ends_the_episode_cleanly(
    tmp_path: Path,
    start_server: StartServer,
    stop_listener: type[StopListener],
    ros_env: dict[str, str],
    fault: str,
    message: str,
) -> None:
    # The server dies (SIGKILL) or wedges when the 3rd skill arrives: the first two steps of episode 1 ran.
    server = start_server("--fault", f"{fault}-at-step:3", "--hold-until-sigusr1")
    listener = stop_listener(server.namespace)
    run_dir = tmp_path / "run"
    done = _eval(
        run_dir,
        server.namespace,
        ros_env,
        "--episodes",
        "1",
        f"env.liveness_timeout_s={LIVENESS_S}",
        f"env.cancel_timeout_s={CANCEL_S}",
        f"agent.executor.timeout_s={SKILL_TIMEOUT_S}",
        witness=(server, listener),
    )
    assert done.returncode == 0, done.stderr  # the run itself ends normally
    record = _result(run_dir, 1)
    assert record["error"].startswith("EnvConnectionError: step ")
    assert message in record["error"]
    assert "a stop command was sent" in record["error"]
    assert record["num_steps"] == 2
    assert record["task_success"] == 0.0
    # Generous bound (shared machine): detection takes the liveness limit, or the skill timeout + cancel wait.
    assert record["episode_elapsed_seconds"] < 60
    assert json.loads((run_dir / "summary.json").read_text())["overall"]["errors"] == 1

    # Memory saved: the failed episode, with the two steps it did, is in episodic memory on disk.
    (episode,) = read_jsonl(run_dir / "memory" / "episodes.jsonl")
    assert episode["episode_id"] == f"{read_run_id(run_dir)}/base/1"  # type: ignore[index]
    assert episode["success"] is False  # type: ignore[index]
    assert "in 2 steps" in episode["text"]  # type: ignore[index]

    # The stop for the failed step, then the one sent when the env closed.
    reasons = listener.wait_for(2, timeout_s=10)
    assert reasons[0].startswith("robomem: step ")
    assert message in reasons[0]
    assert reasons[-1] == "client closing"
