"""The household simulator behind the :class:`envs.base.Env` contract (``env.type: household``)."""

from __future__ import annotations

import random
import time

from envs.base import Budget, Env, Observation, StepInfo, StepResult
from envs.household.config import HouseholdConfig
from envs.household.goals import Bindings, bind_goal, evaluate
from envs.household.perception import perceive, render_text
from envs.household.profiles import PROFILES, Skill
from envs.household.suites import SUBSETS, Suite, load_suite
from envs.household.world import World
from envs.registry import ENVS
from envs.task import LifelongSequence, Task
from robomem.errors import EnvAdapterError

__all__ = ("HouseholdEnv",)


class HouseholdEnv(Env):
    """EB-ALFRED / EB-Habitat-style symbolic household. ``suite`` overrides the configured suite file
    (the task generator uses this to run scenes before any suite exists)."""

    def __init__(self, config: HouseholdConfig, *, suite: Suite | None = None) -> None:
        self.config = config
        self.profile = config.profile
        self._profile = PROFILES[config.profile]
        self._suite = suite
        self._world: World | None = None
        self._task: Task | None = None
        self._bindings = Bindings((), ())
        self._skills: tuple[Skill, ...] = ()
        self._skill_texts: tuple[str, ...] = ()
        self._skill_index: dict[str, int] = {}
        self._steps = 0
        self._invalid = 0
        self._done = True
        self._started = 0.0

    # ---- suites ----------------------------------------------------------------------------------------
    @property
    def suite(self) -> Suite:
        if self._suite is None:
            self._suite = load_suite(self.config.suite, self.profile)
        return self._suite

    def subsets(self) -> tuple[str, ...]:
        return tuple(s for s in SUBSETS if s in self.suite.subsets)

    def tasks(self, subset: str) -> tuple[Task, ...]:
        if subset not in self.suite.subsets:
            raise EnvAdapterError(f"unknown subset {subset!r}; available: {', '.join(self.subsets())}")
        return self.suite.subsets[subset]

    def lifelong_sequences(self) -> tuple[LifelongSequence, ...]:
        if self.config.perturb_k is None:
            return self.suite.lifelong
        return tuple(s.model_copy(update={"perturb_k": self.config.perturb_k}) for s in self.suite.lifelong)

    # ---- the Env contract ------------------------------------------------------------------------------
    @property
    def grammar(self) -> str:
        return self._profile.grammar

    @property
    def robot(self) -> str:
        return self._profile.robot

    @property
    def skills(self) -> tuple[str, ...]:
        return self._skill_texts

    @property
    def world(self) -> World:
        """Privileged full state: for the oracle, tests and tools — never for agents."""
        if self._world is None:
            raise EnvAdapterError("the environment has not been reset yet")
        return self._world

    def set_world(self, world: World) -> None:
        """Privileged: replace the world state (task generator and tests set up exact situations)."""
        world.check_invariants()
        self._world = world
        if self._task is not None:
            self._refresh_skills()

    def reset(self, task: Task, *, keep_world: bool = False) -> Observation:
        if task.profile != self.profile:
            raise EnvAdapterError(
                f"task {task.task_id} is for profile {task.profile!r}, env is {self.profile!r}"
            )
        keep_world = keep_world and not task.restage
        self.world_persists = keep_world and self._world is not None
        if keep_world and self._world is not None:
            if self._world.scene != task.scene:
                raise EnvAdapterError(
                    f"keep_world needs the same house: current {self._world.scene!r}, task {task.scene!r}"
                )
        else:
            self._world = self.suite.world(task.scene)
            self._world.apply_effects()  # a hand-written scene may not have applied them (fridge → cold)
        world = self._world
        world.picked_this_episode = set()
        self._relocate(world, task)
        self._profile.on_reset(world)
        self._task = task
        self._bindings = bind_goal(world, task.goal)
        self._refresh_skills()
        self._steps = 0
        self._invalid = 0
        self._done = False
        self._started = time.monotonic()
        return self._observe()

    def step(self, action: int | str, *, timeout_s: float | None = None) -> StepResult:
        # A symbolic skill finishes instantly, so ``timeout_s`` can never expire here.
        if self._world is None or self._task is None:
            raise EnvAdapterError("call reset() before step()")
        if self._done:
            raise EnvAdapterError("the episode is over; call reset() to start another")
        world, task = self._world, self._task
        action_id = self.action_id(action)
        if action_id < 0:
            # EmbodiedBench's rule: such an action never reaches its simulator (the evaluator books it as
            # invalid), so it is no step and counts against the invalid-action limit only.
            outcome = self._profile.invalid(f"The action {action!r} is not in the skill set.")
            description = str(action)
        else:
            skill = self._skills[action_id]
            outcome = self._profile.execute(world, skill)
            description = skill.text
            self._steps += 1
        if not outcome.success:
            self._invalid += 1
        success, progress = self.goal_status()
        self._done = (
            success or self._steps >= self.max_steps or self._invalid >= self.config.max_invalid_actions
        )
        info: StepInfo = {
            "task_success": float(success),
            "task_progress": progress,
            "last_action_success": outcome.success,
            "env_feedback": outcome.feedback,
            "env_step": self._steps,
            "action_id": action_id,
            "action_description": description,
            "instruction": task.instruction,
            "num_invalid_actions": self._invalid,
        }
        return StepResult(observation=self._observe(), done=self._done, info=info)

    def budget(self) -> Budget:
        if self._done:
            return Budget(steps_left=0, invalid_actions_left=0)
        return Budget(
            steps_left=max(0, self.config.max_steps - self._steps),
            invalid_actions_left=max(0, self.config.max_invalid_actions - self._invalid),
        )

    def skill_guide(self) -> str:
        notes = self._profile.guide_notes
        return super().skill_guide() + ("\n\n" + notes if notes else "")

    @property
    def max_steps(self) -> int:
        """This episode's step limit: the task's own budget when it has one, else ``config.max_steps``."""
        budget = self._task.max_steps if self._task is not None else None
        return budget if budget is not None else self.config.max_steps

    @property
    def current_task(self) -> Task:
        if self._task is None:
            raise EnvAdapterError("the environment has not been reset yet")
        return self._task

    @property
    def bindings(self) -> Bindings:
        """Privileged: the instances each goal description was bound to at reset."""
        return self._bindings

    def goal_status(self) -> tuple[bool, float]:
        """(task_success, task_progress) of the current episode, evaluated now."""
        return evaluate(self.world, self.current_task.goal, self._bindings)

    def episode_elapsed_seconds(self) -> float:
        return time.monotonic() - self._started

    # ---- lifelong mode ---------------------------------------------------------------------------------
    def perturb(self, k: int, seed: int) -> tuple[str, ...]:
        """Someone else moves ``k`` objects (never the one in the robot's hand) to other receptacles."""
        world = self.world
        rng = random.Random(seed)
        movable = sorted(n for n in world.entities if world.spec(n).pickable and not world.in_hand(n))
        places = sorted(
            n
            for n, e in world.entities.items()
            if world.is_fixed(n) and world.spec(n).is_container and e.type != "Floor"
        )
        moves = []
        for obj in rng.sample(movable, min(k, len(movable))):
            current = world.place_of(obj)
            options = [p for p in places if p != current and world.fits(obj, p)]
            if not options:
                continue
            target = rng.choice(options)
            world.move(obj, target)
            moves.append(f"{obj} moved from {current} to {target}")
        world.apply_effects()
        if self._task is not None:
            self._refresh_skills()
        return tuple(moves)

    # ---- internals -------------------------------------------------------------------------------------
    @staticmethod
    def _relocate(world: World, task: Task) -> None:
        """Apply the task's scripted moves by someone else (never to what the robot holds)."""
        for move in task.relocations:
            if move.object not in world.entities or move.to not in world.entities:
                raise EnvAdapterError(f"task {task.task_id}: cannot move {move.object!r} to {move.to!r}")
            if world.in_hand(move.object) or world.place_of(move.object) == move.to:
                continue
            if not world.fits(move.object, move.to):
                raise EnvAdapterError(f"task {task.task_id}: {move.object!r} does not fit in {move.to!r}")
            world.move(move.object, move.to)
        if task.relocations:
            world.apply_effects()

    def _refresh_skills(self) -> None:
        self._skills = self._profile.skills(self.world)
        self._skill_texts = tuple(s.text for s in self._skills)
        self._skill_index = {text: i for i, text in enumerate(self._skill_texts)}

    def action_id(self, action: int | str) -> int:
        if isinstance(action, int):
            return action if 0 <= action < len(self._skills) else -1
        return self._skill_index.get(action, -1)

    def _observe(self) -> Observation:
        assert self._task is not None
        perception = perceive(self.world)
        return Observation(
            instruction=self._task.instruction, text=render_text(perception), perception=perception
        )


@ENVS.register("household", HouseholdConfig)
def _build(config: HouseholdConfig) -> HouseholdEnv:
    return HouseholdEnv(config)
