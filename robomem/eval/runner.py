"""The episode runner: one planned episode run by the agent through a :class:`RecordingEnv`, measured, and
written (its step log, then its result file), or read back on ``--resume``. Used by the sequential run
(:mod:`robomem.eval.harness`) and by every parallel worker (:mod:`robomem.eval.parallel`) alike, so a
parallel run's files are the sequential run's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from envs.base import Env, Observation, StepInfo, StepResult
from envs.task import Task
from envs.wrapper import EnvWrapper
from robomem.agents.base import Agent, EpisodeStats
from robomem.config import Config
from robomem.errors import EnvAdapterError, EnvTimeoutError
from robomem.eval.results import EpisodeRecord, episode_result_path
from robomem.storage import write_json_atomic

if TYPE_CHECKING:
    from robomem.eval.harness import PlannedEpisode

__all__ = ("RecordingEnv", "run_planned", "step_log_path")


class RecordingEnv(EnvWrapper):
    """Forwards to ``inner`` and records what happened. ``close`` does not close ``inner``: the env belongs
    to whoever built it, not to the agent."""

    def __init__(self, inner: Env) -> None:
        super().__init__(inner, owns_inner=False)
        #: Called with the env's step counter after every step (the progress line's current step).
        self.on_step: Callable[[int], None] | None = None
        self.start_episode()

    def start_episode(self) -> None:
        """Zero the counters; only the harness calls this, so an agent's own ``reset`` cannot hide steps."""
        self.num_steps = 0
        self.num_invalid_actions = 0
        self.last_info: StepInfo | None = None
        self.done = False
        self._env_step = 0
        #: The rewards of the steps that reported one (EB's, through the bridge); see results.py.
        self.rewards: list[float] = []
        self._step_since_reset = 0  # the env's step counter as of its last reset
        #: Every step of the episode as ``{"action", "feedback", "success", "step"}`` (the step log).
        self.steps: list[dict[str, object]] = []

    def reset(self, task: Task, *, keep_world: bool = False) -> Observation:
        self.done = False
        self._step_since_reset = 0
        return self.inner.reset(task, keep_world=keep_world)

    def step(self, action: int | str, *, timeout_s: float | None = None) -> StepResult:
        if self.done:
            # Stepping past `done` is an agent bug; the episode's outcome is already fixed.
            raise RuntimeError("the agent stepped the environment after the episode was done")
        try:
            result = self.inner.step(action, timeout_s=timeout_s)
        except EnvTimeoutError as err:
            # The robot tried and gave up: a failed step, as EmbodiedBench would count it.
            self._record(self._skill_text(action), str(err), False, self._env_step + 1, err.done)
            raise
        info = result.info
        reward = info.get("reward")
        if reward is not None:
            self.rewards.append(reward)
        self._record(
            info["action_description"],
            info["env_feedback"],
            info["last_action_success"],
            info["env_step"],
            result.done,
        )
        self.last_info = info
        return result

    def _record(self, action: str, feedback: str, success: bool, step: int, done: bool) -> None:
        if step != self._step_since_reset:
            # Only what the environment counted as a step (EB: an action outside the skill list is not).
            self.num_steps += 1
        self._step_since_reset = step
        if not success:
            self.num_invalid_actions += 1
        self.steps.append({"action": action, "feedback": feedback, "success": success, "step": step})
        self._env_step = step
        self.done = done
        if self.on_step is not None:
            self.on_step(step)

    def _skill_text(self, action: int | str) -> str:
        skills = self.inner.skills
        return skills[action] if isinstance(action, int) and 0 <= action < len(skills) else str(action)


def run_planned(
    cfg: Config,
    item: PlannedEpisode,
    n: int,
    env: Env,
    recorder: RecordingEnv,
    agent: Agent,
    run_dir: Path,
    *,
    clock: Callable[[], float],
    resume: bool,
) -> tuple[EpisodeRecord, bool]:
    """Run episode ``n`` of its subset and write its step log and result file (in that order: a result
    file means the episode is finished); with ``resume``, one whose result file exists is read back
    instead (``True``: it was)."""
    key = f"{item.subset}/{n}"
    result_path = episode_result_path(run_dir, item.subset, n)
    if resume and result_path.exists():
        record = EpisodeRecord.model_validate_json(result_path.read_text(encoding="utf-8"))
        if cfg.eval.mode == "lifelong":
            _fast_forward(item, env, step_log_path(run_dir, item.subset, n))
        agent.episode_saved(key)
        return record, True
    record = _run_episode(item, env, recorder, agent, clock, episode_id=key)
    write_json_atomic(step_log_path(run_dir, item.subset, n), recorder.steps)
    write_json_atomic(result_path, record.to_json())
    # Only now may the agent drop the episode's checkpoints: a kill before the result is written resumes.
    agent.episode_saved(key)
    return record, False


def step_log_path(run_dir: Path, subset: str, n: int) -> Path:
    return run_dir / subset / "steps" / f"episode_{n}_steps.json"


def _fast_forward(item: PlannedEpisode, env: Env, log: Path) -> None:
    """Replay a finished episode's logged actions, without the agent, to rebuild the persistent house."""
    if item.perturb is not None:
        env.perturb(*item.perturb)
    env.reset(item.task, keep_world=item.keep_world)
    steps = json.loads(log.read_text(encoding="utf-8")) if log.exists() else []
    for step in steps:
        env.step(str(step["action"]))


def _run_episode(
    item: PlannedEpisode,
    env: Env,
    recorder: RecordingEnv,
    agent: Agent,
    clock: Callable[[], float],
    *,
    episode_id: str,
) -> EpisodeRecord:
    recorder.start_episode()
    perturbations: tuple[str, ...] | None = None
    stats = EpisodeStats()
    error = None
    started = clock()
    try:
        if item.perturb is not None:
            perturbations = tuple(env.perturb(*item.perturb))
            started = clock()  # the episode's time is the agent's, not the perturbation's
        observation = recorder.reset(item.task, keep_world=item.keep_world)
        stats = agent.run_episode(recorder, item.task, observation, episode_id=episode_id)
    except EnvAdapterError as err:
        error = f"{type(err).__name__}: {err}"
    elapsed = clock() - started
    info = recorder.last_info
    steps = recorder.num_steps
    task = item.task
    return EpisodeRecord(
        reward=sum(recorder.rewards) / len(recorder.rewards) if recorder.rewards else None,
        subgoal_reward=None if info is None else info.get("subgoal_reward"),
        instruction=task.instruction,
        task_success=0.0 if error is not None or info is None else float(info["task_success"]),
        task_progress=0.0 if info is None else float(info["task_progress"]),
        num_steps=steps,
        planner_steps=stats.planner_steps,
        planner_output_error=stats.planner_output_error,
        num_invalid_actions=recorder.num_invalid_actions,
        num_invalid_action_ratio=recorder.num_invalid_actions / steps if steps else 0.0,
        episode_elapsed_seconds=round(elapsed, 3),
        empty_plan=int(stats.empty_plan),
        task_id=task.task_id,
        subset=item.subset,
        task_type=task.task_type,
        scene=task.scene,
        gold_plan_length=task.gold_plan_length,
        attempt=item.attempt,
        sequence_id=item.sequence_id,
        sequence_position=item.sequence_position,
        perturbations=perturbations,
        error=error,
    )
