"""Bridge servers as real subprocesses on 127.0.0.1, always killed afterwards."""

from __future__ import annotations

import os
import select
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from envs.bridge import BridgeConfig, BridgeEnv
from tests.envs.bridge.fake_embodiedbench import write_fake_embodiedbench

REPO = Path(__file__).resolve().parents[3]
SERVER_PY = REPO / "envs" / "bridge" / "server.py"
#: Generous: a loaded 2-core machine imports robomem's household simulator in a few seconds.
START_TIMEOUT_S = 60.0


@dataclass
class ServerProcess:
    proc: subprocess.Popen[str]
    port: int
    log: Path

    def client(self, **overrides: object) -> BridgeEnv:
        return BridgeEnv(BridgeConfig.model_validate({"port": self.port, **overrides}))

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def server_process(
    command: Sequence[str], log: Path, *, cwd: Path = REPO, env: dict[str, str] | None = None
) -> Iterator[ServerProcess]:
    """Start ``command``, read the port from its first stdout line (``... listening on HOST:PORT``)."""
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=err, text=True
        )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], START_TIMEOUT_S)
        line = proc.stdout.readline() if ready else ""
        if "listening on" not in line:
            proc.kill()
            proc.wait(timeout=30)
            pytest.fail(f"bridge server did not start: {line!r}\n{log.read_text(encoding='utf-8')}")
        yield ServerProcess(proc, int(line.rsplit(":", 1)[1]), log)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def household_command(*extra: str, profile: str = "alfred") -> list[str]:
    return [sys.executable, "-m", "envs.bridge.household_server", "--profile", profile, "--port", "0", *extra]


StartServer = Callable[..., ServerProcess]


@pytest.fixture
def household_server(tmp_path: Path) -> Iterator[StartServer]:
    """``household_server(*extra_args, profile=...)`` starts one; all are stopped at teardown."""
    with ExitStack() as stack:
        count = iter(range(1000))

        def start(*extra: str, profile: str = "alfred") -> ServerProcess:
            log = tmp_path / f"server-{next(count)}.log"
            return stack.enter_context(server_process(household_command(*extra, profile=profile), log))

        yield start


def env_with_pythonpath(path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(path)}


@pytest.fixture
def fake_eb(tmp_path: Path) -> dict[str, str]:
    root = write_fake_embodiedbench(tmp_path / "fake_eb")
    return {**env_with_pythonpath(root), "FAKE_EB_LOG": str(tmp_path / "eb_calls.jsonl")}


@pytest.fixture
def eb_server(tmp_path: Path, fake_eb: dict[str, str]) -> Iterator[StartServer]:
    """``eb_server(backend, *server_args)`` runs server.py against the fake ``embodiedbench`` package."""

    def start(backend: str, *extra: str) -> ServerProcess:
        command = [sys.executable, str(SERVER_PY), "--backend", backend, "--port", "0", *extra]
        return stack.enter_context(
            server_process(command, tmp_path / f"{backend}.log", cwd=tmp_path, env=fake_eb)
        )

    with ExitStack() as stack:
        yield start
