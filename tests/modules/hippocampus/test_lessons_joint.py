"""Lesson creation and the lessons' decisions in one model call (``semantic.decide_calls: joint``): the memory
it leaves equals the paper's creation-then-decision calls, at one call per episode; a lesson whose nearest
stored lessons the creating call was not shown is still decided by its own call. Through the real scripted
server and client."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench._replies import memory_reply_rules
from modules.hippocampus.base import UpdateStats
from modules.hippocampus.deciders import LLMDecider
from modules.hippocampus.longterm import stable_id
from modules.hippocampus.semantic import ACTION_LESSONS, SemanticConfig, SemanticMemory
from robomem.llm.config import LLMConfig
from robomem.llm.openai_compat import OpenAICompatClient
from robomem.stores.base import VectorItem
from robomem.testing.scripted_llm import RecordedRequest, Rule, ScriptedLLMServer
from tests.modules.hippocampus.memory_helpers import EMBEDDER, context, memory_store, outcome, summary

HOLDING = "Last action is invalid. Robot is currently holding Knife"
CLOSED = "Last action is invalid. The Fridge is closed. Open it first"
OK = "Last action executed successfully."
Step = tuple[str, str, bool, str, tuple[str, str] | None]
#: (action, feedback, success, place, holding) per step, per episode: failures teach action lessons, a
#: pick-up a task lesson; the second episode repeats the first's failure (a NOOP) and adds one.
EPISODES: list[list[Step]] = [
    [
        ("pick up the Apple", HOLDING, False, "CounterTop", None),
        ("pick up the Mug", OK, True, "Cabinet_2", ("Mug", "Mug")),
    ],
    [
        ("pick up the Apple", HOLDING, False, "CounterTop", None),
        ("take out the Egg", CLOSED, False, "Fridge", None),
    ],
    [("pick up the Mug", OK, True, "Cabinet_2", ("Mug", "Mug"))],
]


def _client(server: ScriptedLLMServer) -> OpenAICompatClient:
    return OpenAICompatClient(LLMConfig(model="tiny", base_url=server.base_url, max_retries=0))


def _run(memory: SemanticMemory, episode: str, steps: list[Step]) -> UpdateStats:
    ctx = context(episode)
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
    return memory.end_episode(outcome([(a, f, ok) for a, f, ok, _, _ in steps], success=False, ctx=ctx))


def _memory(tmp_path: Path, llm: OpenAICompatClient, **config: object) -> SemanticMemory:
    return SemanticMemory(
        SemanticConfig(creator="llm", decider="llm", **config),
        store=memory_store(),
        embedder=EMBEDDER,
        memory_dir=tmp_path,
        llm=llm,
    )


def test_one_call_leaves_the_memory_that_creation_then_decisions_leave(tmp_path: Path) -> None:
    lessons: dict[str, list[tuple[str, str, int]]] = {}
    roles: dict[str, list[list[str]]] = {}
    for calls in ("joint", "separate"):
        with ScriptedLLMServer(memory_reply_rules()) as server, _client(server) as llm:
            memory = _memory(tmp_path / calls, llm, decide_calls=calls)
            roles[calls] = []
            for n, steps in enumerate(EPISODES, 1):
                server.clear_requests()
                _run(memory, f"e{n}", steps)
                roles[calls].append(sorted(r.role or "" for r in server.chat_requests))
            lessons[calls] = sorted(
                (str(i.metadata["level"]), i.text, int(i.metadata["count"])) for i in memory.index.items()
            )
            memory.close()
    assert lessons["joint"] == lessons["separate"]
    assert ("action", "'pick up' can fail: Last action is invalid.", 2) in lessons[
        "joint"
    ]  # confirmed (NOOP)
    assert len(lessons["joint"]) == 3
    # Joint: one call per episode; separate: the creation call, then one decision per lesson.
    assert roles["joint"] == [["memory.lessons"]] * 3
    assert roles["separate"] == [
        ["memory.lessons", "memory.semantic", "memory.semantic"],
        ["memory.lessons", "memory.semantic", "memory.semantic"],
        ["memory.lessons", "memory.semantic"],
    ]


def test_a_lesson_whose_nearest_stored_lesson_was_not_shown_is_decided_by_its_own_call(
    tmp_path: Path,
) -> None:
    fridge = "Taking something out of a closed fridge fails: open the fridge first."
    apple = "Picking up the Apple fails while the robot holds a Knife."

    def lessons(request: RecordedRequest) -> str:
        # A model that writes the fridge lesson again and, seeing only the apple lesson, calls it new.
        reply = {"lessons": [{"level": "action", "text": fridge, "op": "ADD", "target_id": None}]}
        return json.dumps(reply)

    def decision(request: RecordedRequest) -> str:
        (target,) = re.findall(r"^- id=(\S+): " + re.escape(fridge), request.last_user_text, re.M)
        return json.dumps({"op": "NOOP", "target_id": target, "text": None, "reason": "known"})

    rules = [Rule(role="memory.lessons", reply=lessons), Rule(role="memory.semantic", reply=decision)]
    with ScriptedLLMServer(rules) as server, _client(server) as llm:
        memory = _memory(tmp_path, llm, n_update=1)  # each call sees one stored lesson per level
        meta: dict[str, str | int | float | bool] = {
            "kind": "lesson",
            "level": "action",
            "key": "",
            "count": 1,
            "episodes": "e0",
        }
        stored = [VectorItem(stable_id("x", t), t, dict(meta)) for t in (apple, fridge)]
        memory.index.store.upsert(stored, EMBEDDER.embed([i.text for i in stored]))
        details = _run(memory, "e1", [("pick up the Apple", HOLDING, False, "CounterTop", None)]).details
        created, decided = server.chat_requests
        assert apple in created.last_user_text and fridge not in created.last_user_text
        assert decided.role == "memory.semantic"
        assert details["NOOP"] == 1 and details["ADD"] == 0
        counts = sorted((i.text, i.metadata["count"]) for i in memory.index.items(ACTION_LESSONS))
        assert counts == [(apple, 1), (fridge, 2)]
        assert isinstance(memory.decider, LLMDecider) and memory.decider.counts == {"preset": 0, "asked": 1}
        memory.close()
