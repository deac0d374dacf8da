"""How many model calls an LLM-extracted, LLM-resolved update costs (``resolve_calls``): ``joint`` asks for
the relations and the conflict edits in one call and applies the model's edits; ``on_conflict`` asks the
resolver only when the local subgraph holds a conflict; ``always`` asks it whenever a step brings new
facts. Stub client; every reply is what a careful model would say."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from modules.hippocampus.spatial import SpatialConfig, SpatialMemory
from robomem.errors import LLMError
from robomem.llm.base import ChatMessage
from robomem.llm.config import OnFailure
from robomem.llm.stub import Responder, StubLLMClient
from robomem.testing.hashing import HashingEmbedder
from tests.modules.hippocampus.spatial.helpers import Driver

BELIEF = re.compile(r"^(e\d+): (\S+) (\S+) (\S+) \(", re.MULTILINE)
FACT = re.compile(r"^- (\S+) (\S+) (\S+) \(", re.MULTILINE)
#: What each step's summary says, as relations.
STEPS = {
    "I am at DiningTable in the Kitchen. I see Cup.": [
        ("I", "at", "DiningTable"),
        ("Cup", "on", "DiningTable"),
    ],
    "I am at Sink in the Kitchen. I see Cup.": [("I", "at", "Sink"), ("Cup", "in", "Sink")],
    "I am at Sink in the Kitchen. I see Cup. I see Plate.": [("Plate", "in", "Sink")],
}


def _relations(text: str) -> list[tuple[str, str, str]]:
    summary = text.split("\nSummary:", 1)[1].split("\n", 1)[0].strip()
    return STEPS[summary]


def _supersede(beliefs: list[tuple[str, str, str, str]], facts: list[tuple[str, str, str]]) -> list[object]:
    """Supersede the belief a fact gives a new location to (the reason names the model)."""
    return [
        {"op": "supersede", "edge": edge, "reason": f"model: now {fs} {fr} {fo}"}
        for edge, s, r, o in beliefs
        for fs, fr, fo in facts
        if s == fs and r in ("at", "on", "in") and fr in ("at", "on", "in") and o != fo
    ]


def careful_model(messages: list[ChatMessage], role: str) -> str:
    text = str(messages[-1]["content"])
    if role == "memory.spatial.update":
        facts = _relations(text)
        beliefs = BELIEF.findall(text.split("Stored beliefs", 1)[1])
        return json.dumps(
            {
                "relations": [{"subject": s, "relation": r, "object": o} for s, r, o in facts],
                "edits": _supersede(beliefs, facts),
            }
        )
    if role == "memory.spatial.relations":
        facts = _relations(text)
        return json.dumps({"relations": [{"subject": s, "relation": r, "object": o} for s, r, o in facts]})
    assert role == "memory.spatial.resolve"
    beliefs = BELIEF.findall(text.split("Existing beliefs", 1)[1].split("New facts:", 1)[0])
    facts = FACT.findall(text.split("New facts:", 1)[1])
    return json.dumps({"edits": _supersede(beliefs, facts)})


def _run(
    tmp_path: Path, resolve_calls: str, model: Responder = careful_model, *, on_failure: OnFailure = "stop"
) -> tuple[SpatialMemory, StubLLMClient]:
    client = StubLLMClient(model, on_failure=on_failure)
    config = SpatialConfig(extractor="llm", resolver="llm", resolve_calls=resolve_calls)
    memory = SpatialMemory(config, memory_dir=tmp_path, embedder=HashingEmbedder(), llm=client)
    driver = Driver(memory)
    for text in STEPS:
        driver.step(None, action="look", text=text)
    return memory, client


@pytest.mark.parametrize(
    ("resolve_calls", "roles"),
    [
        # One call per step, whatever the step brings.
        ("joint", ["memory.spatial.update"] * 3),
        # Step 2 moves the robot and the cup (conflicts); step 3 only adds the plate (none).
        (
            "on_conflict",
            ["memory.spatial.relations", "memory.spatial.relations", "memory.spatial.resolve"]
            + ["memory.spatial.relations"],
        ),
        # Algorithm 2 as written: a resolve call after every step with new facts.
        ("always", ["memory.spatial.relations", "memory.spatial.resolve"] * 3),
    ],
)
def test_calls_per_update_and_the_same_right_answer(
    tmp_path: Path, resolve_calls: str, roles: list[str]
) -> None:
    memory, client = _run(tmp_path, resolve_calls)
    assert [role for role, _ in client.calls] == roles
    graph = memory.graph()
    # Every variant answers "where is the cup?" with where it is now, and only that.
    assert [k for k, _ in graph.functional_out("Cup", "location")] == [("Cup", "in", "Sink")]
    assert [k for k, _ in graph.functional_out("I", "location")] == [("I", "at", "Sink")]
    assert graph.edge("Plate", "in", "Sink") is not None
    assert graph.violations() == []
    # The model's edit retired the old belief, not the rules' fallback.
    assert "model: now Cup in Sink" in [h.reason for h in memory.history("Cup")]
    assert memory.counters["resolve_fallbacks"] == 0 and memory.counters["extract_fallbacks"] == 0
    memory.close()


def test_joint_prompt_shows_the_belief_a_moved_thing_contradicts(tmp_path: Path) -> None:
    memory, client = _run(tmp_path, "joint")
    second = str(client.calls[1][1][-1]["content"])
    shown = {(s, r, o) for _, s, r, o in BELIEF.findall(second.split("Stored beliefs", 1)[1])}
    assert {("Cup", "on", "DiningTable"), ("I", "at", "DiningTable")} <= shown
    memory.close()


def test_joint_edits_that_leave_a_conflict_fall_back_to_the_rules_without_a_second_call(
    tmp_path: Path,
) -> None:
    def forgetful(messages: list[ChatMessage], role: str) -> str:
        reply = json.loads(careful_model(messages, role))
        reply["edits"] = []  # says where the cup is now, but keeps its old place too
        return json.dumps(reply)

    memory, client = _run(tmp_path, "joint", forgetful, on_failure="fallback")
    assert [role for role, _ in client.calls] == ["memory.spatial.update"] * 3
    graph = memory.graph()
    assert [k for k, _ in graph.functional_out("Cup", "location")] == [("Cup", "in", "Sink")]
    assert graph.violations() == []
    assert memory.counters["resolve_fallbacks"] == 1  # step 2: the rules retired the old place instead
    assert client.fallbacks == {"memory.spatial.update": 1}  # counted under the joint call's role
    memory.close()


def test_joint_edits_that_leave_a_conflict_stop_as_the_joint_roles_llm_error_by_default(
    tmp_path: Path,
) -> None:
    # Before the one failure policy, unusable joint edits fell back to the rules, uncounted per role.
    def forgetful(messages: list[ChatMessage], role: str) -> str:
        reply = json.loads(careful_model(messages, role))
        reply["edits"] = []
        return json.dumps(reply)

    config = SpatialConfig(extractor="llm", resolver="llm", resolve_calls="joint")
    memory = SpatialMemory(
        config, memory_dir=tmp_path, embedder=HashingEmbedder(), llm=StubLLMClient(forgetful)
    )
    driver = Driver(memory)
    first, second = list(STEPS)[:2]
    driver.step(None, action="look", text=first)
    with pytest.raises(LLMError) as caught:
        driver.step(None, action="look", text=second)  # moves the cup, keeps its old place: inconsistent
    memory.close()
    assert caught.value.role == "memory.spatial.update"
    assert "edits leave the graph inconsistent" in str(caught.value)


def test_joint_edits_with_an_unknown_edge_keep_the_relations(tmp_path: Path) -> None:
    def confused(messages: list[ChatMessage], role: str) -> str:
        reply = json.loads(careful_model(messages, role))
        reply["edits"] = [{"op": "supersede", "edge": "e999"}]
        return json.dumps(reply)

    memory, client = _run(tmp_path, "joint", confused, on_failure="fallback")
    assert len(client.calls) == 3
    assert memory.graph().edge("Cup", "in", "Sink") is not None
    assert memory.counters["extract_fallbacks"] == 0
    assert memory.counters["resolve_fallbacks"] == 3
    memory.close()
