"""The committed memory suites: reproducible generation, at least 50 scored tasks per subset, every scored
task solvable in its budget by the oracle given what the sequence showed, and the memoryless figures."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.household.memory import MEMORY_VERSIONS, SLACK, generate_memory_suite, memoryless_cost
from envs.household.oracle import solve
from envs.household.perception import perceive
from envs.household.suites import load_suite, suite_path
from envs.task import Relocation

PROFILES = ("alfred", "habitat")


@pytest.mark.parametrize("version", MEMORY_VERSIONS)
@pytest.mark.parametrize("profile", PROFILES)
def test_generator_reproduces_the_committed_memory_suite(profile: str, version: str) -> None:
    assert generate_memory_suite(profile, version) == suite_path(profile, version).read_text(encoding="utf-8")


@pytest.mark.parametrize("profile", PROFILES)
def test_memory_v2_holds_memory_v1_unchanged(profile: str) -> None:
    old, new = load_suite("memory_v1", profile), load_suite("memory_v2", profile)
    assert new.lifelong[: len(old.lifelong)] == old.lifelong
    assert all(new.scenes[scene] == world for scene, world in old.scenes.items())


@pytest.mark.parametrize("profile", PROFILES)
def test_memory_v3_holds_memory_v2_unchanged(profile: str) -> None:
    old, new = load_suite("memory_v2", profile), load_suite("memory_v3", profile)
    assert new.lifelong[: len(old.lifelong)] == old.lifelong
    assert all(new.scenes[scene] == world for scene, world in old.scenes.items())
    assert all(new.stats["tasks"][t] == c for t, c in old.stats["tasks"].items())


@pytest.mark.parametrize("profile", PROFILES)
def test_put_back_is_bound_to_where_the_used_thing_was_taken_from(profile: str) -> None:
    env = HouseholdEnv(HouseholdConfig(profile=profile, suite="memory_v3", max_steps=200))
    for sequence in [s for s in env.lifelong_sequences() if s.sequence_id.startswith(f"{profile}-return-")][
        :3
    ]:
        start: dict[str, str | None] = {}
        for i, task in enumerate(sequence.tasks):
            env.reset(task, keep_world=i > 0)
            (target,) = env.bindings.objects[0]
            if task.subset == "return_setup":
                assert env.world.hidden_by(target) is not None, task.task_id
                start[target] = env.world.place_of(target)
            else:
                assert task.goal[0].back and task.goal[0].inside is None, task.task_id
                assert env.bindings.containers[0] == frozenset({start[target]}), task.task_id
                assert start[target] != env.world.place_of(target), task.task_id
            before = env.world.place_of(target)
            solve(env)
            assert env.goal_status() == (True, 1.0), task.task_id
            # Where it was before this episode's first pick-up (a put-back task takes it off the surface).
            assert env.world.taken_from[target] == before, task.task_id


@pytest.mark.parametrize("version", ["memory_v2", "memory_v3"])
@pytest.mark.parametrize("profile", PROFILES)
def test_sequences_scored_tasks_and_budgets(profile: str, version: str) -> None:
    suite = load_suite(version, profile)
    for kind in MEMORY_VERSIONS[version]:
        scored = [t for s in suite.lifelong for t in s.tasks if t.subset == kind]
        assert len(scored) >= 50
        assert all(t.max_steps == (t.gold_plan_length or 0) + SLACK for t in scored)
        stats = suite.stats["subsets"][kind]
        assert stats["tasks"] == len(scored)
        assert stats["mean_memoryless_expected_steps"] > stats["mean_budget"]
        assert stats["mean_memoryless_p_in_budget"] < 0.4
    rooms = {len(w["rooms"]) for w in suite.scenes.values()}
    assert rooms == {7}


@pytest.mark.parametrize("profile", PROFILES)
def test_every_scored_target_was_last_seen_where_it_is_and_the_oracle_fits_the_budget(profile: str) -> None:
    env = HouseholdEnv(HouseholdConfig(profile=profile, suite="memory_v2", max_steps=200))
    for sequence in env.lifelong_sequences():
        seen: dict[str, list[str]] = {}

        def watch(seen: dict[str, list[str]] = seen) -> None:
            for entity in perceive(env.world).entities:
                place = env.world.place_of(entity.name) if entity.kind == "object" else None
                if place is not None and (not seen.get(entity.name) or seen[entity.name][-1] != place):
                    seen.setdefault(entity.name, []).append(place)

        for i, task in enumerate(sequence.tasks):
            env.reset(task, keep_world=i > 0)
            watch()
            if task.subset == "lesson":
                # A re-staged house: nothing the agent saw of this world shows the target, which is back
                # where the house keeps it (where an earlier episode took it from).
                (target,) = env.bindings.objects[0]
                assert task.restage and not env.world_persists, task.task_id
                assert env.world.hidden_by(target) is not None, task.task_id
                assert env.world.place_of(target) in seen[target][:-1], task.task_id
            elif task.subset in MEMORY_VERSIONS["memory_v2"]:
                (target,) = env.bindings.objects[0]
                assert seen[target][-1] == env.world.place_of(target), task.task_id
                if task.subset == "moved":
                    assert len(set(seen[target])) >= 2, task.task_id  # an older, now stale, sighting
            solve_and_replay(env, watch)
            assert env.goal_status() == (True, 1.0), task.task_id
            assert len(env.world.entities) > 0


def solve_and_replay(env: HouseholdEnv, watch: Callable[[], None]) -> None:
    """The oracle's plan, re-run step by step on a copy of the episode so each step can be watched."""
    snapshot = env.world.to_dict()
    task = env.current_task
    actions = solve(env)
    assert len(actions) <= (task.max_steps or env.config.max_steps)
    assert len(actions) == task.gold_plan_length
    env.set_world(type(env.world).from_dict(snapshot, env.world.catalog))
    env.reset(task, keep_world=True)
    for action in actions:
        env.step(action)
        watch()


def test_memoryless_chance_is_exact() -> None:
    suite = load_suite("memory_v1", "alfred")
    world = suite.world(suite.lifelong[0].scene)
    target = next(t for t in suite.lifelong[0].tasks if t.subset == "recall")
    ref = target.goal[0].object
    (mug,) = [
        n
        for n, e in world.entities.items()
        if e.type == ref.type and e.attributes == e.attributes | ref.attributes
    ]
    others = [m for m in world.instances(world.entities[mug].type) if m != mug]
    costs = [1 + (world.hidden_by(m) is not None) for m in others]
    hits = total = 0
    for order in itertools.permutations(range(len(costs) + 1)):
        spent = 0
        for i in order:
            if i == len(costs):
                break
            spent += costs[i]
        hits += spent <= SLACK
        total += 1
    expected, chance = memoryless_cost(world, mug, 4, 4 + SLACK)
    assert chance == pytest.approx(hits / total)
    assert expected == 4 + sum(costs) / 2


def test_relocations_move_things_at_reset_and_a_task_budget_ends_the_episode() -> None:
    env = HouseholdEnv(HouseholdConfig(profile="alfred", suite="memory_v1"))
    task = env.lifelong_sequences()[0].tasks[0]
    env.reset(task)
    book = sorted(n for n in env.world.entities if env.world.spec(n).pickable)[0]
    drawer = next(n for n in env.world.instances("Drawer") if env.world.place_of(book) != n)
    moved = task.model_copy(update={"relocations": (Relocation(object=book, to=drawer),), "max_steps": 2})
    env.reset(moved, keep_world=True)
    assert env.world.place_of(book) == drawer
    assert not env.step("drop the object in hand").done
    assert env.step("drop the object in hand").done  # the task's budget, not the config's 30 steps


def test_a_restaged_task_starts_from_the_house_as_it_is_kept() -> None:
    env = HouseholdEnv(HouseholdConfig(profile="alfred", suite="memory_v1"))
    task = env.lifelong_sequences()[0].tasks[0]
    env.reset(task)
    kept = env.world.to_dict()
    book = sorted(n for n in env.world.entities if env.world.spec(n).pickable)[0]
    drawer = next(n for n in env.world.instances("Drawer") if env.world.place_of(book) != n)
    env.reset(task.model_copy(update={"relocations": (Relocation(object=book, to=drawer),)}), keep_world=True)
    assert env.world_persists and env.world.place_of(book) == drawer
    env.reset(task.model_copy(update={"restage": True}), keep_world=True)
    assert not env.world_persists
    assert env.world.to_dict() == kept


@pytest.mark.parametrize("profile", PROFILES)
def test_memory_v4_holds_memory_v3_unchanged(profile: str) -> None:
    old, new = load_suite("memory_v3", profile), load_suite("memory_v4", profile)
    assert new.lifelong[: len(old.lifelong)] == old.lifelong
    assert all(new.scenes[scene] == world for scene, world in old.scenes.items())
    assert all(new.stats["tasks"][t] == c for t, c in old.stats["tasks"].items())


@pytest.mark.parametrize("profile", PROFILES)
def test_jammed_receptacles_fail_to_open_and_the_oracle_solves_every_scored_task_around_them(
    profile: str,
) -> None:
    env = HouseholdEnv(HouseholdConfig(profile=profile, suite="memory_v4", max_steps=200))
    sequences = [s for s in env.lifelong_sequences() if s.sequence_id.startswith(f"{profile}-jammed-")]
    scored = [t for s in sequences for t in s.tasks if t.subset == "jammed"]
    assert len(scored) >= 50
    assert all(t.max_steps == (t.gold_plan_length or 0) + SLACK for t in scored)
    for sequence in sequences:
        tried: set[str] = set()
        for i, task in enumerate(sequence.tasks):
            env.reset(task, keep_world=i > 0)
            jammed = env.world.jammed
            assert 2 <= len(jammed) <= 3 and len({env.world.entities[j].room for j in jammed}) == 1
            (target,) = env.bindings.objects[0]
            if task.subset == "jammed_setup":
                # Its thing is shut away in a jammed receptacle: going there and trying is all one can do.
                jam = env.world.hidden_by(target)
                assert jam in jammed, task.task_id
                go = "find a" if profile == "alfred" else "navigate to the"
                assert env.step(f"{go} {jam}").info["last_action_success"]
                info = env.step(f"open the {jam}").info
                assert not info["last_action_success"] and "is jammed" in info["env_feedback"], task.task_id
                assert env.world.is_closed(jam) and env.world.hidden_by(target) == jam
                tried.add(jam)
                continue
            assert tried == jammed, task.task_id  # every jammed one was tried by an earlier setup
            kinds = {env.world.entities[j].type for j in jammed}
            assert {task.goal[0].inside.type} == kinds if task.goal[0].inside else False
            assert env.bindings.containers[0] is not None and env.bindings.containers[0] > jammed
            assert env.world.is_visible(target) or env.world.hidden_by(target) is None
            actions = solve(env)
            assert env.goal_status() == (True, 1.0) and len(actions) == task.gold_plan_length, task.task_id
            assert not {f"open the {j}" for j in jammed} & set(actions), task.task_id
    stats = load_suite("memory_v4", profile).stats["subsets"]["jammed"]
    assert stats["tasks"] == len(scored) and stats["mean_room_first_in_budget"] == 0.0
