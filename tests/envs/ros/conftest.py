"""Fixtures for the ROS 2 tests: a real skill server in its own process, on loopback only.

Every session picks its own ROS domain and every server its own namespace, so concurrent runs never see each
other; ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` keeps DDS discovery on 127.0.0.1 (measured with tcpdump:
with it nothing leaves ``lo``; the older ``ROS_LOCALHOST_ONLY=1`` is ignored by these kilted wheels and
multicasts on the LAN interface).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest

SERVER_START_TIMEOUT_S = 30.0
ROOT = Path(__file__).resolve().parents[3]


@dataclass
class SimServer:
    namespace: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    pump: threading.Thread | None = None

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, text: str, timeout_s: float) -> bool:
        """Whether a line of the server's output contains ``text`` within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not any(text in line for line in list(self.lines)):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True


class StartServer(Protocol):
    def __call__(self, *args: str) -> SimServer: ...


@pytest.fixture(scope="session")
def ros_domain() -> int:
    # Domains 1-101 keep DDS's port arithmetic clear of the ephemeral port range.
    return random.Random(os.getpid()).randint(1, 101)


@pytest.fixture
def ros_env(monkeypatch: pytest.MonkeyPatch, ros_domain: int) -> dict[str, str]:
    """The environment every ROS process of a test runs with (this one included)."""
    pytest.importorskip("rclpy", reason="the ros extra is not installed (make ros)")
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    monkeypatch.setenv("ROS_DOMAIN_ID", str(ros_domain))
    monkeypatch.delenv("ROS_LOCALHOST_ONLY", raising=False)
    monkeypatch.delenv("ROS_STATIC_PEERS", raising=False)
    return dict(os.environ)


def _pump(server: SimServer, ready: threading.Event) -> None:
    assert server.process.stdout is not None
    for line in server.process.stdout:
        server.lines.append(line.rstrip("\n"))
        if "ready on" in line:
            ready.set()


@pytest.fixture
def start_server(ros_env: dict[str, str]) -> Iterator[StartServer]:
    """Start ``python -m envs.ros.sim_server`` with extra arguments in a fresh namespace; every server is
    terminated (then killed) when the test ends."""
    servers: list[SimServer] = []

    def start(*args: str) -> SimServer:
        namespace = f"/robomem_test_{uuid.uuid4().hex[:10]}"
        command = [sys.executable, "-m", "envs.ros.sim_server", "--namespace", namespace, *args]
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=ros_env,
            cwd=ROOT,
        )
        server = SimServer(namespace, process)
        servers.append(server)
        ready = threading.Event()
        server.pump = threading.Thread(target=_pump, args=(server, ready), daemon=True)
        server.pump.start()
        if not ready.wait(SERVER_START_TIMEOUT_S):
            pytest.fail(f"the sim skill server did not start (exit {process.poll()}):\n{server.output()}")
        return server

    try:
        yield start
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.process.terminate()
                try:
                    server.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    server.process.kill()
                    server.process.wait(timeout=10)
            if server.pump is not None:
                server.pump.join(timeout=10)
            if server.process.stdout is not None:
                server.process.stdout.close()


class StopListener:
    """A separate ROS participant that records every stop command published under ``namespace``."""

    def __init__(self, namespace: str) -> None:
        from envs.ros.contract import Stop, Topic, decode
        from envs.ros.participant import Participant

        self.reasons: list[str] = []
        self._lock = threading.Lock()
        self._participant = Participant(f"stop_listener_{uuid.uuid4().hex[:6]}", namespace, None)

        def on_stop(text: str) -> None:
            with self._lock:
                self.reasons.append(decode(Stop, text).reason)

        self._subscription = self._participant.json_subscription(Topic.STOP, "command", on_stop)
        self._participant.start()

    def wait_matched(self, publishers: int, timeout_s: float) -> None:
        """Wait until this listener has discovered ``publishers`` stop publishers (the clients): a stop sent
        before discovery would never reach it (the topic is volatile)."""
        deadline = time.monotonic() + timeout_s
        while self._subscription.publishers() < publishers:
            if time.monotonic() > deadline:
                pytest.fail(f"the stop listener did not discover the client within {timeout_s:g} s")
            time.sleep(0.05)

    def wait_for(self, count: int, timeout_s: float) -> list[str]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.reasons) >= count:
                    break
            time.sleep(0.05)
        with self._lock:
            return list(self.reasons)

    def close(self) -> None:
        self._participant.close()


@pytest.fixture
def stop_listener(ros_env: dict[str, str]) -> Iterator[type[StopListener]]:
    opened: list[StopListener] = []

    class Tracked(StopListener):
        def __init__(self, namespace: str) -> None:
            super().__init__(namespace)
            opened.append(self)

    try:
        yield Tracked
    finally:
        for listener in opened:
            listener.close()
