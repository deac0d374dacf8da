"""The long-term index: pinned partitions answer exactly like the store, writes drop them, and a
retraction is never stored nor asked about when there is nothing to retract."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from pathlib import Path

import pytest

from modules.hippocampus.deciders import DeterministicDecider, LLMDecider
from modules.hippocampus.longterm import (
    Candidate,
    Decision,
    LongTermIndex,
    decide,
)
from robomem.stores.base import VectorHit, VectorItem
from robomem.stores.config import VectorConfig
from robomem.stores.factory import open_vector_store
from robomem.testing.scripted_llm import RecordedRequest, Rule, ScriptedLLMServer
from tests.conftest import ChromaServer
from tests.modules.hippocampus.memory_helpers import EMBEDDER, memory_store
from tests.modules.hippocampus.test_semantic import _llm

TEXTS = [
    ("In house_1, a Mug was found at Cabinet_2.", "house_1"),
    ("In house_1, a Knife was found at CounterTop_1.", "house_1"),
    ("In house_1 there is no Kettle.", "house_1"),
    ("In house_2, a Mug was found at Shelf_1.", "house_2"),
    ("In house_2, an Apple was found at Fridge_1.", "house_2"),
]


def _index(tmp_path: Path) -> LongTermIndex:
    index = LongTermIndex(memory_store(), EMBEDDER, tmp_path / "archive.jsonl")
    items = [VectorItem(f"t{i}", text, {"site": site}) for i, (text, site) in enumerate(TEXTS)]
    index.store.upsert(items, EMBEDDER.embed([i.text for i in items]))
    return index


def _ids(hits: Sequence[VectorHit]) -> list[tuple[str, float]]:
    return [(h.item.id, round(h.score, 5)) for h in hits]


def test_a_pinned_partition_answers_like_the_store(tmp_path: Path) -> None:
    index = _index(tmp_path)
    queries = ["where is the mug", "kettle"]
    unpinned = {site: index.search(queries, 2, {"site": site}) for site in ("house_1", "house_2")}
    assert index.pin([{"site": "house_1"}]) == 3
    assert _ids(index.search(queries, 2, {"site": "house_1"})) == _ids(unpinned["house_1"])
    # Another filter is not pinned: it still goes to the store, with the same answer as before.
    assert _ids(index.search(queries, 2, {"site": "house_2"})) == _ids(unpinned["house_2"])
    assert index.search(queries, 0, {"site": "house_1"}) == []


def test_a_write_drops_the_pins_so_nothing_stale_is_served(tmp_path: Path) -> None:
    index = _index(tmp_path)
    index.pin([{"site": "house_1"}])
    candidate = Candidate("In house_1, a Kettle was found at Stove_1.", {"site": "house_1"}, key="kettle")
    index.apply([candidate], [Decision("ADD")], episode_id="e1", now=1.0, new_id="e1")
    [best] = index.search(["kettle found at the stove"], 1, {"site": "house_1"})
    assert best.item.text == candidate.text


class _CountingDecider:
    def __init__(self, answer: Decision) -> None:
        self.answer = answer
        self.asked = 0

    def decide(self, candidate: Candidate, similar: Sequence[VectorHit]) -> Decision:
        self.asked += 1
        return self.answer


def test_a_retraction_with_nothing_stored_is_not_asked_and_never_stored(tmp_path: Path) -> None:
    index = _index(tmp_path)
    retract = Candidate("retract: there is no Mug", {"site": "house_1", "retract": True}, key="absent:mug")
    decider = _CountingDecider(Decision("ADD"))  # a decider that would wrongly store it
    decision = decide(decider, retract, index.neighbours(retract, 3))
    assert (decision.op, decider.asked) == ("NOOP", 0)

    index.apply([retract], [Decision("ADD")], episode_id="e1", now=1.0, new_id="e1")
    assert len(index.items()) == len(TEXTS), "a retraction must never become a memory"

    stored = Candidate("there is no Mug", {"site": "house_1"}, key="absent:mug")
    index.apply([stored], [Decision("ADD")], episode_id="e2", now=2.0, new_id="e2")
    decider = _CountingDecider(Decision("DELETE", index.items(where={"key": "absent:mug"})[0].id))
    assert decide(decider, retract, index.neighbours(retract, 3)).op == "DELETE"
    assert decider.asked == 1


def test_an_episode_id_with_a_comma_is_recognised_when_replayed(tmp_path: Path) -> None:
    # Run folders name episodes ("run,2/base/1"); an item's `episodes` field is a comma-separated list.
    index = _index(tmp_path)
    noop = [Decision("NOOP", "t0")]
    for episode in ("run,2/base/1", "50%,done/base/1"):
        for _ in range(2):  # the second time is a resumed process replaying the same episode
            index.apply([Candidate(TEXTS[0][0], {})], noop, episode_id=episode, now=1.0, new_id=episode)
    [item] = index.store.get(["t0"])
    assert item.metadata["count"] == 3
    added = Candidate("In house_1, a Kettle was found at Stove_1.", {"site": "house_1"}, key="kettle")
    for _ in range(2):
        index.apply([added], [Decision("ADD")], episode_id="a,b/1", now=1.0, new_id="a,b/1")
    [kettle] = index.items(where={"key": "kettle"})
    index.apply(
        [Candidate(added.text, {})], [Decision("NOOP", kettle.id)], episode_id="a,b/1", now=1.0, new_id="x"
    )
    assert index.store.get([kettle.id])[0].metadata["count"] == 1


def test_an_intent_is_reapplied_as_decided_after_a_partial_apply(tmp_path: Path) -> None:
    # A kill in the middle of `apply`: the first decision is written, the second not. The resumed process
    # re-applies the saved intent; the written part is skipped, the rest written, nothing twice.
    index = _index(tmp_path)
    candidates = [
        Candidate("In house_1, a Kettle was found at Stove_1.", {"site": "house_1"}, key="kettle"),
        Candidate("In house_1, a Mug was found at Cabinet_2.", {"site": "house_1"}),
        Candidate("retract", {"site": "house_1", "retract": True}, key="t2"),
    ]
    decisions = [Decision("ADD"), Decision("NOOP", "t0"), Decision("DELETE", "t2")]
    index.apply(candidates[:1], decisions[:1], episode_id="e1", now=1.0, new_id="e1")
    index.apply(candidates, decisions, episode_id="e1", now=1.0, new_id="e1")
    after_one = {i.id: (i.text, i.metadata.get("count")) for i in index.items()}
    report = index.apply(candidates, decisions, episode_id="e1", now=1.0, new_id="e1")
    assert report.counts == {"ADD": 0, "UPDATE": 0, "DELETE": 0, "NOOP": 0}
    assert {i.id: (i.text, i.metadata.get("count")) for i in index.items()} == after_one
    assert "t2" not in after_one and after_one["t0"][1] == 2
    assert len(index.items(where={"key": "kettle"})) == 1


def test_an_identical_add_meets_the_stored_item_and_confirms_it(tmp_path: Path) -> None:
    index = _index(tmp_path)
    lesson = Candidate("Open a fridge before taking from it.", {"level": "action"}, key="action:fridge")
    index.apply([lesson], [Decision("ADD")], episode_id="a/1", now=1.0, new_id="house_1")
    # Another writer's ADD of the same fact under the same id (decided before the first was written).
    report = index.apply([lesson], [Decision("ADD")], episode_id="b/1", now=2.0, new_id="house_1")
    assert report.counts["NOOP"] == 1 and report.counts["ADD"] == 0
    [item] = index.items(where={"key": "action:fridge"})
    assert item.metadata["count"] == 2 and item.metadata["episodes"] == "a/1,b/1"
    # A replay of either episode changes nothing.
    report = index.apply([lesson], [Decision("ADD")], episode_id="a/1", now=3.0, new_id="house_1")
    assert report.skipped_replays == 1
    assert index.items(where={"key": "action:fridge"})[0].metadata["count"] == 2


@pytest.mark.chroma
def test_an_llm_decision_made_stale_by_another_robot_is_taken_again(
    tmp_path: Path, chroma_server: ChromaServer
) -> None:
    """Robot A asks its LLM while robot B adds the same lesson (from another house, so under another id):
    under the write lock A sees B's item, asks again, and confirms it instead of adding a second one."""
    vector = VectorConfig(
        type="chroma_http",
        host=chroma_server.host,
        port=chroma_server.port,
        namespace=f"t{uuid.uuid4().hex[:12]}",
    )

    def robot(name: str) -> LongTermIndex:
        store = open_vector_store(
            vector, memory_dir=tmp_path, name="semantic", embedder_name=EMBEDDER.name, dim=EMBEDDER.dim
        )
        return LongTermIndex(store, EMBEDDER, tmp_path / f"{name}.jsonl")

    robot_a, robot_b = robot("a"), robot("b")
    lesson = Candidate("Open a fridge before taking from it.", {"level": "action"}, key="action:fridge")
    answers: list[str] = []

    def llm(request: RecordedRequest) -> str:
        shown = re.findall(r"id=(\w+)", request.last_user_text)
        if not answers:  # the first question: robot B writes the lesson while A waits for the answer
            robot_b.consolidate(
                [lesson], DeterministicDecider(0.9), n_update=5, episode_id="b/1", now=1.0, new_id="house_2"
            )
        answers.append("NOOP" if shown else "ADD")
        target = json.dumps(shown[0] if shown else None)
        return f'{{"op": "{answers[-1]}", "target_id": {target}, "text": null, "reason": "r"}}'

    try:
        with ScriptedLLMServer([Rule(reply=llm)]) as server, _llm(server) as client:
            decider = LLMDecider(client, DeterministicDecider(0.9), role="memory.semantic")
            report = robot_a.consolidate(
                [lesson], decider, n_update=5, episode_id="a/1", now=2.0, new_id="house_1"
            )
        assert answers == ["ADD", "NOOP"]
        assert report.redecided == 1 and report.counts["NOOP"] == 1
        [item] = robot_a.items()
        assert item.metadata["count"] == 2 and item.metadata["episodes"] == "b/1,a/1"
    finally:
        robot_a.store.close()
        robot_b.store.close()


def test_a_full_memory_evicts_a_batch_so_the_full_read_is_rare(tmp_path: Path) -> None:
    # Choosing what to evict reads every item (~1 s of CPU at the 20k-lesson cap); it used to happen after
    # every episode of a full memory. Going 1% below the cap makes it happen once per 1% of new items.
    index = LongTermIndex(memory_store(), EMBEDDER, tmp_path / "archive.jsonl")
    reads = 0
    whole = index.store.get

    def counting_get(
        ids: Sequence[str] | None = None, where: dict[str, str] | None = None
    ) -> list[VectorItem]:
        nonlocal reads
        reads += ids is None and where is None
        return whole(ids, where)

    index.store.get = counting_get  # type: ignore[method-assign, assignment]  # a spy on the real store's reads

    def add(first: int, n: int) -> None:
        items = [
            VectorItem(f"i{k}", f"lesson {k}", {"count": 1, "updated": float(k)})
            for k in range(first, first + n)
        ]
        index.store.upsert(items, EMBEDDER.embed([i.text for i in items]))

    add(0, 203)
    assert index.evict_over(200) == 5  # the 3 over the cap and 1% of 200 more
    assert index.store.count() == 198
    # The oldest (least recently updated) went, and are archived whole.
    assert [r["id"] for r in index.archived()] == ["i0", "i1", "i2", "i3", "i4"]
    assert index.archived()[0]["text"] == "lesson 0"
    add(203, 2)  # one new lesson per episode, say: the next two episodes evict nothing and read nothing
    reads = 0
    assert index.evict_over(200) == 0
    assert reads == 0 and index.store.count() == 200
    add(205, 1)
    assert index.evict_over(200) == 3 and index.store.count() == 198
    assert reads == 1
