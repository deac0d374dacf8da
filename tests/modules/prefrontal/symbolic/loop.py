"""A plain measurement loop (no LangGraph): thalamus → memory update → retrieve → planner ⇄ critic → env.

It follows the paper's Algorithm 1 with EmbodiedBench's execution rules: the critic reviews every action of a
plan except the first; a rejection, an invalid action or the end of the plan triggers a replan.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from envs.base import Env
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.task import LifelongSequence, Task
from envs.wrapper import EnvWrapper
from modules.hippocampus.base import EpisodeContext, EpisodeOutcome, StepRecord
from modules.hippocampus.config import MemoryConfig
from modules.hippocampus.factory import open_memory
from modules.hippocampus.system import MemorySystem
from modules.prefrontal.base import Critic, ExecutedAction, Planner, PlanningInput
from modules.thalamus.deterministic import DeterministicThalamus
from robomem.embeddings.config import EmbedderConfig
from robomem.stores.config import VectorConfig

__all__ = (
    "EpisodeRun",
    "GuardedEnv",
    "PrivilegedAccessError",
    "fast_memory",
    "run_episode",
    "run_sequence",
    "run_tasks",
)


class PrivilegedAccessError(AssertionError):
    """The agent loop touched simulator internals."""


class GuardedEnv(EnvWrapper):
    """Forwards the :class:`Env` contract only; privileged attributes (``world``, ``bindings``) raise."""

    def __init__(self, inner: HouseholdEnv) -> None:
        super().__init__(inner)

    def __getattr__(self, name: str) -> object:
        raise PrivilegedAccessError(f"the agent loop read env.{name}")


@dataclass(frozen=True)
class EpisodeRun:
    task: Task
    success: bool
    progress: float
    steps: int
    invalid: int
    plans: int
    rejections: int
    actions: tuple[ExecutedAction, ...]


def fast_memory(stores: tuple[str, ...] | None = None) -> MemoryConfig:
    """The real memory system with the hashing embedder and exact vectors (fast, offline)."""
    extra = {} if stores is None else {"stores": stores}
    return MemoryConfig(embedder=EmbedderConfig(type="hashing"), vector=VectorConfig(type="exact"), **extra)


#: A clock for memory: stored episodes are ordered as they ran (the harness uses its own clock).
_EPISODES = itertools.count(1)


def run_episode(
    env: Env,
    task: Task,
    memory: MemorySystem,
    planner: Planner,
    critic: Critic | None,
    *,
    attempt: str = "",
    keep_world: bool | None = None,
) -> EpisodeRun:
    """``keep_world``: continue the previous episode's world (lifelong); ``None``: restore the scene and
    let spatial memory carry on as if the world persisted (the episodic measurements' convention)."""
    thalamus = DeterministicThalamus()
    observation = env.reset(task, keep_world=bool(keep_world))
    persists = True if keep_world is None else env.world_persists
    context = EpisodeContext(
        task.scene, f"{task.task_id}{attempt}", task.instruction, task.task_type, persists
    )
    memory.begin_episode(context)
    perceived = thalamus.perceive(context, task, 0, observation, None)
    memory.update(perceived.summary)
    history: list[ExecutedAction] = []
    reflection: str | None = None
    vetoed: list[str] = []  # the critic's lasting objections (as robomem.nodes keeps them)
    done = success = False
    progress, invalid, plans, rejections = 0.0, 0, 0, 0
    while not done:
        inp = PlanningInput(
            task,
            observation,
            env.skills,
            memory.retrieve(perceived.queries),
            tuple(history),
            reflection,
            vetoed=tuple(vetoed),
        )
        plan = planner.plan(inp)
        plans += 1
        reflection = None
        if plan.empty or not plan.actions:
            break
        for k, action in enumerate(plan.actions):
            # As robomem.nodes: a plan's first action is asked only about lasting objections.
            lasting = getattr(critic, "lasting", None)
            if critic is not None and (k > 0 or lasting is not None):
                now = dataclasses.replace(
                    inp,
                    observation=observation,
                    memory=memory.retrieve(perceived.queries),
                    history=tuple(history),
                    vetoed=tuple(vetoed),
                )
                rest = plan.actions[k + 1 :]
                if k > 0:
                    verdict = critic.review(action, rest, now)
                else:
                    assert lasting is not None
                    verdict = lasting(action, rest, now)
                if not verdict.ok and (k > 0 or verdict.lasting):
                    reflection, rejections = verdict.reason, rejections + 1
                    vetoed += [action] if verdict.lasting else []
                    break
            result = env.step(action)
            info = result.info
            executed = ExecutedAction(
                action, info["env_feedback"], info["last_action_success"], len(history) + 1
            )
            history.append(executed)
            observation = result.observation
            perceived = thalamus.perceive(context, task, executed.step, observation, executed)
            memory.update(perceived.summary)
            success, progress = bool(info["task_success"]), info["task_progress"]
            invalid = info["num_invalid_actions"]
            if result.done:
                done = True
                break
            if not executed.success:
                break
    memory.end_episode(
        EpisodeOutcome(
            context,
            success,
            progress,
            tuple(StepRecord(a.action, a.feedback, a.success) for a in history),
            time=float(next(_EPISODES)),  # memory's clock: episodes in the order they ran
        )
    )
    return EpisodeRun(task, success, progress, len(history), invalid, plans, rejections, tuple(history))


def run_sequence(
    profile: str,
    sequence: LifelongSequence,
    memory_dir: Path,
    planner: Planner,
    critic: Critic | None,
    *,
    memory_config: MemoryConfig | None = None,
    suite: str = "memory_v1",
) -> list[EpisodeRun]:
    """Run a lifelong sequence in one persistent house, through the guarded env."""
    env = GuardedEnv(HouseholdEnv(HouseholdConfig(profile=profile, suite=suite)))
    memory = open_memory(memory_config or fast_memory(), memory_dir)
    try:
        return [
            run_episode(env, task, memory, planner, critic, keep_world=i > 0)
            for i, task in enumerate(sequence.tasks)
        ]
    finally:
        memory.close()


def run_tasks(
    profile: str,
    tasks: Iterable[Task],
    memory_dir: Path,
    planner: Planner,
    critic: Critic | None,
    *,
    memory_config: MemoryConfig | None = None,
) -> list[EpisodeRun]:
    """Run ``tasks`` one after another with one memory (spatial memory is scoped per house)."""
    env = GuardedEnv(HouseholdEnv(HouseholdConfig(profile=profile)))
    memory = open_memory(memory_config or fast_memory(), memory_dir)
    try:
        return [run_episode(env, task, memory, planner, critic) for task in tasks]
    finally:
        memory.close()
