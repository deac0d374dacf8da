"""Test doubles for the harness and CLI tests (tests only; the package never imports this).

``ScriptedTestEnv`` is a tiny deterministic environment, used instead of the household simulator so that
every count in a result file is known in advance. Skills:

* ``advance``: valid, one step towards the goal (``gold_plan_length`` advances complete the task);
* ``fumble``: an invalid action (``last_action_success`` False);
* ``wait``: valid, no progress.

An episode ends on success or after ``max_steps`` steps. Stepping a task whose id contains ``boom`` raises
:class:`EnvConnectionError`; in a task whose id contains ``slow``, ``wait`` times out (a failed step that
raises :class:`EnvTimeoutError`). Every call is logged in ``calls``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Literal

from pydantic import BaseModel, ConfigDict

from envs.base import Env, Observation, StepInfo, StepResult
from envs.registry import ENVS
from envs.task import LifelongSequence, Task
from robomem.agents.base import Agent, EpisodeStats
from robomem.errors import EnvConnectionError, EnvTimeoutError

SKILLS = ("advance", "fumble", "wait")
TEST_ENV_TYPE = "scripted_test"


class ScriptedTestConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["scripted_test"] = "scripted_test"
    max_steps: int = 4


def make_task(task_id: str, subset: str, need: int = 2) -> Task:
    return Task(
        task_id=task_id,
        profile="test",
        subset=subset,
        task_type="simple",
        instruction=f"do {task_id}",
        scene="house_1",
        gold_plan_length=need,
    )


DEFAULT_TASKS: dict[str, tuple[Task, ...]] = {
    "base": (make_task("base_1", "base"), make_task("base_2", "base"), make_task("base_3", "base")),
    "spatial": (make_task("spatial_1", "spatial"), make_task("spatial_boom", "spatial")),
}


class ScriptedTestEnv(Env):
    profile = "test"

    def __init__(
        self,
        config: ScriptedTestConfig | None = None,
        *,
        tasks: Mapping[str, tuple[Task, ...]] = DEFAULT_TASKS,
        sequences: tuple[LifelongSequence, ...] = (),
    ) -> None:
        self.config = config or ScriptedTestConfig()
        self._tasks = dict(tasks)
        self._sequences = sequences
        self.calls: list[tuple[object, ...]] = []
        self._task: Task | None = None
        self._steps = 0
        self._invalid = 0
        self._advanced = 0
        self.closed = False

    @property
    def skills(self) -> tuple[str, ...]:
        return SKILLS

    def subsets(self) -> tuple[str, ...]:
        return tuple(self._tasks)

    def tasks(self, subset: str) -> tuple[Task, ...]:
        return self._tasks[subset]

    def lifelong_sequences(self) -> tuple[LifelongSequence, ...]:
        return self._sequences

    def perturb(self, k: int, seed: int) -> tuple[str, ...]:
        self.calls.append(("perturb", k, seed))
        return tuple(f"object_{i} moved" for i in range(k))

    def reset(self, task: Task, *, keep_world: bool = False) -> Observation:
        self.calls.append(("reset", task.task_id, keep_world))
        self._task = task
        self._steps = self._invalid = self._advanced = 0
        return Observation(instruction=task.instruction, text="You are in a test room.")

    def step(self, action: int | str, *, timeout_s: float | None = None) -> StepResult:
        assert self._task is not None
        self.calls.append(("step", action))
        if "boom" in self._task.task_id:
            raise EnvConnectionError("test server went away")
        name = SKILLS[action] if isinstance(action, int) else action
        self._steps += 1
        if name == "wait" and "slow" in self._task.task_id:
            self._invalid += 1
            done = self._steps >= self.config.max_steps
            raise EnvTimeoutError(f"skill 'wait' did not finish within {timeout_s} s", done=done)
        if name == "advance":
            self._advanced += 1
        if name == "fumble":
            self._invalid += 1
        need = self._task.gold_plan_length or 1
        success = self._advanced >= need
        info: StepInfo = {
            "task_success": float(success),
            "task_progress": min(1.0, self._advanced / need),
            "last_action_success": name != "fumble",
            "env_feedback": f"{name} done",
            "env_step": self._steps,
            "action_id": SKILLS.index(name),
            "action_description": name,
            "instruction": self._task.instruction,
            "num_invalid_actions": self._invalid,
        }
        done = success or self._steps >= self.config.max_steps
        return StepResult(
            observation=Observation(instruction=self._task.instruction, text=name), done=done, info=info
        )

    def close(self) -> None:
        self.closed = True


class ScriptedAgent(Agent):
    """Plays a fixed list of skills per task id; an empty or missing script is an empty plan."""

    def __init__(self, scripts: Mapping[str, Sequence[str]], planner_output_error: int = 0) -> None:
        self.scripts = scripts
        self.planner_output_error = planner_output_error
        self.events: list[str] = []

    def begin_run(self, run_dir: object) -> None:
        self.events.append("begin")

    def end_run(self) -> None:
        self.events.append("end")

    def run_episode(
        self, env: Env, task: Task, observation: Observation, *, episode_id: str = ""
    ) -> EpisodeStats:
        script = self.scripts.get(task.task_id, ())
        if not script:
            return EpisodeStats(empty_plan=True)
        for action in script:
            if env.step(action).done:
                break
        return EpisodeStats(planner_steps=1, planner_output_error=self.planner_output_error)


#: Scripts for DEFAULT_TASKS, with the outcome each produces (max_steps 4):
#: base_1 success in 2 steps; base_2 hits max_steps with progress 0.5 and 1 invalid of 4;
#: base_3 empty plan (0 steps); spatial_1 success in 3 steps, 1 invalid; spatial_boom raises on step 1.
DEFAULT_SCRIPTS: dict[str, tuple[str, ...]] = {
    "base_1": ("advance", "advance"),
    "base_2": ("fumble", "advance", "wait", "wait", "wait"),
    "spatial_1": ("advance", "fumble", "advance"),
    "spatial_boom": ("advance",),
}


@contextmanager
def registered_test_env() -> Iterator[str]:
    """Register ``ScriptedTestEnv`` under ``scripted_test`` for the duration of a test."""
    ENVS.add(TEST_ENV_TYPE, ScriptedTestEnv, ScriptedTestConfig)
    try:
        yield TEST_ENV_TYPE
    finally:
        ENVS.unregister(TEST_ENV_TYPE)
