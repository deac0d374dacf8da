"""The compose setup's processes, run natively: no Docker daemon is needed, nor assumed.

deploy/compose.yaml runs two things: ``chroma run`` (the ``chroma`` service) and ``robomem eval`` with
configs/shared_memory.yaml (the ``agent`` service). Here the server is the session's real ``chroma run`` on
127.0.0.1 (tests/conftest.py), and each robot is a real ``robomem`` process whose working directory is laid
out like the image's (``configs/``, ``memory/``, ``runs/``) and which runs the compose command verbatim, plus
overrides pointing ``agent.memory.vector`` at that server. Only the network differs: loopback instead of
the compose network's ``chroma`` host name.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from robomem.storage import read_jsonl
from robomem.trace import read_run_traces
from tests.conftest import ChromaServer
from tests.deploy._files import REPO, dockerfile_instructions, services, stages

#: Generous upper bound for one CLI run of a few episodes (about 15 s here, more on a busy machine).
RUN_TIMEOUT_S = 600


def _workdir(tmp_path: Path) -> Path:
    """A folder shaped like the image's WORKDIR: the repository's configs/, and room for memory/ and runs/."""
    workdir = tmp_path / "robot-host"
    workdir.mkdir()
    (workdir / "configs").symlink_to(REPO / "configs", target_is_directory=True)
    return workdir


def _robomem(workdir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "robomem", *argv],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        check=False,
    )


def _server_overrides(host: str, port: int, namespace: str, prefix: str = "agent.memory") -> list[str]:
    return [
        f"{prefix}.vector.host={host}",
        f"{prefix}.vector.port={port}",
        f"{prefix}.vector.namespace={namespace}",
    ]


def _instructions(run_dir: Path) -> list[str]:
    results = sorted((run_dir / "base" / "results").glob("episode_*_final_res.json"))
    return [str(json.loads(path.read_text(encoding="utf-8"))["instruction"]) for path in results]


def _retrieved(run_dir: Path, store: str) -> set[str]:
    """Every line of ``store`` the agent retrieved, from the run's step traces (the text the planner saw at
    each step)."""
    lines: set[str] = set()
    for records in read_run_traces(run_dir).values():
        for record in records:
            lines.update(record["retrieved"][store].splitlines())
    return lines


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # free once the socket closes: nothing listens there


@pytest.mark.chroma
@pytest.mark.slow
def test_a_second_robot_reads_the_long_term_memory_the_first_wrote(
    tmp_path: Path, chroma_server: ChromaServer
) -> None:
    workdir = _workdir(tmp_path)
    compose_command = services()["agent"]["command"]
    # A fresh namespace: the session's server is shared with other tests.
    namespace = f"d{uuid.uuid4().hex[:12]}"
    server = _server_overrides(chroma_server.host, chroma_server.port, namespace)
    flags = ["--subset", "base", "--no-progress"]

    robot1 = _robomem(
        workdir, *compose_command, *flags, "--episodes", "2", "--run-dir", "runs/robot1", *server
    )
    assert robot1.returncode == 0, robot1.stderr
    # deploy/README.md's second robot: the same preset, its own folder for spatial and temporal memory.
    robot2 = _robomem(
        workdir,
        *compose_command,
        *flags,
        "--episodes",
        "1",
        "--run-dir",
        "runs/robot2",
        "agent.memory.dir=memory/robot2",
        *server,
    )
    assert robot2.returncode == 0, robot2.stderr

    # Each robot kept its own local memory under memory/ (the compose volume); neither holds the long-term
    # stores locally: they are on the server.
    for robot, episodes in (("robot1", 2), ("robot2", 1)):
        folder = workdir / "memory" / robot
        assert (folder / "manifest.json").exists()
        assert len(read_jsonl(folder / "episodes.jsonl")) == episodes
        assert not (folder / "chroma").exists()

    robot1_only = set(_instructions(workdir / "runs" / "robot1")) - set(
        _instructions(workdir / "runs" / "robot2")
    )
    assert robot1_only, "the two robots did the same tasks; nothing would prove the memory was shared"
    # Robot 2 retrieved, while acting, experience only robot 1 had: from the shared server.
    episodic = _retrieved(workdir / "runs" / "robot2", "episodic")
    for instruction in robot1_only:
        assert any(line.startswith(f"Task: {instruction}") for line in episodic), (instruction, episodic)

    # And a third process, inspecting robot 2's memory folder, sees robot 1's episodes on the server.
    shown = _robomem(
        workdir,
        "memory",
        "show",
        "--memory-dir",
        "memory/robot2",
        *_server_overrides(chroma_server.host, chroma_server.port, namespace, prefix="memory"),
    )
    assert shown.returncode == 0, shown.stderr
    newest = shown.stdout.partition("\nnewest episodic items")[2]
    episodic_section = newest.partition("\nnewest semantic items")[0]
    for instruction in robot1_only:
        assert f"Task: {instruction}" in episodic_section, shown.stdout


@pytest.mark.chroma
def test_the_compose_health_check_probes_a_real_server(chroma_server: ChromaServer) -> None:
    test = services()["chroma"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    snippet = test[3]
    assert "127.0.0.1:8000" in snippet

    def probe(port: int) -> int:
        code = snippet.replace("127.0.0.1:8000", f"{chroma_server.host}:{port}")
        return subprocess.run(
            [sys.executable, "-c", code], capture_output=True, timeout=60, check=False
        ).returncode

    assert probe(chroma_server.port) == 0
    assert probe(_closed_port()) != 0  # so compose keeps the agent waiting while the server is down


def test_without_a_server_the_preset_fails_with_one_clear_line(tmp_path: Path) -> None:
    workdir = _workdir(tmp_path)
    port = _closed_port()
    done = _robomem(
        workdir,
        *services()["agent"]["command"],
        "--episodes",
        "1",
        "--subset",
        "base",
        "--no-progress",
        *_server_overrides("127.0.0.1", port, "unused"),
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"robomem: error [store]: no Chroma server at 127.0.0.1:{port} ([Errno 111] Connection refused) "
        f"(start one with `chroma run --host 127.0.0.1 --port {port} --path <dir>`)"
    ]


@pytest.mark.slow
def test_the_images_build_time_smoke_command_passes_natively(tmp_path: Path) -> None:
    runtime = stages(dockerfile_instructions())[-1]
    smoke = next(i.args for i in runtime if i.name == "RUN" and i.args.startswith("robomem eval"))
    argv = shlex.split(smoke.partition("&&")[0])
    assert argv[0] == "robomem"
    run_dir = tmp_path / "smoke"
    argv = [str(run_dir) if word == "/tmp/smoke" else word for word in argv[1:]]
    done = _robomem(_workdir(tmp_path), *argv)
    assert done.returncode == 0, done.stderr
    assert (run_dir / "summary.json").exists()


RUN_SUFFIX = re.compile(r"~[0-9a-f]{8}(?=/)")


def _long_term(
    server: ChromaServer, namespace: str, root: Path
) -> dict[str, list[tuple[str, int, list[str]]]]:
    """Each shared collection as (key, count, episodes) per item, read from the server."""
    from robomem.embeddings.config import EmbedderConfig
    from robomem.embeddings.factory import make_embedder
    from robomem.stores.config import VectorConfig
    from robomem.stores.factory import open_vector_store

    embedder = make_embedder(EmbedderConfig())
    vector = VectorConfig(type="chroma_http", host=server.host, port=server.port, namespace=namespace)
    found = {}
    for name in ("episodic", "semantic"):
        store = open_vector_store(
            vector, memory_dir=root, name=name, embedder_name=embedder.name, dim=embedder.dim
        )
        try:
            found[name] = sorted(
                (
                    str(item.metadata["key"]),
                    int(item.metadata["count"]),
                    # Without each run's random id (robomem/run_id.py): the two fleets' runs differ in it.
                    sorted(RUN_SUFFIX.sub("", e) for e in str(item.metadata["episodes"]).split(",") if e),
                )
                for item in store.get()
            )
        finally:
            store.close()
    return found


@pytest.mark.chroma
@pytest.mark.slow
def test_four_robots_at_once_remember_what_they_would_one_after_another(
    tmp_path: Path, chroma_server: ChromaServer
) -> None:
    """Four `robomem eval` processes on one server at the same time, doing the same tasks (so they learn the
    same lessons and repeat the same episodes at the same moments): the shared memory they leave is the one
    the same four robots leave when they run one after another. Before the server-side write lock, counts
    and episodes were lost (issue #10), and some processes died of Chroma's 'Nothing found on disk'."""
    workdir = _workdir(tmp_path)
    robots = 4
    argv = [*services()["agent"]["command"], "--subset", "base", "--episodes", "3", "--no-progress"]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}

    def robot(fleet: str, n: int, namespace: str) -> list[str]:
        # The run folder's name is part of every episode id: robot<n> in both fleets.
        where = [f"--run-dir={fleet}/runs/robot{n}", f"agent.memory.dir={fleet}/memory/robot{n}"]
        server = _server_overrides(chroma_server.host, chroma_server.port, namespace)
        return [sys.executable, "-m", "robomem", *argv, *where, *server]

    together, in_turn = f"t{uuid.uuid4().hex[:12]}", f"s{uuid.uuid4().hex[:12]}"
    processes = [
        subprocess.Popen(
            robot("together", n, together),
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(1, robots + 1)
    ]
    try:
        for process in processes:
            _, err = process.communicate(timeout=RUN_TIMEOUT_S)
            assert process.returncode == 0, err
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=60)
    for n in range(1, robots + 1):
        done = subprocess.run(
            robot("in_turn", n, in_turn),
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
        assert done.returncode == 0, done.stderr

    expected = _long_term(chroma_server, in_turn, tmp_path)
    # Not vacuous: the robots learned lessons, and every one of them was learned by each robot.
    assert expected["semantic"] and all(count == robots for _, count, _ in expected["semantic"])
    assert _long_term(chroma_server, together, tmp_path) == expected
