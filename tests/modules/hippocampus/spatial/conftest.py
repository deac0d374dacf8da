from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from modules.hippocampus.spatial import SpatialMemory
from tests.modules.hippocampus.spatial.helpers import Driver, make_memory


@pytest.fixture
def memory(tmp_path: Path) -> Iterator[SpatialMemory]:
    mem = make_memory(tmp_path)
    yield mem
    mem.close()


@pytest.fixture
def driver(memory: SpatialMemory) -> Driver:
    return Driver(memory)
