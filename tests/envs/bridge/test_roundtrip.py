"""The bridge over a real loopback socket, with robomem's household simulator served in a separate process:
everything the client returns must equal what the in-process :class:`HouseholdEnv` returns."""

from __future__ import annotations

import random

import pytest

from envs.base import Budget
from envs.bridge import BridgeConfig, BridgeEnv
from envs.guides import profile_guide
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.registry import ENVS
from robomem.config import load_config
from robomem.errors import EnvAdapterError, EnvConnectionError
from tests.envs.bridge.conftest import StartServer


@pytest.mark.parametrize("profile", ["alfred", "habitat"])
def test_episodes_match_the_in_process_simulator(household_server: StartServer, profile: str) -> None:
    server = household_server(profile=profile)
    local = HouseholdEnv(HouseholdConfig(profile=profile))
    rng = random.Random(7)
    with server.client(profile=profile) as remote:
        assert remote.subsets() == local.subsets()
        for subset in ("base", "long_horizon"):
            remote_tasks, local_tasks = remote.tasks(subset), local.tasks(subset)
            assert [t.model_copy(update={"episode_index": None}) for t in remote_tasks] == list(local_tasks)
            assert [t.episode_index for t in remote_tasks] == list(range(len(local_tasks)))
            for remote_task, local_task in list(zip(remote_tasks, local_tasks, strict=True))[:3]:
                assert remote.reset(remote_task) == local.reset(local_task)
                assert remote.skills == local.skills  # re-read after every reset
                done, steps = False, 0
                while not done and steps < 12:
                    # ids, exact texts, an unknown text and an id out of range (invalid steps, not errors)
                    pick = rng.randrange(len(local.skills) + 2)
                    action: int | str = pick
                    if pick == len(local.skills):
                        action = "levitate the sofa"
                    elif pick < len(local.skills) and rng.random() < 0.5:
                        action = local.skills[pick]
                    got, want = remote.step(action), local.step(action)
                    assert got == want
                    assert remote.last_raw_info == dict(want.info)
                    done, steps = want.done, steps + 1
        assert remote.server_info is not None
        assert remote.server_info["backend"] == "household"


def test_the_budget_is_the_servers_own_and_the_guide_the_profiles(household_server: StartServer) -> None:
    server = household_server("--max-steps", "4", "--max-invalid-actions", "2", profile="habitat")
    local = HouseholdEnv(HouseholdConfig(profile="habitat", max_steps=4, max_invalid_actions=2))
    with server.client(profile="habitat") as remote:
        task = remote.tasks("base")[0]
        remote.reset(task)
        local.reset(local.tasks("base")[0])
        assert remote.budget() == local.budget() == Budget(steps_left=4, invalid_actions_left=2)
        for action in ("levitate the sofa", local.skills[0], local.skills[0]):
            assert remote.step(action) == local.step(action)
            assert remote.budget() == local.budget()
        assert remote.budget() == Budget(steps_left=2, invalid_actions_left=1)  # the unknown action: no step
        remote.step("levitate the sofa")  # the second invalid action ends the episode
        assert remote.budget() == Budget(steps_left=0, invalid_actions_left=0)
        remote.reset(task)
        assert remote.budget() == Budget(steps_left=4, invalid_actions_left=2)
        # EB-Habitat through the bridge has no simulator-only rules: the shared guide alone.
        assert remote.skill_guide() == profile_guide("habitat") != local.skill_guide()


def test_registered_as_eb_bridge_and_built_from_a_preset(household_server: StartServer) -> None:
    server = household_server()
    cfg = load_config("configs/eb_bridge_alfred.yaml", [f"env.port={server.port}", "env.host=127.0.0.1"])
    assert isinstance(cfg.env, BridgeConfig)
    with ENVS.build(cfg.env) as env:
        assert isinstance(env, BridgeEnv)
        assert env.profile == "alfred"
        assert "base" in env.subsets()


def test_subset_filter_and_unknown_subset(household_server: StartServer) -> None:
    server = household_server()
    with server.client(subsets=["spatial", "base"]) as env:
        assert env.subsets() == ("spatial", "base")
        with pytest.raises(EnvAdapterError, match=r"failed 'tasks': \[env_error\] unknown subset 'nope'"):
            env.tasks("nope")
    with server.client(subsets=["nope"]) as env, pytest.raises(EnvAdapterError, match="not served by"):
        env.subsets()


def test_bad_episode_requests_are_refused_and_the_connection_survives(household_server: StartServer) -> None:
    server = household_server()
    with server.client() as env:
        task = env.tasks("base")[0]
        with pytest.raises(EnvAdapterError, match=r"out of range: base has 50 episodes"):
            env.reset(task.model_copy(update={"episode_index": 50}))
        with pytest.raises(EnvAdapterError, match="is 'alfred-base-001' here, not 'someone-else'"):
            env.reset(task.model_copy(update={"task_id": "someone-else"}))
        with pytest.raises(EnvAdapterError, match="no episode_index"):
            env.reset(task.model_copy(update={"episode_index": None}))
        with pytest.raises(EnvAdapterError, match="an action is a skill id or its text"):
            env.step(True)
        observation = env.reset(task)
        assert observation.instruction == task.instruction
        result = env.step(0)
        assert result.info["env_step"] == 1


def test_profile_mismatch_is_a_clear_connection_error(household_server: StartServer) -> None:
    server = household_server(profile="habitat")
    with (
        server.client(profile="alfred") as env,
        pytest.raises(
            EnvConnectionError, match=r"serves profile 'habitat' \(household\), but env.profile is 'alfred'"
        ),
    ):
        env.subsets()


def test_a_second_client_is_served_after_the_first_leaves(household_server: StartServer) -> None:
    server = household_server()
    for _ in range(2):
        with server.client() as env:
            env.reset(env.tasks("base")[1])
            assert env.skills
