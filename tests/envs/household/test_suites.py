"""The committed v1 suites: reproducible generation, composition, oracle solvability of every task and
every lifelong sequence (also with perturbations), and referents that are descriptions."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from envs.household.catalog import CATALOGS
from envs.household.generate import COMPOSITION, generate_suite
from envs.household.oracle import OracleError, solve
from envs.household.suites import SUBSETS, SUITE_FORMAT, Suite, load_suite, suite_path
from envs.task import Ref, Task
from robomem.errors import SuiteError
from tests.envs.household.worlds import committed_env, objects

PROFILES = ("alfred", "habitat")
TASK_TYPES = {
    "pick_and_place_simple",
    "look_at_obj_in_light",
    "pick_clean_then_place_in_recep",
    "pick_heat_then_place_in_recep",
    "pick_cool_then_place_in_recep",
    "pick_two_obj_and_place",
    "pick_and_place_with_movable_recep",
}


def _all_tasks(suite: Suite) -> list[Task]:
    episodic = [t for tasks in suite.subsets.values() for t in tasks]
    return episodic + [t for s in suite.lifelong for t in s.tasks]


def _refs(task: Task) -> list[Ref]:
    out = []
    pending = [r for c in task.goal for r in (c.object, c.inside) if r is not None]
    while pending:
        ref = pending.pop()
        out.append(ref)
        if ref.relation is not None:
            pending.append(ref.relation.target)
    return out


# ---- generation -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_generator_reproduces_the_committed_suite_byte_for_byte(profile: str) -> None:
    committed = suite_path(profile).read_text(encoding="utf-8")
    assert generate_suite(profile) == committed


@pytest.mark.parametrize("profile", PROFILES)
def test_committed_suite_is_canonical_json(profile: str) -> None:
    text = suite_path(profile).read_text(encoding="utf-8")
    suite = load_suite("v1", profile)
    assert suite.to_json() == text
    assert Suite.model_validate_json(text).to_json() == text
    assert (suite.format, suite.version, suite.profile) == (SUITE_FORMAT, "v1", profile)


# ---- composition ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_six_subsets_of_fifty_tasks_with_the_committed_composition(profile: str) -> None:
    suite = load_suite("v1", profile)
    assert set(suite.subsets) == set(SUBSETS)
    for subset, tasks in suite.subsets.items():
        assert len(tasks) == 50, subset
        expected = COMPOSITION[profile]["base" if subset == "complex_instruction" else subset]
        assert Counter(t.task_type for t in tasks) == Counter(expected), subset
        assert all(t.subset == subset and t.profile == profile for t in tasks)
        assert [t.task_id for t in tasks] == [f"{profile}-{subset}-{i:03d}" for i in range(1, 51)]
        assert len({t.instruction for t in tasks}) == 50, subset
    assert all(t.task_type in TASK_TYPES for t in _all_tasks(suite))


def test_alfred_composition_follows_eb_alfred() -> None:
    alfred = COMPOSITION["alfred"]
    assert alfred["base"] == {
        "pick_clean_then_place_in_recep": 13,
        "pick_and_place_with_movable_recep": 10,
        "pick_two_obj_and_place": 10,
        "pick_and_place_simple": 10,
        "look_at_obj_in_light": 7,
    }
    assert alfred["long_horizon"] == {
        "pick_heat_then_place_in_recep": 28,
        "pick_cool_then_place_in_recep": 16,
        "pick_two_obj_and_place": 6,
    }
    assert all(sum(c.values()) == 50 for p in COMPOSITION.values() for c in p.values())


@pytest.mark.parametrize("profile", PROFILES)
def test_complex_instruction_rewords_base(profile: str) -> None:
    suite = load_suite("v1", profile)
    for base, cplx in zip(suite.subsets["base"], suite.subsets["complex_instruction"], strict=True):
        assert cplx.task_id == base.task_id.replace("-base-", "-complex_instruction-")
        assert (cplx.scene, cplx.task_type, cplx.goal, cplx.gold_plan_length) == (
            base.scene,
            base.task_type,
            base.goal,
            base.gold_plan_length,
        )
        assert cplx.instruction != base.instruction
        assert base.instruction[1:-1].lower() in cplx.instruction.lower()


@pytest.mark.parametrize("profile", PROFILES)
def test_tasks_refer_to_scenes_and_types_of_the_suite(profile: str) -> None:
    suite = load_suite("v1", profile)
    catalog = CATALOGS[profile]
    for task in _all_tasks(suite):
        assert task.scene in suite.scenes, task.task_id
        assert task.goal, task.task_id
        assert task.gold_plan_length is not None
        assert 1 <= task.gold_plan_length <= 30, task.task_id
        for ref in _refs(task):
            assert ref.type in catalog.types, (task.task_id, ref.type)
    for scene in suite.scenes:
        suite.world(scene).check_invariants()


@pytest.mark.parametrize("profile", PROFILES)
def test_referents_are_descriptions_never_instance_ids(profile: str) -> None:
    suite = load_suite("v1", profile)
    instance_ids = {
        e["name"] for scene in suite.scenes.values() for e in scene["entities"] if re.search(r"\d", e["name"])
    }
    assert instance_ids  # the houses do have numbered instances
    for task in _all_tasks(suite):
        texts = [task.instruction] + [c.text for c in task.goal] + [r.text for r in _refs(task)]
        for text in texts:
            assert not re.search(r"\d", text), (task.task_id, text)
            assert not re.search(r"[A-Za-z]_\d", text), (task.task_id, text)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_goal_condition_and_referent_has_a_description(profile: str) -> None:
    """Agents (and result files) read goals as text: no condition may be blank, and a referent's text must
    name the thing (a noun phrase such as "a bread"), not a bare state word."""
    suite = load_suite("v1", profile)
    bad = []
    for task in _all_tasks(suite):
        for cond in task.goal:
            if not cond.text or cond.object.text in ("", *cond.states):
                bad.append((task.task_id, cond.text, cond.object.text))
    assert bad == []


@pytest.mark.parametrize("profile", PROFILES)
def test_scene_is_fresh_on_every_call(profile: str) -> None:
    suite = load_suite("v1", profile)
    scene = next(iter(suite.scenes))
    world = suite.world(scene)
    name = objects(world)[0]
    world.entities[name].parent = None
    world.held = name
    assert suite.world(scene).entities[name].parent is not None
    assert suite.world(scene).held is None


# ---- oracle solvability -----------------------------------------------------------------------------------


@pytest.mark.parametrize("subset", SUBSETS)
@pytest.mark.parametrize("profile", PROFILES)
def test_every_committed_task_is_solved_by_the_oracle_in_its_gold_length(profile: str, subset: str) -> None:
    env = committed_env(profile)
    failures = []
    for task in env.tasks(subset):
        env.reset(task)
        assert env.goal_status() == (False, 0.0), f"{task.task_id} starts partly done"
        try:
            actions = solve(env)
        except OracleError as err:
            failures.append(f"{task.task_id}: {err}")
            continue
        if len(actions) != task.gold_plan_length or env.goal_status() != (True, 1.0):
            failures.append(f"{task.task_id}: {len(actions)} actions, gold {task.gold_plan_length}")
    assert failures == []


@pytest.mark.parametrize("profile", PROFILES)
def test_lifelong_sequences_are_solved_in_order_in_one_world(profile: str) -> None:
    env = committed_env(profile)
    sequences = env.lifelong_sequences()
    assert len(sequences) == 5
    for seq in sequences:
        assert seq.profile == profile
        assert len(seq.tasks) == 10
        assert all(t.scene == seq.scene and t.subset == "lifelong" for t in seq.tasks)
        for i, task in enumerate(seq.tasks):
            env.reset(task, keep_world=i > 0)
            actions = solve(env)
            assert len(actions) == task.gold_plan_length, task.task_id
            assert env.goal_status() == (True, 1.0)
            env.world.check_invariants()


@pytest.mark.parametrize("profile", PROFILES)
def test_lifelong_sequences_stay_solvable_with_perturbations(profile: str) -> None:
    env = committed_env(profile, perturb_k=2)
    for seq in env.lifelong_sequences():
        assert seq.perturb_k == 2
        for i, task in enumerate(seq.tasks):
            if i > 0:
                moves = env.perturb(seq.perturb_k, seq.perturb_seed + i)
                assert len(moves) == 2
                env.world.check_invariants()
            env.reset(task, keep_world=i > 0)
            solve(env)
            assert env.goal_status() == (True, 1.0), task.task_id


# ---- loading ----------------------------------------------------------------------------------------------


def test_load_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    path.write_text(suite_path("habitat").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_suite(str(path), "habitat") == load_suite("v1", "habitat")


def test_missing_suite_raises(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="cannot read suite") as err:
        load_suite(str(tmp_path / "none.json"), "alfred")
    assert err.value.hint == "run 'robomem suites generate'"
    with pytest.raises(SuiteError, match="cannot read suite"):
        load_suite("v99", "alfred")


def test_malformed_suite_raises(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"version": "x", "profile": "alfred", "seed": "nope", "scenes": {}}))
    with pytest.raises(SuiteError, match=r"is malformed at seed"):
        load_suite(str(path), "alfred")


def test_suite_of_the_other_profile_raises() -> None:
    with pytest.raises(SuiteError, match="is for profile 'alfred', not 'habitat'"):
        load_suite(str(suite_path("alfred")), "habitat")


def test_suite_of_another_format_raises(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    data = json.loads(suite_path("habitat").read_text(encoding="utf-8"))
    data["format"] = SUITE_FORMAT + 1
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SuiteError, match=f"has format {SUITE_FORMAT + 1}"):
        load_suite(str(path), "habitat")


def test_unknown_scene_raises() -> None:
    with pytest.raises(SuiteError, match="has no scene 'nowhere'"):
        load_suite("v1", "alfred").world("nowhere")
