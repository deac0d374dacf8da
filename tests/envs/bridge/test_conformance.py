"""The public Env conformance suite on the EmbodiedBench bridge client, against a real bridge server process
serving the household simulator over a loopback socket."""

from __future__ import annotations

import pytest

from robomem.testing.conformance import run_env_suite
from tests.envs.bridge.conftest import StartServer


@pytest.mark.parametrize("profile", ["alfred", "habitat"])
def test_the_bridge_env_conforms(household_server: StartServer, profile: str) -> None:
    server = household_server("--max-steps", "12", "--max-invalid-actions", "5", profile=profile)
    env = server.client(profile=profile)
    run_env_suite(env, env.tasks("base")[0])
