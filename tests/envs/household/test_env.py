"""The household env behind the Env contract: info keys, invalid actions, limits, SR/GC, errors, lifelong
mode (keep_world, perturb) and sequences."""

from __future__ import annotations

import pytest

from envs.base import Budget, StepInfo
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.household.goals import evaluate
from envs.household.oracle import solve
from envs.household.suites import SUBSETS, load_suite
from envs.household.world import World
from envs.task import Condition, Ref, Task
from robomem.errors import EnvAdapterError, SuiteError
from tests.envs.household.worlds import (
    OK_ALFRED,
    act,
    alfred_world,
    committed_env,
    committed_tasks,
    invalid,
    make_env,
    make_task,
    objects,
    run_ok,
    snapshot,
    started_env,
)

APPLE_IN_FRIDGE = Condition(
    object=Ref(type="Apple", attributes={"color": "red"}, text="the red apple"),
    inside=Ref(type="Fridge", text="the fridge"),
    text="the red apple is in the fridge",
)
APPLE_HELD = Condition(object=Ref(type="Apple", text="an apple"), held=True, text="holding an apple")
MUG_CLEAN = Condition(object=Ref(type="Mug", text="the mug"), states=("clean",), text="the mug is clean")


# ---- observation and info ---------------------------------------------------------------------------------


def test_reset_returns_the_instruction_and_a_perception() -> None:
    env = make_env(alfred_world())
    obs = env.reset(make_task("alfred", instruction="Put the book in the fridge."))
    assert obs.instruction == "Put the book in the fridge."
    assert obs.perception is not None
    assert obs.perception.room == "Kitchen"
    assert obs.text.startswith("You are in the Kitchen.")
    assert obs.images == ()


def test_info_has_exactly_the_step_info_keys(alfred: HouseholdEnv) -> None:
    result = alfred.step("find a Apple")
    assert set(result.info) == set(StepInfo.__required_keys__)
    assert result.info == {
        "task_success": 0.0,
        "task_progress": 0.0,
        "last_action_success": True,
        "env_feedback": OK_ALFRED,
        "env_step": 1,
        "action_id": alfred.skills.index("find a Apple"),
        "action_description": "find a Apple",
        "instruction": "Do the test thing.",
        "num_invalid_actions": 0,
    }
    assert result.done is False
    assert result.observation.instruction == "Do the test thing."


@pytest.mark.parametrize("profile", ["alfred", "habitat"])
def test_action_not_in_the_skill_set_is_invalid(profile: str) -> None:
    env = started_env(profile)
    before = env.world.to_dict()
    info = act(env, "dance a little")
    assert info["action_id"] == -1
    assert info["action_description"] == "dance a little"
    assert info["last_action_success"] is False
    assert info["env_feedback"] == invalid("The action 'dance a little' is not in the skill set.")
    assert (info["env_step"], info["num_invalid_actions"]) == (0, 1)  # EB's rule: invalid, but no step
    assert env.world.to_dict() == before


@pytest.mark.parametrize("profile", ["alfred", "habitat"])
@pytest.mark.parametrize("bad", [-1, 10_000, "len"])
def test_out_of_range_id_is_invalid(profile: str, bad: int | str) -> None:
    env = started_env(profile)
    action = len(env.skills) if bad == "len" else bad
    info = act(env, action)
    assert info["action_id"] == -1
    assert info["action_description"] == str(action)
    assert info["env_feedback"] == invalid(f"The action {action!r} is not in the skill set.")
    assert info["num_invalid_actions"] == 1


def test_skill_text_must_match_exactly(alfred: HouseholdEnv) -> None:
    for near_miss in ("Find a Apple", "find a Apple ", "find an Apple", "find a apple"):
        assert act(alfred, near_miss)["action_id"] == -1
    assert act(alfred, "find a Apple")["action_id"] >= 0


def test_failed_valid_skill_counts_as_invalid_but_keeps_its_id(alfred: HouseholdEnv) -> None:
    info = act(alfred, "drop the object in hand")
    assert info["action_id"] == alfred.skills.index("drop the object in hand")
    assert info["action_description"] == "drop the object in hand"
    assert info["num_invalid_actions"] == 1


def test_timeout_is_accepted_and_irrelevant(alfred: HouseholdEnv) -> None:
    assert act(alfred, "find a Apple")["last_action_success"]
    assert alfred.step("find a Mug", timeout_s=0.0).info["env_feedback"] == OK_ALFRED


# ---- limits -----------------------------------------------------------------------------------------------


def test_default_limits_are_eb_limits() -> None:
    config = HouseholdConfig()
    assert (config.max_steps, config.max_invalid_actions) == (30, 10)


def test_thirty_steps_end_the_episode() -> None:
    env = make_env(alfred_world(), max_steps=30, max_invalid_actions=10)
    env.reset(make_task("alfred"))
    for i in range(1, 30):
        result = env.step("find a Apple")
        assert (result.done, result.info["env_step"]) == (False, i)
    result = env.step("find a Mug")
    assert (result.done, result.info["env_step"], result.info["task_success"]) == (True, 30, 0.0)
    with pytest.raises(EnvAdapterError, match="the episode is over"):
        env.step("find a Apple")


def test_ten_invalid_actions_end_the_episode() -> None:
    env = make_env(alfred_world(), max_steps=30, max_invalid_actions=10)
    env.reset(make_task("alfred"))
    for i in range(1, 10):
        result = env.step("open the Fridge" if i % 2 else "nonsense")
        assert (result.done, result.info["num_invalid_actions"]) == (False, i)
        env.step("find a Sofa")  # valid steps in between do not reset the count
    result = env.step("nonsense")
    # 5 failed Fridge openings and 9 finds were steps; the 5 nonsense actions were not (EB's rule).
    assert (result.done, result.info["num_invalid_actions"], result.info["env_step"]) == (True, 10, 14)
    with pytest.raises(EnvAdapterError):
        env.step(0)


def test_actions_outside_the_skill_list_count_against_the_invalid_limit_only() -> None:
    """EmbodiedBench's rule (its evaluator books such an action, the planner's id -1, as invalid and never
    sends it to the simulator): it is no step, so it cannot use up the step limit. The simulator counted it
    as a step, which ended an episode of unknown actions at the step limit, with invalid actions to spare."""
    env = make_env(alfred_world(), max_steps=3, max_invalid_actions=10)
    env.reset(make_task("alfred"))
    unknown = [env.step(action).info for action in ("nonsense", 10_000, "dance a little", -1)]
    assert [(i["env_step"], i["num_invalid_actions"]) for i in unknown] == [(0, 1), (0, 2), (0, 3), (0, 4)]
    assert env.budget() == Budget(steps_left=3, invalid_actions_left=6)
    assert [env.step("find a Apple").done for _ in range(3)] == [False, False, True]


def test_limits_are_configurable() -> None:
    env = make_env(alfred_world(), max_steps=3, max_invalid_actions=2)
    env.reset(make_task("alfred"))
    assert [env.step("find a Apple").done for _ in range(3)] == [False, False, True]
    env.reset(make_task("alfred"))
    assert [env.step("nonsense").done for _ in range(2)] == [False, True]


def test_budget_is_what_the_limits_leave() -> None:
    env = make_env(alfred_world(), max_steps=5, max_invalid_actions=2)
    env.reset(make_task("alfred"))
    assert env.budget() == Budget(steps_left=5, invalid_actions_left=2)
    env.step("find a Apple")
    env.step("nonsense")  # invalid, but no step
    assert env.budget() == Budget(steps_left=4, invalid_actions_left=1)
    env.step("nonsense")  # the second invalid action ends the episode with steps to spare
    assert env.budget() == Budget(steps_left=0, invalid_actions_left=0)
    env.reset(make_task("alfred"))
    assert env.budget() == Budget(steps_left=5, invalid_actions_left=2)


def test_reset_starts_a_new_count() -> None:
    env = make_env(alfred_world(), max_steps=3, max_invalid_actions=2)
    env.reset(make_task("alfred"))
    env.step("nonsense")
    env.step("find a Apple")
    env.reset(make_task("alfred"))
    info = act(env, "find a Apple")
    assert (info["env_step"], info["num_invalid_actions"]) == (1, 0)


def test_success_ends_the_episode_and_wins_over_limits() -> None:
    env = make_env(alfred_world(), max_steps=2, max_invalid_actions=10)
    env.reset(make_task("alfred", (APPLE_HELD,)))
    assert env.step("find a Apple").done is False
    result = env.step("pick up the Apple")
    assert result.done is True
    assert (result.info["task_success"], result.info["task_progress"]) == (1.0, 1.0)


# ---- errors -----------------------------------------------------------------------------------------------


def test_step_before_reset_raises() -> None:
    env = make_env(alfred_world())
    with pytest.raises(EnvAdapterError, match=r"call reset\(\) before step\(\)"):
        env.step("find a Apple")
    with pytest.raises(EnvAdapterError, match="has not been reset"):
        env.world  # noqa: B018
    with pytest.raises(EnvAdapterError, match="has not been reset"):
        env.current_task  # noqa: B018
    assert env.skills == ()


def test_reset_with_task_of_the_other_profile_raises() -> None:
    env = make_env(alfred_world())
    with pytest.raises(EnvAdapterError, match="is for profile 'habitat', env is 'alfred'"):
        env.reset(make_task("habitat"))


def test_reset_in_unknown_scene_raises() -> None:
    env = make_env(alfred_world())
    with pytest.raises(SuiteError, match="has no scene 'elsewhere'"):
        env.reset(make_task("alfred", scene="elsewhere"))


def test_unknown_subset_raises() -> None:
    env = committed_env("alfred")
    with pytest.raises(EnvAdapterError, match="unknown subset 'hard'"):
        env.tasks("hard")
    assert env.subsets() == SUBSETS


def test_close_twice_and_context_manager() -> None:
    with committed_env("habitat") as env:
        assert env.profile == "habitat"
    env.close()
    env.close()


# ---- success and progress ---------------------------------------------------------------------------------


def test_progress_is_the_fraction_of_conditions_met() -> None:
    env = started_env("alfred", (APPLE_IN_FRIDGE, APPLE_HELD, MUG_CLEAN))
    assert env.goal_status() == (False, 0.0)
    run_ok(env, "find a Apple")
    info = act(env, "pick up the Apple")
    assert (info["task_success"], info["task_progress"]) == (0.0, 1 / 3)
    run_ok(env, "find a Fridge", "open the Fridge")
    info = act(env, "put down the object in hand")
    assert info["task_progress"] == 1 / 3  # in the fridge, no longer held
    run_ok(env, "find a Apple_2", "open the Cabinet_2", "pick up the Apple_2")
    assert env.goal_status() == (False, 2 / 3)
    run_ok(env, "find a Sink", "put down the object in hand")
    assert env.goal_status() == (False, 1 / 3)
    run_ok(env, "find a Mug", "pick up the Mug", "find a Sink", "put down the object in hand")
    info = act(env, "turn on the Faucet")
    assert (info["task_success"], info["task_progress"]) == (0.0, 2 / 3)
    result = env.step("pick up the Apple_2")
    assert result.done is True
    assert (result.info["task_success"], result.info["task_progress"]) == (1.0, 1.0)


def test_empty_goal_never_succeeds() -> None:
    env = started_env("alfred", ())
    info = act(env, "find a Apple")
    assert (info["task_success"], info["task_progress"]) == (0.0, 0.0)


@pytest.mark.parametrize("profile", ["alfred", "habitat"])
def test_progress_of_committed_tasks_along_their_gold_plans(profile: str) -> None:
    """Replaying each committed multi-condition task's oracle plan: progress starts at 0, passes through a
    strict fraction, ends at 1, and always equals the goal evaluated afresh on the world."""
    env = committed_env(profile)
    checked = 0
    for task in committed_tasks(profile):
        if len(task.goal) < 2:
            continue
        env.reset(task)
        plan = solve(env)
        env.reset(task)
        seen = []
        for action in plan:
            info = act(env, action)
            assert info["task_progress"] == evaluate(env.world, task.goal, env.bindings)[1]
            seen.append(info["task_progress"])
        assert seen[-1] == 1.0, task.task_id
        assert any(0.0 < p < 1.0 for p in seen), (task.task_id, seen)
        assert all(p < 1.0 for p in seen[:-1]), task.task_id
        checked += 1
    assert checked >= 100


def test_success_needs_every_condition_of_a_committed_task() -> None:
    env = committed_env("alfred")
    task = next(t for t in env.tasks("base") if t.task_type == "pick_and_place_with_movable_recep")
    env.reset(task)
    plan = solve(env)
    env.reset(task)
    for action in plan[:-1]:
        assert act(env, action)["task_success"] == 0.0
    last = env.step(plan[-1])
    assert (last.done, last.info["task_success"], last.info["task_progress"]) == (True, 1.0, 1.0)


# ---- lifelong: keep_world ---------------------------------------------------------------------------------


def test_keep_world_keeps_placement_states_and_hand() -> None:
    env = started_env("alfred")
    run_ok(env, "find a Fridge", "open the Fridge", "find a Apple", "pick up the Apple", "find a Sofa")
    before = env.world.to_dict()
    env.reset(make_task("alfred", task_id="test-002"), keep_world=True)
    assert env.world.to_dict() == before
    assert env.world.held == "Apple"
    assert env.world.entities["Fridge"].open is True
    assert env.current_task.task_id == "test-002"


def test_keep_world_forgets_the_put_down_aim() -> None:
    env = started_env("alfred")
    run_ok(env, "find a Apple", "pick up the Apple", "find a Sofa")
    env.reset(make_task("alfred"), keep_world=True)
    assert env.world.put_target is None
    run_ok(env, "put down the object in hand")
    assert env.world.entities["Apple"].parent == "Floor_2"  # dropped, not put on the sofa


def test_reset_without_keep_world_restores_the_scene() -> None:
    world = alfred_world()
    env = make_env(world)
    env.reset(make_task("alfred"))
    run_ok(env, "find a Apple", "pick up the Apple", "find a Fridge", "open the Fridge")
    env.reset(make_task("alfred"))
    world.apply_effects()  # reset settles effects a hand-written scene left out (fridge contents are cold)
    assert env.world.to_dict() == world.to_dict()


def test_keep_world_on_first_reset_starts_from_the_scene() -> None:
    env = make_env(alfred_world())
    env.reset(make_task("alfred"), keep_world=True)
    expected = alfred_world()
    expected.apply_effects()  # reset settles effects a hand-written scene left out
    assert env.world.to_dict() == expected.to_dict()


def test_keep_world_in_another_house_raises() -> None:
    env = committed_env("alfred")
    seq = env.lifelong_sequences()[0]
    env.reset(seq.tasks[0])
    other = next(t for t in committed_tasks("alfred") if t.scene != seq.scene)
    with pytest.raises(EnvAdapterError, match="keep_world needs the same house"):
        env.reset(other, keep_world=True)
    env.reset(other)  # without keep_world it is fine
    assert env.world.scene == other.scene


def test_lifelong_sequence_continues_in_the_same_world() -> None:
    env = committed_env("habitat")
    seq = env.lifelong_sequences()[0]
    env.reset(seq.tasks[0])
    solve(env)
    after_first = env.world.to_dict()
    assert after_first != load_suite("v1", "habitat").scenes[seq.scene]
    env.reset(seq.tasks[1], keep_world=True)
    assert env.world.to_dict() == after_first


def test_set_world_replaces_the_state_and_refreshes_skills(alfred: HouseholdEnv) -> None:
    world = snapshot(alfred.world)
    del world.entities["Apple_2"]
    alfred.set_world(world)
    assert "find a Apple_2" not in alfred.skills
    assert alfred.world is world


def test_set_world_rejects_inconsistent_state(alfred: HouseholdEnv) -> None:
    world = snapshot(alfred.world)
    world.held = "Apple"  # but the apple is still on the counter
    with pytest.raises(AssertionError, match="held mismatch"):
        alfred.set_world(world)


# ---- lifelong: perturb ------------------------------------------------------------------------------------


def _parents(world: World) -> dict[str, str | None]:
    return {n: world.entities[n].parent for n in objects(world)}


@pytest.mark.parametrize("k", [0, 1, 2, 5])
def test_perturb_moves_exactly_k_objects(k: int) -> None:
    env = committed_env("alfred")
    seq = env.lifelong_sequences()[1]
    env.reset(seq.tasks[0])
    before = _parents(env.world)
    moves = env.perturb(k, seed=7)
    after = _parents(env.world)
    moved = sorted(n for n in before if before[n] != after[n])
    assert len(moves) == k
    assert len(moved) == k
    for obj in moved:
        target = after[obj]
        assert target is not None
        assert env.world.is_fixed(target)
        assert env.world.entities[target].type != "Floor"
        assert any(m.startswith(f"{obj} moved from ") and m.endswith(f" to {target}") for m in moves)
    env.world.check_invariants()


def test_perturb_never_moves_the_held_object() -> None:
    env = started_env("alfred")
    run_ok(env, "find a Apple", "pick up the Apple")
    moves = env.perturb(len(objects(env.world)), seed=3)
    assert len(moves) == len(objects(env.world)) - 1
    assert env.world.held == "Apple"
    assert env.world.entities["Apple"].parent is None
    assert not any(m.startswith("Apple moved") for m in moves)
    env.world.check_invariants()


def test_perturb_never_moves_what_the_robot_carries() -> None:
    """The apple sits in the mug the robot holds: someone else cannot take it out of the robot's hand."""
    env = started_env("alfred")
    run_ok(env, "find a Apple", "pick up the Apple", "find a Mug", "put down the object in hand")
    run_ok(env, "pick up the Mug")
    for seed in range(5):
        env.perturb(len(objects(env.world)), seed=seed)
        assert (env.world.held, env.world.entities["Apple"].parent) == ("Mug", "Mug"), seed


@pytest.mark.parametrize("profile", ["alfred", "habitat"])
def test_perturb_is_deterministic_per_seed(profile: str) -> None:
    worlds = []
    descriptions = []
    for _ in range(2):
        env = committed_env(profile)
        env.reset(env.lifelong_sequences()[0].tasks[0])
        descriptions.append(env.perturb(3, seed=42))
        worlds.append(env.world.to_dict())
    assert descriptions[0] == descriptions[1]
    assert worlds[0] == worlds[1]
    env = committed_env(profile)
    env.reset(env.lifelong_sequences()[0].tasks[0])
    assert env.perturb(3, seed=43) != descriptions[0]


def test_perturb_applies_effects_and_refreshes_what_is_perceived() -> None:
    env = started_env("alfred")
    world = env.world
    # Move everything: whatever lands in the fridge is cold, and nothing is lost.
    env.perturb(len(objects(world)), seed=1)
    for name in objects(world):
        if world.entities[name].parent == "Fridge":
            assert world.entities[name].cold
    assert len(objects(world)) == len(objects(alfred_world()))
    world.check_invariants()


def test_perturb_before_reset_raises() -> None:
    with pytest.raises(EnvAdapterError):
        make_env(alfred_world()).perturb(1, seed=0)


# ---- lifelong sequences -----------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["alfred", "habitat"])
def test_lifelong_sequences_keep_their_own_perturbation_by_default(profile: str) -> None:
    env = committed_env(profile)
    suite = load_suite("v1", profile)
    assert env.lifelong_sequences() == suite.lifelong
    assert all(s.perturb_k == 0 for s in env.lifelong_sequences())


@pytest.mark.parametrize("k", [0, 3])
def test_lifelong_sequences_honour_configured_perturb_k(k: int) -> None:
    suite = load_suite("v1", "alfred")
    env = committed_env("alfred", perturb_k=k)
    sequences = env.lifelong_sequences()
    assert [s.perturb_k for s in sequences] == [k] * len(suite.lifelong)
    assert [s.perturb_seed for s in sequences] == [s.perturb_seed for s in suite.lifelong]
    assert [s.tasks for s in sequences] == [s.tasks for s in suite.lifelong]


def test_tasks_are_the_committed_subsets() -> None:
    env = committed_env("habitat")
    suite = load_suite("v1", "habitat")
    for subset in SUBSETS:
        tasks: tuple[Task, ...] = env.tasks(subset)
        assert tasks == suite.subsets[subset]
