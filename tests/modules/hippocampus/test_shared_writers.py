"""Four robots on one real Chroma server (``chroma run`` on 127.0.0.1), each a real process with its own
memory folder, learn the same lessons and repeat the same task at the same moment (a barrier before every
consolidation), over several trials: no write is lost. Before the server-side write lock, two robots adding
one lesson at once both reported an ADD and the server kept one item with ``count`` 1 (issue #10)."""

from __future__ import annotations

import multiprocessing
import traceback
import uuid
from pathlib import Path
from typing import Any

import pytest

from robomem.stores.config import VectorConfig
from robomem.stores.factory import open_vector_store
from robomem.testing.hashing import HashingEmbedder
from tests.conftest import ChromaServer

WRITERS, EPISODES, TRIALS = 4, 3, 3
#: Writers 0 and 1 work in house_1, 2 and 3 in house_2: an action-level lesson then has two ADD ids (one
#: per house) and a task-level one a single id, so both ways two concurrent ADDs can meet are exercised.
SITES = ("house_1", "house_1", "house_2", "house_2")
STEPS = (
    ("pick up the Mug", "Last action is invalid. Robot is currently holding Apple_1", False),
    ("find a Cabinet", "Cannot find Cabinet. This object may not exist", False),
)
INSTRUCTION = "Put a mug in a cabinet."
TIMEOUT_S = 600


def _episode_id(writer: int, episode: int) -> str:
    return f"robot{writer}/base/{episode}"


def _writer(writer: int, server: tuple[str, int, str], root: str, barrier: Any, results: Any) -> None:
    """One robot: real memory stores over the shared server, episodes ended in step with the others."""
    try:
        from modules.hippocampus.base import EpisodeContext, EpisodeOutcome, StepRecord, StepSummary
        from modules.hippocampus.config import MemoryConfig
        from modules.hippocampus.factory import open_memory

        host, port, namespace = server
        config = MemoryConfig.model_validate(
            {
                "stores": ["episodic", "semantic"],
                "embedder": {"type": "hashing"},
                "vector": {"type": "chroma_http", "host": host, "port": port, "namespace": namespace},
            }
        )
        memory = open_memory(config, Path(root) / f"robot{writer}")
        try:
            for episode in range(EPISODES):
                ctx = EpisodeContext(SITES[writer], _episode_id(writer, episode), INSTRUCTION)
                memory.begin_episode(ctx)
                for step, (action, feedback, ok) in enumerate(STEPS, 1):
                    memory.update(
                        StepSummary(ctx, step, action, action=action, feedback=feedback, action_success=ok)
                    )
                barrier.wait(timeout=TIMEOUT_S)  # every robot consolidates the same lessons at once
                steps = tuple(StepRecord(*s) for s in STEPS)
                memory.end_episode(EpisodeOutcome(ctx, False, 0.0, steps, time=float(10 + episode)))
        finally:
            memory.close()
        results.put((writer, ""))
    except BaseException:
        results.put((writer, traceback.format_exc()))


def _items(server: ChromaServer, namespace: str, name: str, root: Path) -> list[tuple[str, int, set[str]]]:
    embedder = HashingEmbedder()
    vector = VectorConfig(type="chroma_http", host=server.host, port=server.port, namespace=namespace)
    store = open_vector_store(
        vector, memory_dir=root, name=name, embedder_name=embedder.name, dim=embedder.dim
    )
    try:
        return sorted(
            (
                str(item.metadata["key"]),
                int(item.metadata["count"]),
                set(filter(None, str(item.metadata["episodes"]).split(","))),
            )
            for item in store.get()
        )
    finally:
        store.close()


@pytest.mark.chroma
@pytest.mark.slow
def test_four_robots_learning_the_same_lessons_at_once_lose_no_write(
    tmp_path: Path, chroma_server: ChromaServer
) -> None:
    spawn = multiprocessing.get_context("spawn")
    everyone = {_episode_id(w, e) for w in range(WRITERS) for e in range(EPISODES)}
    in_house = {
        site: {_episode_id(w, e) for w in range(WRITERS) if SITES[w] == site for e in range(EPISODES)}
        for site in set(SITES)
    }
    for trial in range(TRIALS):
        namespace = f"fleet{uuid.uuid4().hex[:12]}"  # the session's server is shared with other tests
        root = tmp_path / f"trial{trial}"
        barrier, results = spawn.Barrier(WRITERS), spawn.Queue()
        server = (chroma_server.host, chroma_server.port, namespace)
        robots = [
            spawn.Process(target=_writer, args=(w, server, str(root), barrier, results))
            for w in range(WRITERS)
        ]
        try:
            for robot in robots:
                robot.start()
            reports = dict(results.get(timeout=TIMEOUT_S) for _ in robots)
        finally:
            for robot in robots:
                robot.join(timeout=60)
                if robot.is_alive():
                    robot.kill()
        assert reports == dict.fromkeys(range(WRITERS), ""), reports  # no robot died (nor hit an hnsw error)

        # One item per lesson, confirmed once per episode that learned it, naming every such episode.
        assert _items(chroma_server, namespace, "semantic", root) == sorted(
            [
                ("action:pick-while-holding", WRITERS * EPISODES, everyone),
                *((f"task:absent:{site}:Cabinet", len(eps), eps) for site, eps in in_house.items()),
            ]
        ), f"trial {trial}"
        # The same task in the same house: one episodic item, its count the number of times it was done.
        task = "put a mug in a cabinet"
        assert _items(chroma_server, namespace, "episodic", root) == sorted(
            (f"episode:fail:{site}:{task}", len(eps), eps) for site, eps in in_house.items()
        ), f"trial {trial}"
