"""The client side of the contract: sends requests, collects responses, watches the server's heartbeat.

Everything the spin thread receives lands in one condition-guarded state; the caller's thread waits on it
with a deadline, checking liveness as it waits, so a dead server is noticed within the liveness timeout
whatever the request's own timeout is.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from envs.ros.config import RosConfig
from envs.ros.contract import (
    Cancel,
    ContractError,
    Describe,
    Heartbeat,
    Op,
    PerceptionMsg,
    Request,
    Response,
    Stop,
    Topic,
    decode,
)
from envs.ros.participant import Participant

__all__ = ("Link", "ServerLostError")

log = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)
_POLL_S = 0.05
_STOP_ACK_S = 1.0
_EXCERPT = 300


class ServerLostError(Exception):
    """The skill server stopped heart-beating or restarted; the message says which."""


class Link:
    def __init__(self, config: RosConfig) -> None:
        self.config = config
        self._cond = threading.Condition()
        self._responses: dict[str, Response] = {}
        self._waiting: set[str] = set()
        self.describe: Describe | None = None
        self._beat_at: float | None = None
        self._beat_server: str | None = None
        self.perception: PerceptionMsg | None = None
        self.image: str | None = None
        self._rejected: dict[str, str] = {}
        self.participant = p = Participant(
            f"robomem_client_{uuid.uuid4().hex[:8]}", config.namespace, config.domain_id
        )
        try:
            self._request = p.json_publisher(Topic.REQUEST, "command")
            self._cancel = p.json_publisher(Topic.CANCEL, "command")
            self._stop = p.json_publisher(Topic.STOP, "command")
            p.json_subscription(Topic.RESPONSE, "command", self._on_response)
            p.json_subscription(Topic.DESCRIBE, "latched", self._on_describe)
            p.json_subscription(Topic.HEARTBEAT, "stream", self._on_heartbeat)
            p.json_subscription(Topic.PERCEPTION, "latched", self._on_perception)
            if config.images:
                p.image_subscription(Topic.CAMERA, self._on_image)
            p.start()
        except BaseException:
            p.close()
            raise

    # ---- spin-thread callbacks ---------------------------------------------------------------------
    def _parse(self, model: type[T], topic: str, text: str) -> T | None:
        try:
            return decode(model, text)
        except ContractError as err:
            excerpt = text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."
            log.warning("rejected a message on %r: %s; the message: %s", topic, err, excerpt)
            with self._cond:
                self._rejected[topic] = str(err)
            return None

    def rejected(self, topic: str) -> str | None:
        """Why the last message on ``topic`` that did not follow the contract was rejected, if one was."""
        with self._cond:
            return self._rejected.get(topic)

    def _on_response(self, text: str) -> None:
        response = self._parse(Response, Topic.RESPONSE, text)
        with self._cond:
            if response is not None and response.id in self._waiting:
                self._responses[response.id] = response
                self._cond.notify_all()

    def _on_describe(self, text: str) -> None:
        describe = self._parse(Describe, Topic.DESCRIBE, text)
        with self._cond:
            if describe is not None:
                self.describe = describe
                self._cond.notify_all()

    def _on_heartbeat(self, text: str) -> None:
        beat = self._parse(Heartbeat, Topic.HEARTBEAT, text)
        with self._cond:
            if beat is not None:
                self._beat_at = time.monotonic()
                self._beat_server = beat.server_id
                self._cond.notify_all()

    def _on_perception(self, text: str) -> None:
        perception = self._parse(PerceptionMsg, Topic.PERCEPTION, text)
        with self._cond:
            # The newest arrival wins (one reliable publisher delivers in order); comparing seqs would
            # ignore a restarted server, whose count starts again at 1.
            if perception is not None:
                self.perception = perception
                self._cond.notify_all()

    def _on_image(self, data: str) -> None:
        with self._cond:
            self.image = data

    # ---- caller side -------------------------------------------------------------------------------
    def connect(self, timeout_s: float) -> Describe:
        """Wait until the server announced itself, beats, and reads our requests."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not (
                self.describe is not None
                and self._beat_at is not None
                and self._request.subscribers() > 0
                and self._cancel.subscribers() > 0
                and self.participant.node.count_publishers(self._topic(Topic.RESPONSE)) > 0
            ):
                if time.monotonic() >= deadline:
                    raise ServerLostError(self._absent_reason(timeout_s))
                self._cond.wait(_POLL_S)
            return self.describe

    def _absent_reason(self, timeout_s: float) -> str:
        cfg = self.config
        domain = cfg.domain_id if cfg.domain_id is not None else os.environ.get("ROS_DOMAIN_ID") or "0"
        rejected = self._rejected.get(Topic.DESCRIBE)
        if self.describe is None and rejected is not None:
            seen = f"its 'describe' message was rejected: {rejected}"
        elif self.describe is None:
            seen = "it never announced itself (no latched message on 'describe')"
        else:
            # A server that wrote its own side of the contract most likely misses one piece: name them.
            missing = [
                what
                for what, ok in (
                    (
                        f"no heartbeat (rejected: {self._rejected.get(Topic.HEARTBEAT)})"
                        if Topic.HEARTBEAT in self._rejected
                        else "no heartbeat",
                        self._beat_at is not None,
                    ),
                    ("nothing subscribes to 'request'", self._request.subscribers() > 0),
                    ("nothing subscribes to 'cancel'", self._cancel.subscribers() > 0),
                    (
                        "nothing publishes on 'response'",
                        self.participant.node.count_publishers(self._topic(Topic.RESPONSE)) > 0,
                    ),
                )
                if not ok
            ]
            gaps = "; ".join(missing) or "it was not ready in time"
            seen = f"it announced itself, but {gaps} (or the QoS does not match the contract)"
        return f"no skill server on {cfg.namespace!r} (ROS domain {domain}) within {timeout_s:g} s: {seen}"

    def _topic(self, name: str) -> str:
        return f"{self.config.namespace.rstrip('/')}/{name}"

    def check_alive(self) -> None:
        with self._cond:
            self._check_alive_locked(expected=self.describe.server_id if self.describe else None)

    def _check_alive_locked(self, expected: str | None) -> None:
        now = time.monotonic()
        limit = self.config.liveness_timeout_s
        if self._beat_at is None or now - self._beat_at > limit:
            silent = "never" if self._beat_at is None else f"{now - self._beat_at:.1f} s ago"
            raise ServerLostError(
                f"the skill server's heartbeat stopped (last beat {silent}; limit {limit:g} s)"
            )
        if expected is not None and self._beat_server != expected:
            raise ServerLostError("the skill server restarted (new server id); its running goal is lost")

    def send(self, op: Op, args: dict[str, Any], timeout_s: float | None) -> str:
        goal = uuid.uuid4().hex
        with self._cond:
            self._waiting.add(goal)
        self._request.publish(Request(id=goal, op=op, args=args, timeout_s=timeout_s))
        return goal

    def wait_response(self, goal: str, deadline: float) -> Response | None:
        """The response to ``goal``, ``None`` at ``deadline``; :class:`ServerLostError` if the server dies."""
        with self._cond:
            server = self.describe.server_id if self.describe else None
            while goal not in self._responses:
                self._check_alive_locked(server)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(min(_POLL_S, remaining))
            self._waiting.discard(goal)
            return self._responses.pop(goal)

    def forget(self, goal: str) -> None:
        with self._cond:
            self._waiting.discard(goal)
            self._responses.pop(goal, None)

    def wait_until(self, predicate: Callable[[], bool], deadline: float) -> bool:
        """Wait (checking liveness) until ``predicate()`` holds under the lock; ``False`` at the deadline."""
        with self._cond:
            while not predicate():
                self._check_alive_locked(self.describe.server_id if self.describe else None)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(_POLL_S, remaining))
            return True

    def cancel(self, goal: str) -> None:
        self._cancel.publish(Cancel(id=goal))

    def stop(self, reason: str) -> None:
        """Publish a stop and give it a moment to be acknowledged (no acknowledgement from a dead robot)."""
        self._stop.publish(Stop(reason=reason))
        self._stop.wait_acked(_STOP_ACK_S)

    def close(self) -> None:
        self.participant.close()
