"""The bridge client (``env.type: eb_bridge``): an :class:`envs.base.Env` whose environment runs in another
process, behind ``envs/bridge/server.py`` (EmbodiedBench) or ``envs.bridge.household_server``.

Failure mapping:

* refused / reset / closed connection, or garbage on the wire -> :class:`EnvConnectionError` naming
  ``host:port`` and what to start; the next ``reset`` connects again, so one dead server fails episodes
  quickly instead of hanging the run;
* no reply within the timeout -> :class:`EnvTimeoutError`. EmbodiedBench cannot interrupt a skill, so the
  server finishes it in the background; its late reply is recognised by its id and dropped. A second timeout
  in a row, with still no reply, means the server is stuck: :class:`EnvConnectionError`;
* an error reply (bad episode index, the simulator raised) -> :class:`EnvAdapterError` with the server's
  message.

A pool (``env.endpoints``): the client takes the first free server (one that answers ``hello`` within
``busy_timeout_s``; a server serves one client at a time, so one episode at a time) and keeps it. A server
that refuses, drops or garbles the connection is dead: it leaves the pool (one warning line), and the running
episode moves to another server: reset there and its steps so far replayed, each checked against the
feedback it gave (a simulator that answers otherwise fails the episode), then the interrupted step is sent
again. The agent and the results see one episode. A lifelong sequence's house lives on one server: if that
server dies, the episodes that would continue it fail instead.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from typing import Any

from pydantic import ValidationError

from envs.base import Budget, Env, Observation, StepResult
from envs.bridge.config import BridgeConfig
from envs.bridge.pool import Address, BusyError, PoolMixin
from envs.bridge.server import EB_MAX_INVALID, EB_MAX_STEPS, MAX_LINE_BYTES, PROTOCOL_VERSION
from envs.registry import ENVS
from envs.skill_language import EB_GRAMMAR
from envs.task import Task
from robomem.errors import EnvAdapterError, EnvConnectionError, EnvTimeoutError

__all__ = ("BridgeEnv",)


def _start_hint(profile: str, port: int) -> str:
    return (
        "start the server first: "
        f"`python <robomem>/envs/bridge/server.py --backend eb_{profile} --port {port}` "
        "inside EmbodiedBench's conda env (see deploy/embodiedbench/README.md), or "
        f"`python -m envs.bridge.household_server --profile {profile} --port {port}` for robomem's simulator"
    )


class BridgeEnv(PoolMixin, Env):
    """One TCP connection to a bridge server, opened lazily and re-opened at the next reset after a loss."""

    @property
    def grammar(self) -> str:
        return EB_GRAMMAR  # both profiles (EB-ALFRED, EB-Habitat) speak EmbodiedBench's skill language

    def __init__(self, config: BridgeConfig) -> None:
        self.config = config
        self.profile = config.profile
        self.where = f"{config.host}:{config.port}"
        self._start_hint = _start_hint(config.profile, config.port)
        #: The servers still alive (a pool), in the order they are tried.
        self.pool: list[Address] = list(config.addresses())
        self._pooled = config.endpoints is not None
        self._at: Address | None = None  # the server connected to
        if self._pooled:
            self.where = self._name(self.pool[0])
        #: The running episode's reset arguments and (action, feedback) so far: to move it to another server.
        self._episode: dict[str, Any] | None = None
        self._trail: list[tuple[int | str, str]] = []
        self._house: Address | None = None  # the server holding the persistent house (lifelong)
        #: The server's ``hello`` answer (protocol, backend, profile, python), once connected.
        self.server_info: dict[str, Any] | None = None
        #: The environment's own ``info`` dict of the last step (JSON-safe), for logs and debugging.
        self.last_raw_info: dict[str, Any] | None = None
        self._sock: socket.socket | None = None
        self._buffer = bytearray()
        self._next_id = 0
        self._stuck = False  # a request timed out and its reply has not come yet
        self._skills: tuple[str, ...] = ()
        self._subsets: tuple[str, ...] | None = None
        self._tasks: dict[str, tuple[Task, ...]] = {}
        #: The current episode's steps and invalid actions as the server counted them, and whether it is over.
        self._used = (0, 0)
        self._over = True

    # ---- the Env contract ------------------------------------------------------------------------------
    @property
    def skills(self) -> tuple[str, ...]:
        return self._skills

    def subsets(self) -> tuple[str, ...]:
        if self._subsets is None:
            available = tuple(str(s) for s in self._call("subsets", {}, self.config.setup_timeout_s))
            wanted = self.config.subsets
            if wanted is not None:
                missing = [s for s in wanted if s not in available]
                if missing:
                    raise EnvAdapterError(
                        f"env.subsets {missing} not served by {self.where}; it has: {', '.join(available)}"
                    )
            self._subsets = available if wanted is None else wanted
        return self._subsets

    def tasks(self, subset: str) -> tuple[Task, ...]:
        if subset not in self._tasks:
            records = self._call("tasks", {"subset": subset}, self.config.setup_timeout_s)
            try:
                self._tasks[subset] = tuple(Task.model_validate(r) for r in records)
            except (ValidationError, TypeError) as err:
                raise EnvAdapterError(
                    f"the bridge server at {self.where} sent a malformed task: {err}"
                ) from None
        return self._tasks[subset]

    def reset(self, task: Task, *, keep_world: bool = False) -> Observation:
        if task.episode_index is None:
            raise EnvAdapterError(
                f"task {task.task_id} has no episode_index; the bridge selects episodes by subset and index, "
                "so use the tasks that env.tasks(subset) returns"
            )
        args = {
            "subset": task.subset,
            "episode_index": task.episode_index,
            "keep_world": keep_world,
            "task_id": task.task_id,
        }
        while True:
            try:
                return self._reset(task, args, keep_world)
            except EnvConnectionError as err:
                if not self._lost(err):
                    raise

    def _reset(self, task: Task, args: dict[str, Any], keep_world: bool) -> Observation:
        self._skills = ()
        self._used, self._over = (0, 0), True
        self._episode, self._trail = None, []
        if keep_world and self._pooled and self._house is not None and self._house != self._at:
            raise EnvConnectionError(
                f"the house of this lifelong sequence was on {self._name(self._house)}, which left the pool; "
                f"{task.task_id} cannot continue it on {self.where}"
            )
        observation = self._observation(self._call("reset", args, self.config.setup_timeout_s))
        if observation.instruction != task.instruction:
            # The server reset to another episode than it listed: acting on (and scoring) it under this
            # task's name would file the wrong instruction in memory and results.
            raise EnvAdapterError(
                f"the bridge server at {self.where} reset {task.task_id} to another episode: it says "
                f"{observation.instruction!r}, the task list said {task.instruction!r}"
            )
        self._over = False
        # The skill list changes with the scene (EB appends `find a Cabinet_2` ...): re-read it every time.
        self._skills = tuple(str(s) for s in self._call("skills", {}, self.config.setup_timeout_s))
        # EmbodiedBench refuses keep_world; robomem's simulator behind the bridge honours it.
        self.world_persists = keep_world
        if not keep_world:
            self._house = self._at
        self._episode = None if keep_world else args  # a continued house cannot be rebuilt elsewhere
        return observation

    def step(self, action: int | str, *, timeout_s: float | None = None) -> StepResult:
        if isinstance(action, bool) or not isinstance(action, int | str):
            raise EnvAdapterError(f"an action is a skill id or its text, got {action!r}")
        timeout = self.config.step_timeout_s if timeout_s is None else timeout_s
        try:
            reply = self._call("step", {"action": action}, timeout)
        except EnvConnectionError as err:
            if self._episode is None or not self._lost(err):
                raise
            self._move()
            reply = self._call("step", {"action": action}, timeout)
        except EnvTimeoutError:
            self._episode = None  # the server finishes the step unseen: its outcome cannot be replayed
            raise
        if not isinstance(reply, dict):
            raise self._garbage(f"step answered {type(reply).__name__}, not an object")
        raw = reply.get("raw_info")
        self.last_raw_info = raw if isinstance(raw, dict) else None
        try:
            result = StepResult.model_validate({k: reply.get(k) for k in ("observation", "done", "info")})
        except ValidationError as err:
            raise self._garbage(
                f"malformed step result ({err.error_count()} problems: {err.errors()[0]})"
            ) from None
        self._used = (result.info["env_step"], result.info["num_invalid_actions"])
        self._over = result.done
        self._trail.append((action, result.info["env_feedback"]))
        return result

    def budget(self) -> Budget:
        """What is left of the server's limits (its ``hello``; EmbodiedBench's 30 / 10 when it names none)."""
        info = self.server_info or {}
        limits = [info.get(key) for key in ("max_steps", "max_invalid_actions")]
        max_steps, max_invalid = (
            value if isinstance(value, int) and not isinstance(value, bool) else default
            for value, default in zip(limits, (EB_MAX_STEPS, EB_MAX_INVALID), strict=True)
        )
        if self._over:
            return Budget(steps_left=0, invalid_actions_left=0)
        steps, invalid = self._used
        return Budget(
            steps_left=max(0, max_steps - steps), invalid_actions_left=max(0, max_invalid - invalid)
        )

    def close(self) -> None:
        if self._sock is not None and not self._stuck:
            # Lets the server release its simulator now rather than when the next client comes.
            with contextlib.suppress(EnvAdapterError):
                self._call("close", {}, min(5.0, self.config.setup_timeout_s))
        self._drop()

    def __enter__(self) -> BridgeEnv:
        return self

    # ---- wire ------------------------------------------------------------------------------------------
    def _open(self, address: Address, hello_timeout_s: float) -> None:
        self._at, self.where = address, self._name(address)
        self._start_hint = _start_hint(self.profile, address[1])
        try:
            sock = socket.create_connection(address, timeout=self.config.connect_timeout_s)
        except OSError as err:
            reason = err.strerror or type(err).__name__
            raise EnvConnectionError(
                f"cannot connect to the bridge server at {self.where}: {reason}", hint=self._start_hint
            ) from None
        self._sock, self._stuck = sock, False
        self._buffer.clear()
        try:
            hello = self._call("hello", {}, hello_timeout_s)
        except EnvTimeoutError:
            self._drop()
            if self._pooled:
                raise BusyError from None
            raise EnvConnectionError(
                f"something at {self.where} accepted the connection but did not answer hello within "
                f"{self.config.connect_timeout_s:g} s: is it a bridge server, or busy with another client?",
                hint="a bridge server serves one client at a time",
            ) from None
        if not isinstance(hello, dict) or hello.get("protocol") != PROTOCOL_VERSION:
            version = hello.get("protocol") if isinstance(hello, dict) else None
            self._drop()
            raise EnvConnectionError(
                f"the server at {self.where} speaks bridge protocol {version!r}, robomem speaks "
                f"{PROTOCOL_VERSION}: copy envs/bridge/server.py from this robomem version"
            )
        if hello.get("profile") != self.profile:
            self._drop()
            raise EnvConnectionError(
                f"the server at {self.where} serves profile {hello.get('profile')!r} "
                f"({hello.get('backend')}), but env.profile is {self.profile!r}"
            )
        self.server_info = hello

    def _call(self, op: str, args: dict[str, Any], timeout_s: float) -> Any:
        if self._sock is None:
            if op == "step":
                # The server-side episode went with the connection (or there never was one).
                raise EnvConnectionError(
                    f"not connected to the bridge server at {self.where} (the connection was lost, or reset "
                    "was never called); the episode cannot go on",
                    hint="the next reset reconnects",
                )
            self._connect()
        assert self._sock is not None
        self._next_id += 1
        request_id = self._next_id
        line = json.dumps({"id": request_id, "op": op, "args": args}).encode() + b"\n"
        try:
            self._sock.settimeout(timeout_s)
            self._sock.sendall(line)
        except OSError as err:
            self._drop()
            raise EnvConnectionError(
                f"lost the bridge server at {self.where} while sending {op}: {err}"
            ) from None
        deadline = time.monotonic() + timeout_s
        while True:
            reply = self._read_reply(op, timeout_s, deadline)
            reply_id = reply.get("id")
            if isinstance(reply_id, int) and reply_id < request_id:
                continue  # the late answer to a request that timed out
            if reply_id != request_id:
                raise self._garbage(f"reply id {reply_id!r} to request {request_id} ({op})")
            if reply.get("ok") is True:
                return reply.get("result")
            error = reply.get("error")
            error = error if isinstance(error, dict) else {}
            raise EnvAdapterError(
                f"the bridge server at {self.where} failed {op!r}: "
                f"[{error.get('type', '?')}] {error.get('message', 'no message')}"
            )

    def _read_reply(self, op: str, timeout_s: float, deadline: float) -> dict[str, Any]:
        assert self._sock is not None
        while b"\n" not in self._buffer:
            if len(self._buffer) > MAX_LINE_BYTES:
                raise self._garbage(f"a reply line longer than {MAX_LINE_BYTES} bytes")
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                self._sock.settimeout(remaining)
                chunk = self._sock.recv(1 << 20)
            except TimeoutError:
                if self._stuck:
                    self._drop()
                    raise EnvConnectionError(
                        f"the bridge server at {self.where} has stopped answering ({op} timed out after an "
                        "earlier request also did)",
                        hint="restart the server",
                    ) from None
                self._stuck = True
                raise EnvTimeoutError(
                    f"the bridge server at {self.where} did not finish {op} within {timeout_s:g} s"
                ) from None
            except OSError as err:
                self._drop()
                raise EnvConnectionError(
                    f"lost the bridge server at {self.where} during {op}: {err}", hint=self._start_hint
                ) from None
            if not chunk:
                self._drop()
                raise EnvConnectionError(
                    f"the bridge server at {self.where} closed the connection during {op} "
                    "(did it crash? see its log)",
                    hint=self._start_hint,
                )
            self._buffer += chunk
        end = self._buffer.index(b"\n")
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        self._stuck = False  # it answered something, so it is alive
        try:
            reply = json.loads(line)
        except ValueError:
            raise self._garbage(f"a line that is not JSON: {line[:80]!r}") from None
        if not isinstance(reply, dict):
            raise self._garbage(f"a reply that is not an object: {line[:80]!r}")
        return reply

    def _garbage(self, what: str) -> EnvConnectionError:
        self._drop()
        return EnvConnectionError(f"the bridge server at {self.where} sent {what}; disconnected")

    def _drop(self) -> None:
        sock, self._sock = self._sock, None
        self._buffer.clear()
        self._stuck = False
        if sock is not None:
            sock.close()

    def _observation(self, data: Any) -> Observation:
        try:
            return Observation.model_validate(data)
        except ValidationError as err:
            raise self._garbage(f"a malformed observation ({err.errors()[0]})") from None


@ENVS.register("eb_bridge", BridgeConfig)
def _build(config: BridgeConfig) -> BridgeEnv:
    return BridgeEnv(config)
