from __future__ import annotations

import pytest

from envs.household.env import HouseholdEnv
from tests.envs.household.worlds import started_env


@pytest.fixture
def alfred() -> HouseholdEnv:
    """The hand-built ALFRED house (see ``worlds.py``), reset on a far-off goal, generous limits."""
    return started_env("alfred")


@pytest.fixture
def habitat() -> HouseholdEnv:
    """The hand-built Habitat house (see ``worlds.py``), reset on a far-off goal, generous limits."""
    return started_env("habitat")
