"""robomem's household simulator served through the bridge protocol (the same core as EmbodiedBench's).

    python -m envs.bridge.household_server --profile alfred --port 0

prints ``robomem bridge (household backend, profile alfred) listening on 127.0.0.1:PORT`` as its first stdout
line. It lets the ``eb_bridge`` client be tested (and demonstrated) end to end without EmbodiedBench.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from envs.bridge.server import Backend, BridgeError, add_server_arguments, run
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.task import Task
from robomem.errors import EnvAdapterError

__all__ = ("HouseholdBackend", "main")

Json = dict[str, Any]


class HouseholdBackend(Backend):
    """Tasks are addressed like EmbodiedBench's: by subset and position (``episode_index``)."""

    name = "household"

    def __init__(self, config: HouseholdConfig) -> None:
        self.env = HouseholdEnv(config)
        self.profile = config.profile
        self.max_steps = config.max_steps
        self.max_invalid_actions = config.max_invalid_actions

    def subsets(self) -> list[str]:
        return list(self.env.subsets())

    def tasks(self, subset: str) -> list[Json]:
        return [task.model_dump(mode="json") for task in self._tasks(subset)]

    def reset(self, subset: str, episode_index: int, keep_world: bool, task_id: str | None) -> Json:
        tasks = self._tasks(subset)
        if episode_index >= len(tasks):
            raise BridgeError(
                "bad_request",
                f"episode_index {episode_index} out of range: {subset} has {len(tasks)} episodes",
            )
        task = tasks[episode_index]
        if task_id is not None and task_id != task.task_id:
            # Client and server read different suite versions: refuse rather than run the wrong task.
            raise BridgeError(
                "bad_request", f"episode {subset}/{episode_index} is {task.task_id!r} here, not {task_id!r}"
            )
        observation = self._call(lambda: self.env.reset(task, keep_world=keep_world))
        return dict(observation.model_dump(mode="json"))

    def step(self, action: Any) -> Json:
        result = self._call(lambda: self.env.step(action))
        return {**result.model_dump(mode="json"), "raw_info": dict(result.info)}

    def skills(self) -> list[str]:
        return list(self.env.skills)

    def _tasks(self, subset: str) -> tuple[Task, ...]:
        tasks = self._call(lambda: self.env.tasks(subset))
        return tuple(t.model_copy(update={"episode_index": i}) for i, t in enumerate(tasks))

    @staticmethod
    def _call(fn: Any) -> Any:
        try:
            return fn()
        except EnvAdapterError as err:
            raise BridgeError("env_error", str(err)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Serve robomem's household simulator over the bridge protocol."
    )
    parser.add_argument("--profile", choices=("alfred", "habitat"), default="alfred")
    parser.add_argument("--suite", default="v1", help="suite version or path (env.suite)")
    parser.add_argument("--max-steps", type=int, default=30, help="steps per episode (EB: 30)")
    parser.add_argument(
        "--max-invalid-actions", type=int, default=10, help="invalid actions per episode (EB: 10)"
    )
    add_server_arguments(parser)
    args = parser.parse_args(argv)
    config = HouseholdConfig(
        profile=args.profile,
        suite=args.suite,
        max_steps=args.max_steps,
        max_invalid_actions=args.max_invalid_actions,
    )
    backend = HouseholdBackend(config)
    return run(backend, args)


if __name__ == "__main__":
    sys.exit(main())
