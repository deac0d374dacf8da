"""Session-wide fixtures shared by every test package."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMA_START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ChromaServer:
    host: str
    port: int
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _chroma_executable() -> str:
    beside = Path(sys.executable).with_name("chroma")
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if found is None:
        pytest.fail("the `chroma` command (from chromadb) is not installed in this environment")
    return found


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:  # 127.0.0.1 only
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """A real ``chroma run`` on 127.0.0.1 for the whole session, always terminated afterwards."""
    root = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = root / "server.log"
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    command = [
        _chroma_executable(),
        "run",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--path",
        str(root / "db"),
    ]
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + CHROMA_START_TIMEOUT_S
        url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-3000:]
                pytest.fail(f"chroma server did not answer on port {port} (exit {process.poll()}):\n{tail}")
            time.sleep(0.2)
        yield ChromaServer("127.0.0.1", port, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The fast tier (`make test-fast`): tests listed as slow in tests/tiers.py get the `slow` mark.
    from tests.tiers import SLOW_FILES, SLOW_TESTS

    for item in items:
        path = item.nodeid.split("::", 1)[0]
        name = getattr(item, "originalname", item.name)
        if path in SLOW_FILES or name in SLOW_TESTS.get(path, ()):
            item.add_marker(pytest.mark.slow)
