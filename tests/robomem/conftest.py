"""Fixtures shared by robomem's test packages (the CLI's and the report's)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def chroma_memory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A memory written by a real run (2 episodes of base and spatial, hashing embedder) with Chroma on disk:
    one run for the session, so read it, or copy it before editing."""
    from robomem.cli.main import main

    run = tmp_path_factory.mktemp("chroma-run") / "run"
    args = ["--subset", "base", "--subset", "spatial", "--episodes", "2", "--no-progress"]
    light = ["agent.memory.embedder.type=hashing", "agent.memory.vector.type=chroma"]
    assert main(["eval", *args, "--run-dir", str(run), *light]) == 0
    return run / "memory"
