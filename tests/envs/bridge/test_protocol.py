"""The wire protocol and its failure modes, over real loopback sockets.

Servers here are the real server core (``envs.bridge.server.Server``) in a thread with small test backends,
the household server in a subprocess, or a raw socket that misbehaves on purpose (answers garbage, never
answers): those misbehaving peers cannot be produced by a correct server, which is why they are hand-written.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from envs.bridge import BridgeConfig, BridgeEnv
from envs.bridge import client as client_module
from envs.bridge import server as server_module
from envs.bridge.server import Backend, Server
from envs.task import Task
from robomem.errors import EnvAdapterError, EnvConnectionError, EnvTimeoutError
from tests.envs.bridge.conftest import SERVER_PY, StartServer

#: Generous upper bound for "fails within the timeout" on a loaded machine.
SLACK_S = 10.0


# ---- Python 3.9, stdlib only -----------------------------------------------------------------------------
def test_server_py_is_standalone_python39() -> None:
    """EmbodiedBench's env is Python 3.9 without robomem: the server file must parse as 3.9 and import only
    the standard library. (No 3.9 interpreter exists on this machine, so this is a static check.)"""
    source = SERVER_PY.read_text(encoding="utf-8")
    tree = ast.parse(source, feature_version=(3, 9))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module is not None
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("isinstance", "issubclass"):
            # `int | str` outside annotations is evaluated at run time: a TypeError on 3.9.
            assert not any(isinstance(a, ast.BinOp) for a in node.args), ast.unparse(node)
        elif isinstance(node, ast.Assign):
            assert not isinstance(node.value, ast.BinOp) or not isinstance(node.value.op, ast.BitOr)
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
    assert "from __future__ import annotations" in source  # keeps `X | None` annotations unevaluated
    # Keyword arguments that only exist from 3.10 on (zip, dataclass); `match` fails the parse above.
    for newer in ("strict=", "slots=True", "kw_only="):
        assert newer not in source, newer


# ---- helpers -------------------------------------------------------------------------------------------
@contextmanager
def threaded_server(backend: Backend) -> Iterator[Server]:
    """The real server core on 127.0.0.1 in a daemon thread; its listening socket is closed afterwards."""
    server = Server(backend, "127.0.0.1", 0, log=io.StringIO())

    def serve() -> None:
        with contextlib.suppress(OSError):  # the listening socket was closed: the test is over
            server.serve_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.close()
        thread.join(timeout=SLACK_S)


@contextmanager
def raw_server(handler: Callable[[socket.socket], None]) -> Iterator[int]:
    """Accept one connection and hand it to ``handler`` (a misbehaving peer)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(SLACK_S)

    def run() -> None:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            handler(conn)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        listener.close()
        thread.join(timeout=SLACK_S)


def _client(port: int, **overrides: Any) -> BridgeEnv:
    return BridgeEnv(BridgeConfig.model_validate({"port": port, **overrides}))


TASK = Task(
    task_id="t/base/0",
    profile="alfred",
    subset="base",
    task_type="x",
    instruction="wait",
    scene="s",
    episode_index=0,
)


class GatedBackend(Backend):
    """Every step waits until the test opens ``gate`` (a skill that takes as long as the test wants)."""

    name = "gated"
    profile = "alfred"

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.steps = 0

    def subsets(self) -> list[str]:
        return ["base"]

    def tasks(self, subset: str) -> list[dict[str, Any]]:
        return [TASK.model_dump(mode="json")]

    def reset(self, subset: str, episode_index: int, keep_world: bool, task_id: str | None) -> dict[str, Any]:
        self.steps = 0
        return {"instruction": "wait", "text": "", "perception": None, "images": []}

    def step(self, action: Any) -> dict[str, Any]:
        self.gate.wait(timeout=3 * SLACK_S)
        self.steps += 1
        info = {
            "task_success": 0.0,
            "task_progress": 0.0,
            "last_action_success": True,
            "env_feedback": f"step {self.steps}",
            "env_step": self.steps,
            "action_id": 0,
            "action_description": "wait",
            "instruction": "wait",
            "num_invalid_actions": 0,
        }
        observation: dict[str, Any] = {"instruction": "wait", "text": "", "perception": None, "images": []}
        return {"observation": observation, "done": False, "info": info, "raw_info": {}}

    def skills(self) -> list[str]:
        return ["wait"]


# ---- malformed requests ------------------------------------------------------------------------------
def test_malformed_requests_get_error_replies_and_the_connection_stays_usable(
    household_server: StartServer,
) -> None:
    server = household_server()
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=SLACK_S) as sock,
        sock.makefile("rwb") as f,
    ):

        def ask(line: bytes) -> dict[str, Any]:
            f.write(line + b"\n")
            f.flush()
            reply: dict[str, Any] = json.loads(f.readline())
            return reply

        cases = [
            (b"this is not json", None, "not a JSON line"),
            (b"\xff\xfe", None, "not a JSON line"),
            (b"[1, 2]", None, "must be a JSON object"),
            (b'{"id": 1, "op": "fly"}', 1, "unknown op 'fly'"),
            (b'{"id": 2, "op": "tasks", "args": []}', 2, "'args' must be a JSON object"),
            (b'{"id": 3, "op": "tasks", "args": {}}', 3, "missing argument 'subset'"),
            (
                b'{"id": 4, "op": "reset", "args": {"subset": "base", "episode_index": true}}',
                4,
                "must be int",
            ),
            (b'{"id": 5, "op": "reset", "args": {"subset": "base", "episode_index": -1}}', 5, ">= 0"),
            (b'{"id": 6, "op": "step", "args": {"action": 1.5}}', 6, "must be int or str"),
        ]
        for line, request_id, message in cases:
            reply = ask(line)
            assert reply["ok"] is False and reply["id"] == request_id
            assert reply["error"]["type"] == "bad_request"
            assert message in reply["error"]["message"]
        reply = ask(b'{"id": 7, "op": "step", "args": {"action": 0}}')
        assert reply["error"] == {"type": "env_error", "message": "call reset() before step()"}
        reply = ask(b'{"id": "x", "op": "hello"}')
        assert reply["ok"] is True and reply["id"] == "x"
        assert reply["result"]["protocol"] == server_module.PROTOCOL_VERSION
    assert server.proc.poll() is None  # still serving


def test_an_overlong_request_line_is_refused_then_the_connection_closes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(server_module, "MAX_LINE_BYTES", 1000)
    with (
        threaded_server(GatedBackend()) as server,
        socket.create_connection(server.address, timeout=SLACK_S) as sock,
    ):
        sock.sendall(b'{"id": 1, "op": "hello", "pad": "' + b"x" * 5000 + b'"}\n')
        with sock.makefile("rb") as f:
            reply = json.loads(f.readline())
            assert reply["error"]["type"] == "line_too_long"
            assert f.readline() == b""  # closed: the rest of the line cannot be skipped reliably


# ---- misbehaving servers ---------------------------------------------------------------------------------
def test_connection_refused_names_the_address_and_what_to_start() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound but not listening: connecting is refused
        env = _client(port, connect_timeout_s=2)
        with pytest.raises(
            EnvConnectionError, match=rf"127.0.0.1:{port}: Connection refused.*start the server"
        ):
            env.subsets()


def _reply_with(payload: bytes) -> Callable[[socket.socket], None]:
    def handler(conn: socket.socket) -> None:
        conn.settimeout(SLACK_S)
        with conn.makefile("rb") as f:
            if f.readline():
                conn.sendall(payload)
                f.readline()  # wait for the client to go away

    return handler


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"hello there\n", "sent a line that is not JSON"),
        (b"[]\n", "a reply that is not an object"),
        (b'{"id": 99, "ok": true, "result": {}}\n', "reply id 99 to request 1"),
        (
            b'{"id": 1, "ok": true, "result": {"protocol": 99}}\n',
            "speaks bridge protocol 99, robomem speaks 1",
        ),
        (b"", "closed the connection during hello"),
    ],
)
def test_garbage_or_silence_from_the_server_is_a_connection_error(payload: bytes, message: str) -> None:
    def handler(conn: socket.socket) -> None:
        if payload:
            _reply_with(payload)(conn)
        else:
            conn.recv(1000)  # read the hello, then hang up without answering

    with raw_server(handler) as port:
        env = _client(port, connect_timeout_s=SLACK_S)
        with pytest.raises(EnvConnectionError, match=message):
            env.subsets()
        env.close()


def test_an_overlong_reply_is_a_connection_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "MAX_LINE_BYTES", 1000)
    with (
        raw_server(_reply_with(b"x" * 5000)) as port,
        pytest.raises(EnvConnectionError, match="longer than 1000 bytes"),
    ):
        _client(port).subsets()


def test_a_server_that_never_says_hello_fails_within_the_connect_timeout() -> None:
    with raw_server(_reply_with(b"")) as port:
        started = time.monotonic()
        with pytest.raises(EnvConnectionError, match=r"did not answer hello within 0\.5 s"):
            _client(port, connect_timeout_s=0.5).subsets()
        assert time.monotonic() - started < SLACK_S


def test_a_step_that_never_answers_times_out_and_a_late_reply_is_dropped() -> None:
    backend = GatedBackend()
    with threaded_server(backend) as server:
        env = _client(server.address[1])
        try:
            env.reset(env.tasks("base")[0])
            started = time.monotonic()
            with pytest.raises(EnvTimeoutError, match=r"did not finish step within 0\.5 s"):
                env.step("wait", timeout_s=0.5)
            assert time.monotonic() - started < SLACK_S
            backend.gate.set()  # the skill finishes after all; its reply arrives late
            result = env.step("wait", timeout_s=SLACK_S)
            assert result.info["env_feedback"] == "step 2"  # not the stale "step 1"
            backend.gate.clear()
            with pytest.raises(EnvTimeoutError):
                env.step("wait", timeout_s=0.3)
            with pytest.raises(EnvConnectionError, match="has stopped answering"):
                env.step("wait", timeout_s=0.3)
            with pytest.raises(EnvConnectionError, match="not connected"):
                env.step("wait")
        finally:
            backend.gate.set()
            env.close()


def test_close_is_safe_twice_and_releases_the_backend() -> None:
    closed = []

    class Closing(GatedBackend):
        def close(self) -> None:
            closed.append(True)

    backend = Closing()
    with threaded_server(backend) as server:
        env = _client(server.address[1])
        env.reset(env.tasks("base")[0])
        env.close()
        env.close()
    assert closed


def test_a_reset_to_another_instruction_than_listed_is_an_error() -> None:
    """A server whose listing and resets disagree (issue #10: EB-Habitat's order) must not be scored."""

    class Shifted(GatedBackend):
        def reset(
            self, subset: str, episode_index: int, keep_world: bool, task_id: str | None
        ) -> dict[str, Any]:
            return {"instruction": "the next episode's task", "text": "", "perception": None, "images": []}

    expected = r"reset t/base/0 to another episode.*the next episode's task"
    with (
        threaded_server(Shifted()) as server,
        _client(server.address[1]) as env,
        pytest.raises(EnvAdapterError, match=expected),
    ):
        env.reset(env.tasks("base")[0])
