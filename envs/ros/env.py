"""A ROS 2 robot behind the :class:`envs.base.Env` contract (``env.type: ros``).

The robot runs a skill server (deploy/ros2/CONTRACT.md; ``envs.ros.sim_server`` is the reference one).
This client turns ``reset``/``step`` into requests and builds observations from the perception topic.

Failure semantics (what the cerebellum and the harness rely on):

* a skill past its timeout is cancelled; once the server confirms, :class:`EnvTimeoutError` (a failed step,
  the planner replans);
* a server that stops beating, restarts, or does not confirm a cancel is dead:
  :class:`EnvConnectionError` (the episode ends, memory is saved);
* whenever a skill may still be running on an unresponsive robot, and on :meth:`close`, a stop is sent.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, Concatenate, NoReturn, ParamSpec, TypeVar

from pydantic import BaseModel

from envs.base import Budget, Env, EnvCapabilities, Observation, StepInfo, StepResult
from envs.ros.config import RosConfig
from envs.ros.contract import (
    CONTRACT_VERSION,
    ContractError,
    Describe,
    Op,
    PerceptionMsg,
    PerturbResult,
    ResetResult,
    SequencesResult,
    SkillResult,
    TasksResult,
    Topic,
    decode,
)
from envs.ros.link import Link, ServerLostError
from envs.ros.tasks import TaskFile, load_task_file
from envs.skill_language import invalid
from envs.task import LifelongSequence, Task
from robomem.errors import ConfigError, EnvAdapterError, EnvConnectionError, EnvTimeoutError

__all__ = ("RosEnv",)

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)


def _connected(method: Callable[Concatenate[RosEnv, P], R]) -> Callable[Concatenate[RosEnv, P], R]:
    def guarded(self: RosEnv, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._link is None:
            raise EnvAdapterError("the ROS env is closed; build a new one to reconnect")
        return method(self, *args, **kwargs)

    functools.update_wrapper(guarded, method)
    return guarded


class RosEnv(Env):
    """Connects on construction (waits up to ``connect_timeout_s`` for the server) and raises
    :class:`EnvConnectionError` when no server answers."""

    # A physical world is never restored between episodes, and a real robot has no evaluator's score.
    world_persists = True
    privileged_success = False

    def __init__(self, config: RosConfig) -> None:
        self.config = config
        self._task_file: TaskFile | None = load_task_file(config.tasks_file) if config.tasks_file else None
        self._link: Link | None = Link(config)
        try:
            self._describe: Describe = self._link.connect(config.connect_timeout_s)
        except ServerLostError as err:
            self.close(send_stop=False)
            raise EnvConnectionError(
                str(err), hint="start the skill server; see deploy/ros2/README.md"
            ) from None
        if (version := self._describe.contract) != CONTRACT_VERSION:
            self.close(send_stop=False)  # nothing was asked of it
            raise EnvConnectionError(
                f"the skill server on {config.namespace!r} speaks contract version {version}, "
                f"robomem speaks {CONTRACT_VERSION}",
                hint="see deploy/ros2/CONTRACT.md for what changed",
            )
        self.profile = config.profile or self._describe.profile
        self._skills: tuple[str, ...] = ()
        self._task: Task | None = None
        self._tasks: dict[str, tuple[Task, ...]] = {}
        self._steps = 0
        self._invalid = 0
        self._done = True

    @property
    def server(self) -> Describe:
        """What the skill server announced on ``describe``."""
        return self._describe

    def capabilities(self) -> EnvCapabilities:
        """What the skill server's ``describe`` offers (a task file stands in for its suites)."""
        ops = self._describe.ops
        return EnvCapabilities(
            tasks=self._task_file is not None or "tasks" in ops,
            lifelong="lifelong" in ops,
            perturb="perturb" in ops,
            budget=True,
        )

    # ---- suites ------------------------------------------------------------------------------------
    def subsets(self) -> tuple[str, ...]:
        if self._task_file is not None:
            return self._task_file.subset_names()
        if "tasks" not in self._describe.ops:
            # A real robot carries no task suites: the tasks come from a file.
            raise ConfigError(
                "the skill server has no task suites ('tasks' is not among the ops it describes)",
                key="env.tasks_file",
                hint="list your tasks in a YAML file (deploy/ros2/CONTRACT.md, 'Tasks for a real robot')",
            )
        return self._describe.subsets

    @_connected
    def tasks(self, subset: str) -> tuple[Task, ...]:
        if self._task_file is not None:
            return self._task_file.tasks(subset, self.profile)
        if "tasks" not in self._describe.ops:
            raise NotImplementedError("this skill server has no task suites; set env.tasks_file")
        if subset not in self._tasks:
            result = self._call("tasks", {"subset": subset}, self.config.request_timeout_s, subset)
            self._tasks[subset] = self._result(TasksResult, result).tasks
        return self._tasks[subset]

    @_connected
    def lifelong_sequences(self) -> tuple[LifelongSequence, ...]:
        if "lifelong" not in self._describe.ops:
            raise NotImplementedError("this skill server has no lifelong sequences")
        result = self._call("lifelong", {}, self.config.request_timeout_s, "lifelong")
        return self._result(SequencesResult, result).sequences

    @_connected
    def perturb(self, k: int, seed: int) -> tuple[str, ...]:
        if "perturb" not in self._describe.ops:
            raise NotImplementedError("this robot's world cannot be perturbed on request")
        result = self._call("perturb", {"k": k, "seed": seed}, self.config.request_timeout_s, "perturb")
        return self._result(PerturbResult, result).moves

    # ---- the Env contract --------------------------------------------------------------------------
    @property
    def skills(self) -> tuple[str, ...]:
        return self._skills

    @_connected
    def reset(self, task: Task, *, keep_world: bool = False) -> Observation:
        args = {"task": task.model_dump(mode="json"), "keep_world": keep_world}
        result = self._result(
            ResetResult, self._call("reset", args, self.config.request_timeout_s, task.task_id)
        )
        self._task = task
        self._skills = result.skills
        self._steps = self._invalid = 0
        self._done = False
        return self._observe(result.perception_seq)

    @_connected
    def step(self, action: int | str, *, timeout_s: float | None = None) -> StepResult:
        if self._task is None:
            raise EnvAdapterError("call reset() before step()")
        if self._done:
            raise EnvAdapterError("the episode is over; call reset() to start another")
        action_id = self.action_id(action)
        text = self._skills[action_id] if action_id >= 0 else str(action)
        if action_id < 0:
            # Never sent: a robot only ever receives skills from the list it published.
            # EmbodiedBench's invalid-action prefix, which planners, critics and memory read.
            feedback = invalid(f"The action {action!r} is not in the skill set.")
            result = SkillResult(success=False, feedback=feedback)
            observation = self._observe(None)
        else:
            limit = timeout_s if timeout_s is not None else self.config.step_timeout_s
            try:
                raw = self._call("step", {"action": text}, limit, text, cancellable=True)
            except EnvTimeoutError as err:
                self._count(success=False)
                raise EnvTimeoutError(str(err), done=self._done) from None
            result = self._result(SkillResult, raw)
            if result.skills is not None:
                self._skills = result.skills
            observation = self._observe(result.perception_seq)
        self._count(
            success=result.success, done=result.done or result.task_success >= 1.0, step=action_id >= 0
        )
        info: StepInfo = {
            "task_success": result.task_success,
            "task_progress": result.task_progress,
            "last_action_success": result.success,
            "env_feedback": result.feedback,
            "env_step": self._steps,
            "action_id": action_id,
            "action_description": text,
            "instruction": self._task.instruction,
            "num_invalid_actions": self._invalid,
        }
        return StepResult(observation=observation, done=self._done, info=info)

    def budget(self) -> Budget:
        if self._done:
            return Budget(steps_left=0, invalid_actions_left=0)
        return Budget(
            steps_left=max(0, self.config.max_steps - self._steps),
            invalid_actions_left=max(0, self.config.max_invalid_actions - self._invalid),
        )

    def _count(self, *, success: bool, done: bool = False, step: bool = True) -> None:
        """One more step (a timed-out skill too) toward the episode's limits. An action outside the skill
        list never reached the robot: by EmbodiedBench's rule (as the simulator and the bridge count) it is
        an invalid action, not a step."""
        self._steps += 1 if step else 0
        self._invalid += 0 if success else 1
        self._done = (
            done or self._steps >= self.config.max_steps or self._invalid >= self.config.max_invalid_actions
        )

    def close(self, *, send_stop: bool = True) -> None:
        link, self._link = getattr(self, "_link", None), None
        if link is None:
            return
        try:
            if send_stop:
                link.stop("client closing")
        finally:
            link.close()

    # ---- requests ----------------------------------------------------------------------------------
    def _call(
        self, op: Op, args: dict[str, Any], timeout_s: float, what: str, *, cancellable: bool = False
    ) -> dict[str, Any]:
        link = self._link
        assert link is not None
        try:
            link.check_alive()
            goal = link.send(op, args, timeout_s)
            response = link.wait_response(goal, time.monotonic() + timeout_s)
            if response is None:
                link.cancel(goal)
                response = link.wait_response(goal, time.monotonic() + self.config.cancel_timeout_s)
                if response is None:
                    link.forget(goal)
                    self._fail(
                        f"{op} {what!r}: no answer within {timeout_s:g} s and the cancel was not confirmed "
                        f"within {self.config.cancel_timeout_s:g} s; the skill server is not responding"
                        + self._rejection(Topic.RESPONSE, "response")
                    )
                if not response.ok and response.error is not None and response.error.code == "cancelled":
                    if not cancellable:
                        self._fail(f"{op} {what!r} did not finish within {timeout_s:g} s (cancelled)")
                    raise EnvTimeoutError(
                        f"skill {what!r} did not finish within {timeout_s:g} s; it was cancelled"
                    )
        except ServerLostError as err:
            self._fail(f"{op} {what!r}: {err}")
        if not response.ok:
            error = response.error
            code, message = (error.code, error.message) if error is not None else ("internal", "")
            raise EnvAdapterError(f"the skill server refused {op} {what!r}: {code}: {message}")
        return response.result

    def _fail(self, message: str) -> NoReturn:
        """The server is gone or wedged: stop the robot (best effort) and end the episode."""
        self._done = True
        assert self._link is not None
        self._link.stop(f"robomem: {message}")
        raise EnvConnectionError(message, hint="a stop command was sent; check the skill server")

    def _rejection(self, topic: str, what: str) -> str:
        """The reason the last message on ``topic`` was rejected, for an error message (or "")."""
        assert self._link is not None
        reason = self._link.rejected(topic)
        return f" (the last {what} message was rejected: {reason})" if reason else ""

    def _result(self, model: type[M], result: dict[str, Any]) -> M:
        try:
            return decode(model, result)
        except ContractError as err:
            raise EnvAdapterError(f"the skill server sent a malformed result: {err}") from None

    def _observe(self, seq: int | None) -> Observation:
        link = self._link
        assert link is not None
        assert self._task is not None

        def arrived() -> bool:
            return link.perception is not None and (seq is None or link.perception.seq >= seq)

        try:
            ok = link.wait_until(arrived, time.monotonic() + self.config.perception_timeout_s)
        except ServerLostError as err:
            self._fail(f"waiting for perception: {err}")
        if not ok:
            self._fail(
                f"no perception (seq {seq}) within {self.config.perception_timeout_s:g} s"
                + self._rejection(Topic.PERCEPTION, "perception")
            )
        perception: PerceptionMsg | None = link.perception
        assert perception is not None
        images = (link.image,) if self.config.images and link.image is not None else ()
        return Observation(
            instruction=self._task.instruction,
            text=perception.text,
            perception=perception.perception,
            images=images,
        )
