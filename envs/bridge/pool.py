"""The pool half of the bridge client (``env.endpoints``; the behaviour is described in client.py): which
server to connect to, taking a dead one out of the pool, and moving the running episode to another server."""

from __future__ import annotations

import logging
import time
from typing import Any

from envs.base import Observation
from envs.bridge.config import BridgeConfig
from robomem.errors import EnvConnectionError

__all__ = ("Address", "BusyError", "PoolMixin")

log = logging.getLogger("envs.bridge.client")  # one logger for the client's lines, pool or not
Address = tuple[str, int]


class BusyError(Exception):
    """A pooled server accepted the connection but did not answer hello in time: it has another client."""


class PoolMixin:
    """Mixed into :class:`envs.bridge.client.BridgeEnv`, which provides the wire methods declared here."""

    config: BridgeConfig
    pool: list[Address]
    where: str
    _pooled: bool
    _at: Address | None
    _episode: dict[str, Any] | None
    _trail: list[tuple[int | str, str]]
    _house: Address | None
    _skills: tuple[str, ...]
    _start_hint: str

    def _open(self, address: Address, hello_timeout_s: float) -> None:
        raise NotImplementedError

    def _call(self, op: str, args: dict[str, Any], timeout_s: float) -> Any:
        raise NotImplementedError

    def _observation(self, data: Any) -> Observation:
        raise NotImplementedError

    def _connect(self) -> None:
        if not self._pooled:
            self._open((self.config.host, self.config.port), self.config.connect_timeout_s)
            return
        deadline = time.monotonic() + self.config.setup_timeout_s
        while self.pool:
            for address in list(self.pool):
                try:
                    self._open(address, self.config.busy_timeout_s)
                    return
                except BusyError:
                    continue
                except EnvConnectionError as err:
                    self._remove(address, err)
            if time.monotonic() > deadline:
                raise EnvConnectionError(
                    f"no bridge server of the pool became free within {self.config.setup_timeout_s:g} s "
                    f"(all busy: {', '.join(map(self._name, self.pool))})",
                    hint="run at most as many workers as servers (a worker keeps its server while it runs)",
                )
            time.sleep(0.2)
        raise EnvConnectionError(
            f"every bridge server of the pool is dead ({', '.join(self.config.endpoints or ())})",
            hint=self._start_hint,
        )

    def _lost(self, err: EnvConnectionError) -> bool:
        """After a connection error: take the server out of the pool and say whether another may be tried."""
        if not self._pooled or self._at is None or self._at not in self.pool:
            return False
        self._remove(self._at, err)
        return bool(self.pool)

    def _remove(self, address: Address, err: Exception) -> None:
        self.pool.remove(address)
        left = ", ".join(map(self._name, self.pool)) or "none"
        log.warning(
            "bridge server %s is dead and leaves the pool (%s); %d left: %s",
            self._name(address),
            str(err).splitlines()[0],
            len(self.pool),
            left,
        )

    def _move(self) -> None:
        """Continue the running episode on another server: reset it there and replay its steps so far."""
        assert self._episode is not None
        args, trail = self._episode, list(self._trail)
        gone = self._name(self._at) if self._at is not None else "?"
        self._connect()
        self._observation(self._call("reset", args, self.config.setup_timeout_s))
        self._skills = tuple(str(s) for s in self._call("skills", {}, self.config.setup_timeout_s))
        for action, feedback in trail:
            reply = self._call("step", {"action": action}, self.config.step_timeout_s)
            info = reply.get("info") if isinstance(reply, dict) else None
            got = info.get("env_feedback") if isinstance(info, dict) else None
            if got != feedback:
                self._episode = None
                raise EnvConnectionError(
                    f"cannot move episode {args['task_id']} from {gone} to {self.where}: replaying "
                    f"{action!r} gave {got!r}, not {feedback!r} (the simulator is not deterministic)"
                )
        self._house = self._at
        log.warning(
            "episode %s moved from %s to %s (%d steps replayed)",
            args["task_id"],
            gone,
            self.where,
            len(trail),
        )

    @staticmethod
    def _name(address: Address) -> str:
        return f"{address[0]}:{address[1]}"
