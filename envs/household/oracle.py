"""The privileged oracle planner: reads the full world state and the goal bindings, and drives a task to
success. Used only to prove generated tasks solvable and to record gold plan lengths — never by an agent.
"""

from __future__ import annotations

from envs.household.env import HouseholdEnv
from envs.household.profiles.alfred import KNIVES
from envs.skill_language import DROP, PUT_DOWN, skill_text

__all__ = ("OracleError", "solve")


class OracleError(RuntimeError):
    """The oracle could not solve the task: the task (or the simulator) is broken."""


class _Runner:
    def __init__(self, env: HouseholdEnv) -> None:
        self.env = env
        self.world = env.world
        self.actions: list[str] = []
        self.succeeded = False

    def do(self, action: str) -> None:
        if self.succeeded:
            return  # the goal already holds; the rest of the plan is moot
        result = self.env.step(action)
        self.actions.append(action)
        if not result.info["last_action_success"]:
            raise OracleError(f"{action!r} failed: {result.info['env_feedback']}")
        self.succeeded = bool(result.info["task_success"])
        if result.done and not self.succeeded:
            raise OracleError(f"episode ended unsolved after {len(self.actions)} steps")

    # ---- shared choices --------------------------------------------------------------------------------
    def pick_object(self, candidates: frozenset[str], exclude: tuple[str, ...] = ()) -> str:
        options = sorted(c for c in candidates if c not in exclude)
        if not options:
            raise OracleError(f"no object left among {sorted(candidates)}")
        return options[0]

    def pick_container(self, candidates: frozenset[str] | None, obj: str) -> str:
        # A jammed receptacle never opens: the oracle knows (it reads the world), an agent has to learn it.
        jammed = self.world.jammed
        options = sorted(c for c in (candidates or ()) if self.world.fits(obj, c) and c not in jammed)
        if not options:
            raise OracleError(f"no receptacle among {sorted(candidates or ())} fits {obj}")
        return options[0]

    def first_of_type(self, type_name: str) -> str:
        names = self.world.instances(type_name)
        if not names:
            raise OracleError(f"no {type_name} in this house")
        return names[0]


class _Alfred(_Runner):
    def free_hand(self) -> None:
        world = self.world
        if world.held is None:
            return
        target = world.put_target
        if (
            target is not None
            and world.nearby(target)
            and not world.is_closed(target)
            and world.fits(world.held, target)
        ):
            self.do(PUT_DOWN)
        else:
            self.do(DROP)

    def fetch(self, obj: str) -> None:
        if self.world.held == obj:
            return
        self.free_hand()
        self.do(skill_text("find", obj))
        for container in reversed(self.world.ancestors(obj)):
            if self.world.is_closed(container):
                self.do(skill_text("open", container))
        self.do(skill_text("pick", obj))

    def put_into(self, container: str) -> None:
        self.do(skill_text("find", container))
        outer = [c for c in reversed(self.world.ancestors(container)) if self.world.is_closed(c)]
        for closed in outer:
            self.do(skill_text("open", closed))
        if outer:
            self.do(skill_text("find", container))  # opening re-aims "put down"; aim it back
        if self.world.is_closed(container):
            self.do(skill_text("open", container))
        self.do(PUT_DOWN)

    def slice(self, obj: str) -> None:
        knife = next((k for t in KNIVES for k in self.world.instances(t)), None)
        if knife is None:
            raise OracleError("no knife in this house")
        self.fetch(knife)
        self.do(skill_text("find", obj))
        for container in reversed(self.world.ancestors(obj)):
            if self.world.is_closed(container):
                self.do(skill_text("open", container))
        self.do(skill_text("slice", obj))
        self.do(PUT_DOWN)

    def treat(self, obj: str, state: str) -> None:
        """Leave ``obj`` clean, hot or cold, held again afterwards."""
        world = self.world
        if state == "clean":
            sink = next(
                s for s in world.instances("Sink") if any(e.anchor == s for e in world.entities.values())
            )
            faucet = next(e.name for e in world.entities.values() if e.anchor == sink)
            self.put_into(sink)
            self.do(skill_text("on", faucet))
            self.do(skill_text("off", faucet))
        elif state == "hot":
            oven = self.first_of_type("Microwave")
            self.put_into(oven)
            self.do(skill_text("close", oven))
            self.do(skill_text("on", oven))
            self.do(skill_text("off", oven))
            self.do(skill_text("open", oven))
        else:
            self.put_into(self.first_of_type("Fridge"))
        self.do(skill_text("pick", obj))

    def look(self, obj: str, lamps: frozenset[str]) -> None:
        lamp = sorted(lamps)[0]
        self.fetch(obj)
        self.do(skill_text("find", lamp))
        self.do(skill_text("on", lamp))


class _Habitat(_Runner):
    def free_hand(self) -> None:
        world = self.world
        held = world.held
        if held is None:
            return
        here = world.agent_location
        if here is None or world.is_closed(here) or not world.fits(held, here):
            here = next(
                n
                for room in world.rooms
                for n in (e.name for e in world.room_fixed(room))
                if not world.spec(n).openable and world.fits(held, n)
            )
            self.do(skill_text("navigate", here))
        self.do(skill_text("place", here))

    def fetch(self, obj: str) -> None:
        if self.world.held == obj:
            return
        self.free_hand()
        place = self.world.place_of(obj)
        self.do(skill_text("navigate", place))
        if place is not None and self.world.is_closed(place):
            self.do(skill_text("open", place))
        self.do(skill_text("pick", obj))

    def put_into(self, container: str) -> None:
        self.do(skill_text("navigate", container))
        if self.world.is_closed(container):
            self.do(skill_text("open", container))
        self.do(skill_text("place", container))

    def slice(self, obj: str) -> None:
        raise OracleError("the habitat profile has no slicing")

    def treat(self, obj: str, state: str) -> None:
        if state != "cold":
            raise OracleError(f"the habitat profile cannot make things {state}")
        self.put_into(self.first_of_type("refrigerator"))
        self.do(skill_text("pick", obj))

    def look(self, obj: str, lamps: frozenset[str]) -> None:
        raise OracleError("the habitat profile has no lamps")


def solve(env: HouseholdEnv) -> list[str]:
    """Drive the env's current episode to success; return the actions. Raises :class:`OracleError`."""
    task = env.current_task
    runner: _Alfred | _Habitat = _Alfred(env) if env.profile == "alfred" else _Habitat(env)
    goal, bound = task.goal, env.bindings
    kind = task.task_type
    if kind == "look_at_obj_in_light":
        runner.look(runner.pick_object(bound.objects[0]), bound.objects[1])
    elif kind == "pick_two_obj_and_place":
        if len(goal) == 2 and goal[1].count == 2:
            first = runner.pick_object(bound.objects[1])
            objs = [first, runner.pick_object(bound.objects[1], exclude=(first,))]
        else:
            first = runner.pick_object(bound.objects[0])
            objs = [first, runner.pick_object(bound.objects[1], exclude=(first,))]
        target = runner.pick_container(bound.containers[-1], objs[0])
        for obj in objs:
            _prepare(runner, obj, goal[-1].states)
            runner.put_into(target)
    elif kind == "pick_and_place_with_movable_recep":
        obj = runner.pick_object(bound.objects[0])
        vessel = runner.pick_container(bound.containers[0], obj)
        target = runner.pick_container(bound.containers[1], vessel)
        _prepare(runner, obj, goal[0].states)
        runner.put_into(vessel)
        runner.fetch(vessel)
        runner.put_into(target)
    else:
        final = goal[-1]
        obj = runner.pick_object(bound.objects[-1])
        target = runner.pick_container(bound.containers[-1], obj)
        _prepare(runner, obj, final.states)
        runner.put_into(target)
    if not runner.succeeded:
        raise OracleError(f"task {task.task_id}: plan ended without success: {runner.actions}")
    return runner.actions


def _prepare(runner: _Alfred | _Habitat, obj: str, states: tuple[str, ...]) -> None:
    """Bring ``obj`` into hand with the required states (slice first, then clean / heat / cool)."""
    if "sliced" in states and not runner.world.entities[obj].sliced:
        runner.slice(obj)
    runner.fetch(obj)
    for state in ("clean", "hot", "cold"):
        if state in states:
            runner.treat(obj, state)
