"""The pantry: a row of shelves with one thing on each; the task is to hold one of them.

It speaks a subset of EB-ALFRED's skill grammar (``find a X``, ``pick up the X``, ``put down the object in
hand``), so robomem's symbolic planner, critic and memory operations understand it. What makes it a robomem
environment (README.md, "Your own environment"):

* it enforces its own limits (``max_steps``, ``max_invalid_actions``) and says what is left in ``budget``;
* a failed action or one not in the skill list is a normal step whose feedback starts with
  ``Last action is invalid.``, with ``action_id`` -1 for an action not in the skill list;
* its perception names the robot ``I`` (``I at Shelf_2``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from envs.base import Budget, Env, Observation, PerceivedEntity, Perception, Relation, StepInfo, StepResult
from envs.task import Condition, Ref, Task
from robomem.errors import EnvAdapterError

INVALID = "Last action is invalid."


class PantryConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["pantry"] = "pantry"
    #: One thing per shelf, left to right (types as the skill texts name them).
    items: tuple[str, ...] = Field(default=("Apple", "Bread", "Mug"), min_length=1)
    max_steps: int = Field(default=10, ge=1)
    max_invalid_actions: int = Field(default=3, ge=1)


class PantryEnv(Env):
    #: The grammar's name: robomem's planners and prompts know ``alfred``'s.
    profile = "alfred"
    #: A simulator: ``task_success`` is ground truth the agent does not see.
    privileged_success = True
    Config = PantryConfig

    def __init__(self, config: PantryConfig) -> None:
        self.config = config
        self._shelves = {item: f"Shelf_{i + 1}" for i, item in enumerate(config.items)}
        self._skills = (
            *(f"find a {item}" for item in config.items),
            *(f"pick up the {item}" for item in config.items),
            "put down the object in hand",
        )
        self._task: Task | None = None
        self._at: str | None = None
        self._holding: str | None = None
        self._steps = self._invalid = 0
        self._done = False

    # -- tasks ----------------------------------------------------------------------------------------------

    def subsets(self) -> tuple[str, ...]:
        return ("base",)

    def tasks(self, subset: str) -> tuple[Task, ...]:
        if subset != "base":
            raise EnvAdapterError(f"the pantry has no subset {subset!r}; it has: base")
        return tuple(
            Task(
                task_id=f"pantry-{i + 1}",
                profile=self.profile,
                subset="base",
                task_type="pick_up",
                instruction=f"Pick up the {item.lower()}.",
                scene="pantry",
                goal=(Condition(object=Ref(type=item, text=f"the {item.lower()}"), held=True),),
                gold_plan_length=2,
            )
            for i, item in enumerate(self.config.items)
        )

    # -- the Env contract -----------------------------------------------------------------------------------

    @property
    def skills(self) -> tuple[str, ...]:
        return self._skills

    def reset(self, task: Task, *, keep_world: bool = False) -> Observation:
        self.world_persists = keep_world and self._task is not None
        if not self.world_persists:
            self._at, self._holding = None, None
        self._task, self._steps, self._invalid, self._done = task, 0, 0, False
        return self._observe("You are in the pantry.")

    def step(self, action: int | str, *, timeout_s: float | None = None) -> StepResult:
        if self._task is None:
            raise EnvAdapterError("call reset() before step()")
        if self._done:
            raise EnvAdapterError("the episode is over; call reset() to start another")
        action_id = self.action_id(action)
        text = self._skills[action_id] if action_id >= 0 else str(action)
        ok, feedback = self._execute(text) if action_id >= 0 else (False, f"{INVALID} {text!r} is no skill.")
        self._steps += 1
        self._invalid += 0 if ok else 1
        success = self._holding is not None and self._holding == self._task.goal[0].object.type
        self._done = (
            success
            or self._steps >= self.config.max_steps
            or self._invalid >= self.config.max_invalid_actions
        )
        info: StepInfo = {
            "task_success": float(success),
            "task_progress": float(success),
            "last_action_success": ok,
            "env_feedback": feedback,
            "env_step": self._steps,
            "action_id": action_id,
            "action_description": text,
            "instruction": self._task.instruction,
            "num_invalid_actions": self._invalid,
        }
        return StepResult(observation=self._observe(feedback), done=self._done, info=info)

    def budget(self) -> Budget:
        if self._done:
            return Budget(steps_left=0, invalid_actions_left=0)
        return Budget(
            steps_left=self.config.max_steps - self._steps,
            invalid_actions_left=self.config.max_invalid_actions - self._invalid,
        )

    # -- the world ------------------------------------------------------------------------------------------

    def _execute(self, skill: str) -> tuple[bool, str]:
        if skill.startswith("find a "):
            self._at = self._shelves[skill.removeprefix("find a ")]
            return True, "Last action executed successfully."
        if skill.startswith("pick up the "):
            item = skill.removeprefix("pick up the ")
            if self._holding is not None:
                return False, f"{INVALID} The robot already holds the {self._holding}."
            if self._at != self._shelves[item]:
                return False, f"{INVALID} The {item} is not within reach."
            self._holding = item
            return True, "Last action executed successfully."
        if self._holding is None:  # put down
            return False, f"{INVALID} The robot holds nothing."
        self._holding = None
        return True, "Last action executed successfully."

    def _observe(self, text: str) -> Observation:
        assert self._task is not None
        on_shelf = [i for i, s in self._shelves.items() if s == self._at and i != self._holding]
        entities = [PerceivedEntity(name=s, type="Shelf", kind="receptacle") for s in self._shelves.values()]
        entities += [PerceivedEntity(name=i, type=i, kind="object") for i in on_shelf]
        relations = [Relation(subject=i, relation="on", object=self._shelves[i]) for i in on_shelf]
        if self._at is not None:
            relations.append(Relation(subject="I", relation="at", object=self._at))
        if self._holding is not None:
            relations.append(Relation(subject="I", relation="holding", object=self._holding))
        perception = Perception(
            location=self._at,
            room="Pantry",
            holding=self._holding,
            entities=tuple(entities),
            relations=tuple(relations),
        )
        where = f" You are at {self._at}." if self._at else ""
        return Observation(instruction=self._task.instruction, text=f"{text}{where}", perception=perception)
