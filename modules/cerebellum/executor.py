"""The skill executor: one action through the env contract, with a timeout, failures turned into feedback.

* A skill that runs but fails is a normal result (EmbodiedBench feedback, ``success=False``).
* A skill that does not finish in ``timeout_s`` (:class:`robomem.errors.EnvTimeoutError`, raised by the env
  after it stopped the skill) becomes a failed step with a timeout feedback, so the planner replans.
* An unreachable robot or env server (:class:`robomem.errors.EnvConnectionError`) is not a failed skill: it
  propagates, so the episode ends cleanly (the agent saves memory first) instead of acting blind.
"""

from __future__ import annotations

from envs.base import Env
from envs.skill_language import invalid
from modules.cerebellum.base import Execution, ExecutorConfig
from modules.cerebellum.registry import EXECUTORS
from robomem.errors import EnvTimeoutError

__all__ = ("ExecutorConfig", "SkillExecutor")


@EXECUTORS.register("skill", ExecutorConfig)
class SkillExecutor:
    def __init__(self, config: ExecutorConfig | None = None) -> None:
        self.config = config or ExecutorConfig()

    def execute(self, env: Env, action: str) -> Execution:
        # The env validates `action` against its own skill set (and counts an unknown one as invalid);
        # robomem never sends anything else to an environment.
        try:
            result = env.step(action, timeout_s=self.config.timeout_s)
        except EnvTimeoutError as err:
            return Execution(
                action=action,
                success=False,
                feedback=invalid(f"The skill did not finish in time ({err})."),
                done=err.done,
                timed_out=True,
            )
        info = result.info
        return Execution(
            action=action,
            success=bool(info["last_action_success"]),
            feedback=info["env_feedback"],
            done=result.done,
            observation=result.observation,
            info=info,
        )
