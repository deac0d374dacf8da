"""The reference skill server: the household simulator behind the ROS 2 contract (deploy/ros2/CONTRACT.md).

Run it with ``python -m envs.ros.sim_server`` (``--help`` lists the options) or the launch file
deploy/ros2/sim_robot.launch.py.
It is what a real robot's skill server looks like from robomem's side: one goal at a time on a worker
thread, heartbeats and cancel/stop handled on the spin thread while a skill runs, perception published after
every change. ``--skill-delay-s`` makes skills take time (so cancel and timeouts can be exercised) and
``--fault`` injects the failures the tests need: ``crash-at-step:N`` SIGKILLs the process when the N-th
step arrives; ``hang-at-step:N`` wedges the worker on it (heartbeats go on, nothing answers).
``--hold-until-sigusr1`` keeps requests waiting until the process gets SIGUSR1, so a test can make sure its
other participants have discovered the client before anything happens.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import signal
import struct
import sys
import threading
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from envs.base import Observation
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.household.perception import perceive, render_text
from envs.ros.contract import (
    CONTRACT_VERSION,
    OPS,
    Cancel,
    ContractError,
    Describe,
    ErrorBody,
    ErrorKind,
    Heartbeat,
    PerceptionMsg,
    PerturbResult,
    Request,
    ResetResult,
    Response,
    SequencesResult,
    SkillResult,
    Stop,
    TasksResult,
    Topic,
    decode,
)
from envs.ros.participant import ImagePublisher, Participant
from envs.task import Task
from robomem.errors import RobomemError

__all__ = ("ServerOptions", "SimSkillServer", "main")

log = logging.getLogger("robomem.sim_server")


@dataclass(frozen=True)
class ServerOptions:
    namespace: str = "/robomem"
    domain_id: int | None = None
    heartbeat_s: float = 0.2
    skill_delay_s: float = 0.0
    camera: bool = False
    #: ``None``, ``("crash", n)`` or ``("hang", n)``: fail when the n-th step of the server's life arrives.
    fault: tuple[str, int] | None = None
    #: Serve no request until :meth:`SimSkillServer.release` (heartbeats and describe go out meanwhile).
    hold: bool = False


class _RefusedError(Exception):
    def __init__(self, code: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.code: ErrorKind = code


class SimSkillServer:
    def __init__(self, env: HouseholdEnv, options: ServerOptions) -> None:
        self.env = env
        self.options = options
        self.server_id = uuid.uuid4().hex
        self._lock = threading.Lock()
        self._current: str | None = None
        self._abort = threading.Event()
        self._abort_kind: ErrorKind = "cancelled"
        self._jobs: queue.Queue[Request | None] = queue.Queue()
        self._beats = 0
        self._perception_seq = 0
        self._steps_seen = 0
        self._released = threading.Event()
        if not options.hold:
            self._released.set()
        self.stops: list[str] = []
        self.participant = p = Participant("robomem_sim_skill_server", options.namespace, options.domain_id)
        try:
            self._response = p.json_publisher(Topic.RESPONSE, "command")
            self._describe = p.json_publisher(Topic.DESCRIBE, "latched")
            self._heartbeat = p.json_publisher(Topic.HEARTBEAT, "stream")
            self._perception = p.json_publisher(Topic.PERCEPTION, "latched")
            self._camera: ImagePublisher | None = p.image_publisher(Topic.CAMERA) if options.camera else None
            p.json_subscription(Topic.REQUEST, "command", self._on_request)
            p.json_subscription(Topic.CANCEL, "command", self._on_cancel)
            p.json_subscription(Topic.STOP, "command", self._on_stop)
            p.create_timer(options.heartbeat_s, self._beat)
        except BaseException:
            p.close()
            raise
        self._worker = threading.Thread(target=self._work, name="sim-skill-worker", daemon=True)

    def start(self) -> None:
        self._describe.publish(
            Describe(
                contract=CONTRACT_VERSION,
                server_id=self.server_id,
                robot="robomem household simulator",
                profile=self.env.profile,
                ops=("reset", "step", "tasks", "lifelong", "perturb"),
                subsets=self.env.subsets(),
                images=self.options.camera,
                heartbeat_period_s=self.options.heartbeat_s,
            )
        )
        self._beat()
        self._worker.start()
        self.participant.start()

    def release(self) -> None:
        """Start serving requests (after ``hold``)."""
        self._released.set()

    def close(self) -> None:
        self._jobs.put(None)
        self._abort_kind = "stopped"  # a skill cut short by the shutdown
        self._abort.set()
        self._released.set()
        self.participant.close()

    # ---- spin thread -------------------------------------------------------------------------------
    def _beat(self) -> None:
        self._beats += 1
        self._heartbeat.publish(Heartbeat(server_id=self.server_id, seq=self._beats, busy=self._current))

    def _on_request(self, text: str) -> None:
        try:
            request = decode(Request, text)
        except ContractError as err:
            goal = _goal_of(text)
            if goal is None:  # nobody to answer
                log.warning("ignoring a malformed request: %s", err)
            else:
                op = _field(text, "op")
                unknown = isinstance(op, str) and op not in OPS
                code: ErrorKind = "unsupported" if unknown else "bad_request"
                self._respond(goal, error=ErrorBody(code=code, message=str(err)))
            return
        with self._lock:
            busy = self._current
            if busy is None:
                self._current = request.id
                self._abort.clear()
        if busy is not None:
            self._respond(request.id, error=ErrorBody(code="busy", message=f"executing goal {busy}"))
            return
        self._jobs.put(request)

    def _on_cancel(self, text: str) -> None:
        try:
            cancel = decode(Cancel, text)
        except ContractError:
            return
        with self._lock:
            if cancel.id == self._current:
                log.info("cancel of goal %s", cancel.id)
                self._abort_kind = "cancelled"
                self._abort.set()

    def _on_stop(self, text: str) -> None:
        try:
            reason = decode(Stop, text).reason
        except ContractError:
            reason = "(malformed stop: stopping anyway)"
        print(f"robomem-sim-server: STOP received: {reason}", flush=True)
        with self._lock:
            self.stops.append(reason)
            if self._current is not None:
                self._abort_kind = "stopped"
                self._abort.set()

    # ---- worker thread -----------------------------------------------------------------------------
    def _work(self) -> None:
        self._released.wait()
        while (request := self._jobs.get()) is not None:
            try:
                result = self._handle(request)
            except _RefusedError as err:
                self._respond(request.id, error=ErrorBody(code=err.code, message=str(err)))
            except (RobomemError, ValidationError, KeyError, TypeError, ValueError) as err:
                self._respond(request.id, error=ErrorBody(code="bad_request", message=str(err)))
            except Exception as err:  # a server keeps serving; the client sees the failure
                log.exception("request %s failed", request.op)
                self._respond(request.id, error=ErrorBody(code="internal", message=repr(err)))
            else:
                self._respond(request.id, result=result)

    def _respond(self, goal: str, *, result: BaseModel | None = None, error: ErrorBody | None = None) -> None:
        with self._lock:
            if self._current == goal:
                self._current = None
        data = result.model_dump(mode="json") if result is not None else {}
        self._response.publish(Response(id=goal, ok=error is None, result=data, error=error))

    def _handle(self, request: Request) -> BaseModel:
        env, args = self.env, request.args
        if request.op == "reset":
            task = Task.model_validate(args["task"])
            observation = env.reset(task, keep_world=bool(args.get("keep_world", False)))
            return ResetResult(skills=env.skills, perception_seq=self._publish(observation))
        if request.op == "step":
            return self._step(str(args["action"]))
        if request.op == "tasks":
            return TasksResult(tasks=env.tasks(str(args["subset"])))
        if request.op == "lifelong":
            return SequencesResult(sequences=env.lifelong_sequences())
        if request.op == "perturb":
            moves = env.perturb(int(args["k"]), int(args["seed"]))
            perception = perceive(env.world)
            text = render_text(perception)
            seq = self._publish(Observation(instruction="", text=text, perception=perception))
            log.info("perturbed (perception %d): %s", seq, moves)
            return PerturbResult(moves=moves)
        raise _RefusedError("unsupported", f"unknown op {request.op!r}")

    def _step(self, action: str) -> SkillResult:
        self._steps_seen += 1
        fault = self.options.fault
        if fault is not None and self._steps_seen == fault[1]:
            print(f"robomem-sim-server: fault {fault[0]} at step {self._steps_seen} ({action!r})", flush=True)
            if fault[0] == "crash":
                os.kill(os.getpid(), signal.SIGKILL)
            threading.Event().wait()  # hang: wedged for good, deaf to cancel and stop
        if self.options.skill_delay_s > 0 and self._abort.wait(self.options.skill_delay_s):
            # Aborted before the skill acted: the world is unchanged.
            raise _RefusedError(self._abort_kind, f"skill {action!r} aborted before it finished")
        before = self.env.skills
        result = self.env.step(action)
        info = result.info
        return SkillResult(
            success=info["last_action_success"],
            feedback=info["env_feedback"],
            done=result.done,
            task_success=info["task_success"],
            task_progress=info["task_progress"],
            skills=self.env.skills if self.env.skills != before else None,
            perception_seq=self._publish(result.observation),
        )

    def _publish(self, observation: Observation) -> int:
        self._perception_seq += 1
        seq = self._perception_seq
        self._perception.publish(
            PerceptionMsg(seq=seq, text=observation.text, perception=observation.perception)
        )
        if self._camera is not None:
            self._camera.publish(_frame(seq))
        return seq


def _frame(seq: int, size: int = 8) -> bytes:
    """A tiny grey PNG whose shade follows ``seq``: a stand-in camera frame for the image path."""
    shade = (seq * 37) % 256
    rows = b"".join(b"\x00" + bytes([shade]) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _field(text: str, key: str) -> object:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    return data.get(key) if isinstance(data, dict) else None


def _goal_of(text: str) -> str | None:
    """The goal id of a request that failed validation, if it has a usable one (then it gets an answer)."""
    goal = _field(text, "id")
    return goal if isinstance(goal, str) and 0 < len(goal) <= 128 else None


def _fault(text: str) -> tuple[str, int]:
    kind, _, n = text.partition("-at-step:")
    if kind not in ("crash", "hang") or not n.isdigit() or int(n) < 1:
        raise argparse.ArgumentTypeError("expected crash-at-step:N or hang-at-step:N (N >= 1)")
    return kind, int(n)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m envs.ros.sim_server", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--profile", choices=("alfred", "habitat"), default="alfred")
    parser.add_argument("--suite", default="v1", help="committed suite version or a suite JSON path")
    parser.add_argument("--namespace", default="/robomem")
    parser.add_argument("--domain-id", type=int, default=None, help="default: $ROS_DOMAIN_ID or 0")
    parser.add_argument("--max-steps", type=int, default=30)
    parser.add_argument("--max-invalid-actions", type=int, default=10)
    parser.add_argument("--heartbeat-s", type=float, default=0.2)
    parser.add_argument("--skill-delay-s", type=float, default=0.0, help="each skill takes this long")
    parser.add_argument(
        "--camera", action="store_true", help="publish a synthetic frame with every perception"
    )
    parser.add_argument("--fault", type=_fault, default=None, metavar="crash-at-step:N|hang-at-step:N")
    parser.add_argument(
        "--hold-until-sigusr1",
        action="store_true",
        help="answer no request until the process gets SIGUSR1 (tests line up their listeners first)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="robomem-sim-server: %(message)s", stream=sys.stderr)
    config = HouseholdConfig(
        profile=args.profile,
        suite=args.suite,
        max_steps=args.max_steps,
        max_invalid_actions=args.max_invalid_actions,
    )
    options = ServerOptions(
        namespace=args.namespace,
        domain_id=args.domain_id,
        heartbeat_s=args.heartbeat_s,
        skill_delay_s=args.skill_delay_s,
        camera=args.camera,
        fault=args.fault,
        hold=args.hold_until_sigusr1,
    )
    done = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server = SimSkillServer(HouseholdEnv(config), options)
    signal.signal(signal.SIGUSR1, lambda _signum, _frame: server.release())
    try:
        server.start()
        print(f"robomem-sim-server: ready on {options.namespace} (server id {server.server_id})", flush=True)
        while not done.wait(0.5):
            pass
    finally:
        server.close()
    print("robomem-sim-server: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
