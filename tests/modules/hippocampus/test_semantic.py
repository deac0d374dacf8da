"""Semantic memory: action- and task-level lessons, created after episodes, ADD / UPDATE / DELETE / NOOP."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from modules.hippocampus.semantic import SemanticConfig, SemanticMemory
from robomem.stores.config import VectorConfig
from robomem.stores.factory import open_vector_store
from robomem.testing.scripted_llm import Rule, ScriptedLLMServer
from tests.conftest import ChromaServer
from tests.modules.hippocampus.memory_helpers import EMBEDDER, context, memory_store, outcome, summary

HOLDING = "Last action is invalid. Robot is currently holding Knife"
ABSENT = (
    "Last action is invalid. Cannot find Kettle. This object may not exist in this scene. "
    "Try to explore other instances instead."
)
OK = "Last action executed successfully."


def _memory(tmp_path: Path, **config: object) -> SemanticMemory:
    return SemanticMemory(
        SemanticConfig(**config), store=memory_store(), embedder=EMBEDDER, memory_dir=tmp_path
    )


def _episode(
    memory: SemanticMemory,
    episode: str,
    steps: Sequence[tuple[str, str, bool, str | None, tuple[str, str] | None]],
    site: str = "house_1",
) -> dict[str, object]:
    ctx = context(episode, site=site)
    memory.begin_episode(ctx)
    for i, (action, feedback, ok, place, holding) in enumerate(steps, 1):
        memory.update(
            summary(
                i,
                f"step {i}",
                ctx=ctx,
                action=action,
                feedback=feedback,
                success=ok,
                place=place,
                holding=holding,
            )
        )
    return memory.end_episode(
        outcome([(a, f, ok) for a, f, ok, _, _ in steps], success=True, ctx=ctx)
    ).details


def _texts(memory: SemanticMemory) -> list[str]:
    return sorted(i.text for i in memory.index.items())


def test_action_and_task_lessons_are_created(tmp_path: Path) -> None:
    memory = _memory(tmp_path)
    details = _episode(
        memory,
        "e1",
        [
            ("find a Mug", OK, True, "Cabinet_2", None),
            ("pick up the Mug", OK, True, "Cabinet_2", ("Mug_2", "Mug")),
            ("pick up the Apple", HOLDING, False, "Cabinet_2", ("Mug_2", "Mug")),
        ],
    )
    assert details["ADD"] == 2  # one action lesson, one "where" lesson (the retraction finds nothing)
    assert _texts(memory) == [
        "In house_1, a Mug was found at Cabinet_2.",
        "Picking something up fails while the robot already holds an object: put the held object down first.",
    ]
    result = memory.retrieve(["where is the mug", "pick up the apple"])
    assert {line.split("] ")[0] for line in result.lines} == {"[action", "[task"}


def test_same_lesson_again_is_noop(tmp_path: Path) -> None:
    memory = _memory(tmp_path)
    steps = [("pick up the Apple", HOLDING, False, "CounterTop", None)]
    _episode(memory, "e1", steps)
    details = _episode(memory, "e2", steps, site="house_2")  # action lessons hold in every house
    assert details["NOOP"] == 1 and details["ADD"] == 0
    (item,) = memory.index.items()
    assert item.metadata["count"] == 2


def test_moved_object_updates_the_where_lesson(tmp_path: Path) -> None:
    memory = _memory(tmp_path)
    _episode(
        memory,
        "e1",
        [
            ("find a Mug", OK, True, "Cabinet_2", None),
            ("pick up the Mug", OK, True, "Cabinet_2", ("Mug", "Mug")),
        ],
    )
    details = _episode(
        memory,
        "e2",
        [("find a Mug", OK, True, "Drawer", None), ("pick up the Mug", OK, True, "Drawer", ("Mug", "Mug"))],
    )
    assert details["UPDATE"] == 1
    assert _texts(memory) == ["In house_1, a Mug was found at Drawer."]
    assert memory.index.archived()[0]["text"] == "In house_1, a Mug was found at Cabinet_2."


def test_two_instances_of_a_type_keep_a_lesson_each(tmp_path: Path) -> None:
    """A lesson per instance (its perceived attributes), not one per type: finding a blue mug elsewhere does
    not overwrite where the red one was found, and however alike the two lessons' words, neither is a
    near-duplicate of the other."""
    memory = _memory(tmp_path, dedup_threshold=0.5)
    for episode, place, color in (("e1", "Cabinet_2", "red"), ("e2", "Drawer", "blue")):
        ctx = context(episode)
        memory.begin_episode(ctx)
        memory.update(summary(1, "find", ctx=ctx, action="find a Mug", place=place))
        memory.update(
            summary(
                2,
                "pick",
                ctx=ctx,
                action="pick up the Mug",
                place=place,
                holding=("Mug_1", "Mug"),
                attributes={"material": "ceramic", "color": color},
            )
        )
        memory.end_episode(
            outcome([("find a Mug", OK, True), ("pick up the Mug", OK, True)], success=True, ctx=ctx)
        )
    assert _texts(memory) == [
        "In house_1, a blue ceramic Mug was found at Drawer.",
        "In house_1, a red ceramic Mug was found at Cabinet_2.",
    ]


def test_finding_something_deletes_the_lesson_that_it_does_not_exist(tmp_path: Path) -> None:
    memory = _memory(tmp_path)
    _episode(memory, "e1", [("find a Kettle", ABSENT, False, None, None)])
    assert _texts(memory) == ["In house_1 there is no Kettle."]
    details = _episode(
        memory,
        "e2",
        [
            ("find a Kettle", OK, True, "Shelf", None),
            ("pick up the Kettle", OK, True, "Shelf", ("Kettle", "Kettle")),
        ],
    )
    assert details["DELETE"] == 1 and details["ADD"] == 1
    assert _texts(memory) == ["In house_1, a Kettle was found at Shelf."]


def test_task_lessons_are_site_scoped_in_retrieval(tmp_path: Path) -> None:
    memory = _memory(tmp_path)
    _episode(
        memory,
        "e1",
        [
            ("find a Mug", OK, True, "Cabinet_2", None),
            ("pick up the Mug", OK, True, "Cabinet_2", ("Mug", "Mug")),
        ],
    )
    memory.begin_episode(context("e2", site="house_9"))
    assert memory.retrieve(["where is the mug"]).lines == ()
    memory.begin_episode(context("e3", site="house_1"))
    assert memory.retrieve(["where is the mug"]).lines == (
        "[task] In house_1, a Mug was found at Cabinet_2.",
    )


def test_near_duplicates_are_consolidated(tmp_path: Path) -> None:
    memory = _memory(tmp_path, dedup_threshold=0.8)
    _episode(
        memory, "e1", [("frobnicate the Mug", "Last action is invalid. The Mug is wobbly", False, None, None)]
    )
    details = _episode(
        memory,
        "e2",
        [("frobnicate the Mug_2", "Last action is invalid. The Mug_2 is wobbly", False, None, None)],
    )
    assert details["NOOP"] == 1
    assert len(memory.index.items()) == 1


def _llm(server: ScriptedLLMServer, on_failure: str = "fallback"):
    from robomem.llm.config import LLMConfig
    from robomem.llm.openai_compat import OpenAICompatClient

    config = LLMConfig(model="tiny", base_url=server.base_url, max_retries=0, on_failure=on_failure)
    return OpenAICompatClient(config)


def test_llm_creator_and_decider_through_a_real_server(tmp_path: Path) -> None:
    rules = [
        Rule(
            reply='{"lessons": [{"level": "task", "text": "In house_1 the mugs live in Cabinet_2."}]}',
            contains="lessons worth keeping",
        ),
        Rule(
            reply='{"op": "ADD", "target_id": null, "text": null, "reason": "new"}',
            contains="decide what to do",
            times=1,
        ),
        Rule(
            reply='{"op": "NOOP", "target_id": "ID", "text": null, "reason": "known"}',
            contains="decide what to do",
        ),
    ]
    with ScriptedLLMServer(rules) as server, _llm(server) as llm:
        memory = SemanticMemory(
            SemanticConfig(creator="llm", decider="llm"),
            store=memory_store(),
            embedder=EMBEDDER,
            memory_dir=tmp_path,
            llm=llm,
        )
        assert _episode(memory, "e1", [("find a Mug", OK, True, "Cabinet_2", None)])["ADD"] == 1
        assert _texts(memory) == ["In house_1 the mugs live in Cabinet_2."]
        # The second decision names an id it was never shown: invalid, so the deterministic rule decides
        # (a near-duplicate of the stored lesson → NOOP), and the fallback is counted.
        details = _episode(memory, "e2", [("find a Mug", OK, True, "Cabinet_2", None)])
        assert details["NOOP"] == 1
        assert memory.decider.failures == 1  # type: ignore[attr-defined]
        decide = [r for r in server.chat_requests if "decide what to do" in r.last_user_text][-1]
        assert "In house_1 the mugs live in Cabinet_2." in decide.last_user_text


def test_llm_creator_malformed_reply_falls_back(tmp_path: Path) -> None:
    with ScriptedLLMServer([Rule(reply='{"lessons": [{"level": "galaxy"')]) as server, _llm(server) as llm:
        memory = SemanticMemory(
            SemanticConfig(creator="llm"),
            store=memory_store(),
            embedder=EMBEDDER,
            memory_dir=tmp_path,
            llm=llm,
        )
        _episode(memory, "e1", [("pick up the Apple", HOLDING, False, "CounterTop", None)])
        assert memory.creator.failures == 1  # type: ignore[attr-defined]
        (lesson,) = _texts(memory)
        assert lesson.startswith("Picking something up fails while the robot already holds an object")


def test_llm_creator_malformed_reply_stops_by_default(tmp_path: Path) -> None:
    from robomem.errors import LLMError

    with (
        ScriptedLLMServer([Rule(reply='{"lessons": [{"level": "galaxy"')]) as server,
        _llm(server, on_failure="stop") as llm,
    ):
        memory = SemanticMemory(
            SemanticConfig(creator="llm"),
            store=memory_store(),
            embedder=EMBEDDER,
            memory_dir=tmp_path,
            llm=llm,
        )
        with pytest.raises(LLMError) as caught:
            _episode(memory, "e1", [("pick up the Apple", HOLDING, False, "CounterTop", None)])
        assert caught.value.role == "memory.lessons"
        assert _texts(memory) == []  # nothing written on the model's behalf


def test_a_house_lesson_is_not_a_duplicate_of_another_houses(tmp_path: Path) -> None:
    memory = _memory(tmp_path, dedup_threshold=0.5)  # so loose that the two houses' lessons would merge
    steps = [
        ("find a Mug", OK, True, "Cabinet_2", None),
        ("pick up the Mug", OK, True, "Cabinet_2", ("Mug", "Mug")),
    ]
    _episode(memory, "e1", steps, site="house_1")
    _episode(memory, "e2", steps, site="house_2")
    memory.begin_episode(context("e3", site="house_2"))
    assert memory.retrieve(["where is the mug"]).lines == (
        "[task] In house_2, a Mug was found at Cabinet_2.",
    )


@pytest.mark.chroma
def test_on_a_shared_server_another_robots_new_lesson_is_a_near_duplicate(
    tmp_path: Path, chroma_server: ChromaServer
) -> None:
    vector = VectorConfig(
        type="chroma_http", host=chroma_server.host, port=chroma_server.port, namespace="semshared"
    )

    def robot(name: str) -> SemanticMemory:
        store = open_vector_store(
            vector, memory_dir=tmp_path / name, name="semantic", embedder_name=EMBEDDER.name, dim=EMBEDDER.dim
        )
        config = SemanticConfig(dedup_threshold=0.8)
        return SemanticMemory(config, store=store, embedder=EMBEDDER, memory_dir=tmp_path / name)

    robot_a, robot_b = robot("a"), robot("b")
    try:
        ctx = context("a/1", site="house_1")
        robot_a.begin_episode(ctx)  # pins the (still empty) lessons
        _episode(
            robot_b,
            "b/1",
            [("frobnicate the Mug", "Last action is invalid. The Mug is wobbly", False, None, None)],
        )
        robot_a.update(
            summary(
                1,
                "step 1",
                ctx=ctx,
                action="frobnicates the Mug",
                feedback="Last action is invalid. The Mug is wobbly",
                success=False,
            )
        )
        details = robot_a.end_episode(
            outcome(
                [("frobnicates the Mug", "Last action is invalid. The Mug is wobbly", False)],
                success=True,
                ctx=ctx,
            )
        ).details
        # Another key ('frobnicates'), so only the similarity search can find robot B's lesson, written
        # after robot A's episode began.
        assert details["NOOP"] == 1
        assert len(robot_a.index.items()) == 1
    finally:
        robot_a.close()
        robot_b.close()
