"""End to end with the real household simulator: the oracle solves a task, every step's perception goes into
spatial memory, and memory ends up believing where things really are."""

from __future__ import annotations

from pathlib import Path

import pytest

from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.household.oracle import solve
from envs.task import Task
from modules.hippocampus.base import EpisodeContext, StepSummary
from modules.hippocampus.spatial import SpatialMemory
from modules.hippocampus.spatial.rules import LOCATION_RELATIONS
from tests.modules.hippocampus.spatial.helpers import make_memory


def run_oracle(env: HouseholdEnv, task: Task, memory: SpatialMemory) -> None:
    env.reset(task)
    actions = solve(env)  # the oracle plays on a scratch episode; replay its actions step by step
    obs = env.reset(task)
    context = EpisodeContext(site=task.scene, episode_id=task.task_id, instruction=task.instruction)
    memory.begin_episode(context)
    memory.update(StepSummary(context, 0, obs.text, perception=obs.perception))
    for step, action in enumerate(actions, start=1):
        result = env.step(action)
        info = result.info
        memory.update(
            StepSummary(
                context,
                step,
                result.observation.text,
                action=action,
                feedback=info["env_feedback"],
                action_success=info["last_action_success"],
                perception=result.observation.perception,
                time=float(step),
            )
        )
    assert env.goal_status()[0]


def assert_beliefs_match_the_world(env: HouseholdEnv, memory: SpatialMemory) -> None:
    """Everything memory saw (or inferred) during this episode is true now. Beliefs from earlier episodes
    may be stale: a reset restores the house, which to the robot is "someone else moved things"."""
    world = env.world
    graph = memory.graph()
    assert graph.violations() == []
    current = graph.node("I").last_seen.episode
    checked = 0
    for (s, r, o), edge in graph.edges():
        if edge.last_seen.episode != current:
            continue
        if s == "I":
            expected = {"in": world.agent_room, "at": world.agent_location, "holding": world.held}[r]
            assert o == expected, (s, r, o)
        elif r in LOCATION_RELATIONS and world.spec(s).kind == "object":
            assert world.entities[s].parent == o, (s, r, o, world.entities[s].parent)
            checked += 1
    assert checked > 0


def test_memory_knows_where_the_oracle_put_the_mug(tmp_path: Path) -> None:
    env = HouseholdEnv(HouseholdConfig(profile="alfred"))
    task = next(t for s in env.subsets() for t in env.tasks(s) if "mug" in t.instruction.lower())
    memory = make_memory(tmp_path)
    try:
        run_oracle(env, task, memory)
        world = env.world
        targets = env.bindings.containers[-1] or frozenset()
        moved = [n for n in env.bindings.objects[-1] if world.entities[n].parent in targets]
        assert moved, "the goal binding names the mug that was placed"
        mug = next(n for n in moved if world.entities[n].type == "Mug")
        where = world.entities[mug].parent
        assert where is not None
        relation = world.catalog[world.entities[where].type].preposition
        lines = memory.retrieve(["mug"]).lines
        assert any(line.startswith(f"{mug} {relation} {where} (") for line in lines), lines
        assert_beliefs_match_the_world(env, memory)
        # The mug's earlier places are history, not current beliefs.
        assert any(h.subject == mug and h.kind == "edge" for h in memory.history(mug))
    finally:
        memory.close()
        env.close()


@pytest.mark.parametrize("profile", ["alfred", "habitat"])
def test_one_house_over_several_tasks_stays_true(tmp_path: Path, profile: str) -> None:
    env = HouseholdEnv(HouseholdConfig(profile=profile))
    memory = make_memory(tmp_path)
    try:
        tasks = list(env.tasks("long_horizon"))[:3]
        for task in tasks:
            run_oracle(env, task, memory)
            assert_beliefs_match_the_world(env, memory)
        # One graph per house, with its own episode count; a house visited twice remembers the first visit.
        sites = [t.scene for t in tasks]
        for site in set(sites):
            visits = sites.count(site)
            graph = memory.graph(site)
            assert max(node.last_seen.episode for _, node in graph.nodes()) == visits
            assert min(node.first_seen.episode for _, node in graph.nodes()) == 1
    finally:
        memory.close()
        env.close()
