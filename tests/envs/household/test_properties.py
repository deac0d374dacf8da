"""Property tests: random mixes of valid and invalid actions on random committed tasks never crash and keep
the simulator's invariants after every step; perturbations keep them too."""

from __future__ import annotations

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from envs.base import StepInfo
from envs.household.env import HouseholdEnv
from envs.household.perception import perceive
from envs.household.profiles import PROFILES
from envs.household.world import World
from robomem.errors import EnvAdapterError
from tests.envs.household.worlds import committed_env, committed_tasks, objects

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

#: An action as drawn: (kind, n, text), resolved against the skills at step time. Kinds: "id" a raw id
#: (sometimes out of range), "text" garbage, "miss" a near-miss of a skill string, "skill" any skill, "go" a
#: move to something that exists (find / navigate), "near" a skill naming something perceived right here
#: (pick, put, open, toggle, slice, place: this is what gets deep into tasks).
Action = tuple[str, int, str]

KINDS = ["near"] * 6 + ["go"] * 3 + ["skill", "id", "text", "miss"]
NEAR_MISSES = ("find a Unicorn", "pick up the", "put down the object in hand ", "navigate to the moon", "")
ACTIONS = st.tuples(st.sampled_from(KINDS), st.integers(0, 10_000), st.text(max_size=16))


def _resolve(env: HouseholdEnv, action: Action) -> int | str:
    kind, n, text = action
    skills = env.skills
    world = env.world
    if kind == "id":
        return n % (len(skills) + 8) - 3
    if kind == "text":
        return text
    if kind == "miss":
        return NEAR_MISSES[n % len(NEAR_MISSES)]
    options: list[str] = []
    if kind == "go":
        moves = [s for s in skills if s.startswith(("find a ", "navigate to the "))]
        options = [
            s for s in moves if s.removeprefix("find a ").removeprefix("navigate to the ") in world.entities
        ]
    elif kind == "near":
        here = {e.name for e in perceive(world).entities if e.kind == "object"}
        if world.agent_location is not None:
            here.add(world.agent_location)
            here |= {name for name, e in world.entities.items() if e.anchor == world.agent_location}
        options = [s for s in skills if any(s.endswith(f" {name}") for name in here)]
        options = [s for s in options if not s.startswith(("find a ", "navigate to the "))]
        options += [s for s in skills if s.endswith("in hand")]
    options = options or list(skills)
    return options[n % len(options)]


def _check_world(world: World) -> None:
    world.check_invariants()
    if world.held is not None:
        assert world.entities[world.held].parent is None
        assert world.spec(world.held).kind == "object"
    for name in objects(world):
        assert world.entities[name].parent is not None or name == world.held
    if world.agent_location is not None:
        assert world.entities[world.agent_location].room == world.agent_room
    assert world.agent_room in world.rooms


def _check_step(env: HouseholdEnv, info: StepInfo, done: bool, previous: StepInfo | None) -> None:
    assert set(info) == set(StepInfo.__required_keys__)
    step = previous["env_step"] if previous else 0
    invalid = previous["num_invalid_actions"] if previous else 0
    assert info["env_step"] == step + (info["action_id"] >= 0)  # an action outside the skills is no step
    assert info["num_invalid_actions"] == invalid + (not info["last_action_success"])
    assert -1 <= info["action_id"] < len(env.skills)
    if info["action_id"] >= 0:
        assert info["action_description"] == env.skills[info["action_id"]]
    else:
        assert info["last_action_success"] is False
    assert info["env_feedback"].startswith(
        "Last action executed successfully" if info["last_action_success"] else "Last action is invalid. "
    )
    assert info["task_success"] in (0.0, 1.0)
    assert 0.0 <= info["task_progress"] <= 1.0
    assert (info["task_success"] == 1.0) == (info["task_progress"] == 1.0)
    assert info["instruction"] == env.current_task.instruction
    assert done == (
        info["task_success"] == 1.0
        or info["env_step"] >= env.config.max_steps
        or info["num_invalid_actions"] >= env.config.max_invalid_actions
    )


def _check_perception(env: HouseholdEnv) -> None:
    world = env.world
    perception = perceive(world)
    seen = {e.name for e in perception.entities if e.kind == "object"}
    assert seen == {n for n in objects(world) if world.is_visible(n)}
    assert perception.holding == (() if world.held is None else (world.held,))
    if world.held is not None:
        assert world.held in seen
    for name in seen - {world.held}:
        assert world.hidden_by(name) is None


@SETTINGS
@given(
    profile=st.sampled_from(["alfred", "habitat"]),
    task_index=st.integers(min_value=0, max_value=10_000),
    actions=st.lists(ACTIONS, min_size=5, max_size=40),
)
def test_random_actions_keep_invariants(profile: str, task_index: int, actions: list[Action]) -> None:
    env = committed_env(profile)
    tasks = committed_tasks(profile)
    task = tasks[task_index % len(tasks)]
    obs = env.reset(task)
    assert obs.instruction == task.instruction
    _check_world(env.world)
    previous: StepInfo | None = None
    for action in actions:
        result = env.step(_resolve(env, action))
        _check_step(env, result.info, result.done, previous)
        _check_world(env.world)
        _check_perception(env)
        previous = result.info
        if env.world.held is not None:
            event("held something")
        if result.info["task_progress"] > 0:
            event("made progress")
        if result.done:
            event("success" if result.info["task_success"] else "hit a limit")
            try:
                env.step(0)
            except EnvAdapterError:
                break
            raise AssertionError("step after done did not raise")


@SETTINGS
@given(
    profile=st.sampled_from(["alfred", "habitat"]),
    sequence=st.integers(min_value=0, max_value=4),
    warmup=st.lists(ACTIONS, max_size=16),
    k=st.integers(min_value=0, max_value=6),
    seed=st.integers(min_value=0, max_value=2**31),
)
def test_perturbations_keep_invariants(
    profile: str, sequence: int, warmup: list[Action], k: int, seed: int
) -> None:
    env = committed_env(profile, max_steps=100, max_invalid_actions=100)
    env.reset(env.lifelong_sequences()[sequence].tasks[0])
    for action in warmup:
        if env.step(_resolve(env, action)).done:
            break
    world = env.world
    held = world.held
    before = {n: world.entities[n].parent for n in objects(world)}
    moves = env.perturb(k, seed)
    after = {n: world.entities[n].parent for n in objects(world)}
    movable = len(before) - (held is not None)
    assert len(moves) == min(k, movable)
    assert sum(before[n] != after[n] for n in before) == len(moves)
    assert world.held == held
    _check_world(world)
    _check_perception(env)
    assert env.skills == tuple(s.text for s in PROFILES[profile].skills(world))
