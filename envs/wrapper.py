"""One base for environments that wrap another: the harness's recorder, a bench's step counter, a test's
guard. :class:`EnvWrapper` forwards the whole :class:`envs.base.Env` contract to ``inner`` (optional parts
included, with the inner env's :meth:`~envs.base.Env.capabilities`); a subclass overrides only what it adds.
"""

from __future__ import annotations

from envs.base import Budget, Env, EnvCapabilities, Observation, StepResult
from envs.task import LifelongSequence, Task

__all__ = ("EnvWrapper",)


class EnvWrapper(Env):
    """Forwards every part of the contract to ``inner``. ``close`` closes ``inner`` unless ``owns_inner`` is
    false (an env lent to someone else, e.g. to the agent by the harness, stays open)."""

    def __init__(self, inner: Env, *, owns_inner: bool = True) -> None:
        self.inner = inner
        self.owns_inner = owns_inner
        self.profile = inner.profile
        self.privileged_success = inner.privileged_success

    @property
    def world_persists(self) -> bool:  # type: ignore[override]  # the inner env's, as of its last reset
        return self.inner.world_persists

    @property
    def skills(self) -> tuple[str, ...]:
        return self.inner.skills

    def reset(self, task: Task, *, keep_world: bool = False) -> Observation:
        return self.inner.reset(task, keep_world=keep_world)

    def step(self, action: int | str, *, timeout_s: float | None = None) -> StepResult:
        return self.inner.step(action, timeout_s=timeout_s)

    def action_id(self, action: int | str) -> int:
        return self.inner.action_id(action)

    def budget(self) -> Budget:
        return self.inner.budget()

    def skill_guide(self) -> str:
        return self.inner.skill_guide()

    def capabilities(self) -> EnvCapabilities:
        return self.inner.capabilities()

    def tasks(self, subset: str) -> tuple[Task, ...]:
        return self.inner.tasks(subset)

    def subsets(self) -> tuple[str, ...]:
        return self.inner.subsets()

    def lifelong_sequences(self) -> tuple[LifelongSequence, ...]:
        return self.inner.lifelong_sequences()

    def perturb(self, k: int, seed: int) -> tuple[str, ...]:
        return self.inner.perturb(k, seed)

    def close(self) -> None:
        if self.owns_inner:
            self.inner.close()
