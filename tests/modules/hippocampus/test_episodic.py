"""Episodic memory: trajectories of finished episodes, consolidated ADD / UPDATE / DELETE / NOOP."""

from __future__ import annotations

from pathlib import Path

from modules.hippocampus.episodic import EpisodicConfig, EpisodicMemory
from robomem.storage import read_jsonl
from tests.modules.hippocampus.memory_helpers import EMBEDDER, context, memory_store, outcome

OK = "Last action executed successfully."
SUCCESS = [
    ("find a Mug", OK, True),
    ("pick up the Mug", OK, True),
    ("find a Cabinet", OK, True),
    ("open the Cabinet", OK, True),
    ("put down the object in hand", OK, True),
]
FAILURE = [("pick up the Mug", "Last action is invalid. Cannot find Mug to pick up.", False)]


def _memory(tmp_path: Path) -> EpisodicMemory:
    return EpisodicMemory(EpisodicConfig(), store=memory_store(), embedder=EMBEDDER, memory_dir=tmp_path)


def _run(
    memory: EpisodicMemory,
    episode: str,
    steps: list[tuple[str, str, bool]],
    success: bool,
    instruction: str = "Put a mug in a cabinet.",
) -> dict[str, object]:
    ctx = context(episode, instruction=instruction)
    memory.begin_episode(ctx)
    return memory.end_episode(outcome(steps, success=success, ctx=ctx)).details


def test_add_then_retrieve_by_similar_task(tmp_path: Path) -> None:
    memory = _memory(tmp_path)
    assert _run(memory, "e1", FAILURE, False)["ADD"] == 1
    assert _run(memory, "e2", SUCCESS, True, "Slice an apple and chill it.")["ADD"] == 1
    result = memory.retrieve(["put a mug into the cabinet"])
    assert len(result.lines) == 2
    assert result.lines[0].startswith("Task: Put a mug in a cabinet. | site: house_1 | outcome: failure")
    assert "pick up the Mug -> Cannot find Mug to pick up." in result.lines[0]


def test_same_trajectory_again_is_noop_and_counts(tmp_path: Path) -> None:
    memory = _memory(tmp_path)
    _run(memory, "e1", SUCCESS, True)
    details = _run(memory, "e2", SUCCESS, True)
    assert details["NOOP"] == 1 and details["ADD"] == 0
    (item,) = memory.index.items({"kind": "episode"})
    assert item.metadata["count"] == 2


def test_shorter_success_updates_longer_one(tmp_path: Path) -> None:
    memory = _memory(tmp_path)
    _run(
        memory,
        "e1",
        [*SUCCESS[:4], ("close the Cabinet", OK, True), ("open the Cabinet", OK, True), SUCCESS[4]],
        True,
    )
    assert _run(memory, "e2", SUCCESS, True)["UPDATE"] == 1
    (item,) = memory.index.items({"kind": "episode"})
    assert item.metadata["steps"] == 5
    assert [r["op"] for r in memory.index.archived()] == ["UPDATE"]  # the replaced text is kept


def test_success_deletes_the_stored_failure_of_the_same_task(tmp_path: Path) -> None:
    memory = _memory(tmp_path)
    _run(memory, "e1", FAILURE, False)
    details = _run(memory, "e2", SUCCESS, True)
    assert details["ADD"] == 1 and details["DELETE"] == 1
    (item,) = memory.index.items({"kind": "episode"})
    assert item.metadata["success"] is True
    archived = memory.index.archived()
    assert archived[0]["op"] == "DELETE" and "failure" in archived[0]["text"]
    # Raw experience is never lost: both trajectories are in the raw log.
    assert [r["episode_id"] for r in read_jsonl(tmp_path / "episodes.jsonl")] == ["e1", "e2"]  # type: ignore[index]


def test_replayed_episode_writes_nothing_twice(tmp_path: Path) -> None:
    memory = _memory(tmp_path)
    _run(memory, "e1", SUCCESS, True)
    details = _run(memory, "e1", SUCCESS, True)  # e.g. a resumed run ends the same episode again
    assert details == {"already_consolidated": True}
    (item,) = memory.index.items({"kind": "episode"})
    assert item.metadata["count"] == 1
    assert len(read_jsonl(tmp_path / "episodes.jsonl")) == 1


def test_cap_evicts_to_the_archive(tmp_path: Path) -> None:
    memory = EpisodicMemory(
        EpisodicConfig(max_items=10), store=memory_store(), embedder=EMBEDDER, memory_dir=tmp_path
    )
    for i in range(12):
        _run(memory, f"e{i}", FAILURE, False, instruction=f"Task number {i}.")
    assert memory.index.store.count() == 10
    assert [r["op"] for r in memory.index.archived()] == ["EVICT", "EVICT"]


def test_steps_are_collected_from_updates(tmp_path: Path) -> None:
    from tests.modules.hippocampus.memory_helpers import summary

    memory = _memory(tmp_path)
    ctx = context("e1")
    memory.begin_episode(ctx)
    memory.update(summary(0, "Start."))  # the initial observation has no action
    memory.update(summary(1, "Found the mug.", action="find a Mug"))
    assert [s.action for s in memory.steps] == ["find a Mug"]


def test_this_houses_own_episodes_are_retrieved_when_other_houses_rank_higher(tmp_path: Path) -> None:
    # A robot that lived in many houses: "put the mug back" needs the episode in this house that used it,
    # which ranks below other houses' episodes worded like the request.
    memory = _memory(tmp_path)
    for i in range(6):
        ctx = context(f"other{i}", site=f"house_{i + 2}", instruction="Put the red mug back where it was.")
        memory.begin_episode(ctx)
        memory.end_episode(outcome(SUCCESS, success=True, ctx=ctx))
    ctx = context(
        "used", site="house_1", instruction="Take the mug out of the cabinet and put it on the sofa."
    )
    memory.begin_episode(ctx)
    memory.end_episode(outcome(SUCCESS, success=True, ctx=ctx))
    memory.begin_episode(context("now", site="house_1", instruction="Put the red mug back where it was."))
    result = memory.retrieve(["Put the red mug back where it was."])
    assert len(result.lines) == 6  # top_k 5 of any house, plus this house's own
    assert result.lines[-1].startswith("Task: Take the mug out of the cabinet")
