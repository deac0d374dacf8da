"""The LLM variants (stub client): valid edits are applied; malformed or invalid replies fall back to the
deterministic rules and are counted."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from modules.hippocampus.spatial import SpatialConfig, SpatialMemory
from robomem.errors import ConfigError, LLMError
from robomem.llm.base import ChatMessage
from robomem.llm.config import OnFailure
from robomem.llm.stub import Responder, StubLLMClient
from robomem.testing.hashing import HashingEmbedder
from tests.modules.hippocampus.spatial.helpers import KITCHEN, Driver, perception

EDGE_LINE = re.compile(r"^(e\d+): (\S+) (\S+) (\S+) \(", re.MULTILINE)


def edge_ids(messages: list[ChatMessage]) -> dict[tuple[str, str, str], str]:
    prompt = str(messages[0]["content"])
    return {(s, r, o): i for i, s, r, o in EDGE_LINE.findall(prompt)}


def llm_memory(
    tmp_path: Path, responder: Responder, on_failure: OnFailure = "fallback", **cfg: object
) -> tuple[SpatialMemory, StubLLMClient]:
    client = StubLLMClient(responder, on_failure=on_failure)
    config = SpatialConfig(resolver="llm", **cfg)
    return SpatialMemory(config, memory_dir=tmp_path, embedder=HashingEmbedder(), llm=client), client


FACT_LINE = re.compile(r"^- (\S+) (\S+) (\S+) \(", re.MULTILINE)


def good_resolver(messages: list[ChatMessage], role: str) -> str:
    """Supersedes what the new facts displace, like a careful model would; doubts one unrelated belief."""
    assert role == "memory.spatial.resolve"
    ids = edge_ids(messages)
    prompt = str(messages[0]["content"])
    edits: list[dict[str, object]] = []
    for subject, relation, obj in FACT_LINE.findall(prompt):
        for (s, r, o), edge_id in ids.items():
            if s == subject and r == relation and o != obj and relation in ("at", "on", "in"):
                why = "the cup moved" if subject == "Cup" else "moved"
                edits.append({"op": "supersede", "edge": edge_id, "reason": why})
    if "- Cup in Sink" in prompt:
        edits.append(
            {"op": "supersede", "edge": ids[("Cup", "on", "DiningTable")], "reason": "the cup moved"}
        )
        edits.append(
            {"op": "weaken", "edge": ids[("Plate", "on", "DiningTable")], "factor": 0.9, "reason": "unsure"}
        )
        edits.append(
            {"op": "add", "subject": "Cup", "relation": "near", "object": "Fridge", "reason": "adjacent"}
        )
    return json.dumps({"edits": edits})


def first_two_steps(driver: Driver) -> None:
    on_table = {"Cup": ("on", "DiningTable"), "Plate": ("on", "DiningTable")}
    driver.step(perception("Kitchen", furniture=(*KITCHEN, "Shelf"), place="DiningTable", objects=on_table))
    driver.step(
        perception("Kitchen", furniture=(*KITCHEN, "Shelf"), place="Shelf", objects={"Vase": ("on", "Shelf")})
    )
    driver.step(perception("Kitchen", furniture=(*KITCHEN, "Shelf"), place="DiningTable", objects=on_table))


def test_valid_llm_edits_are_applied(tmp_path: Path) -> None:
    memory, client = llm_memory(tmp_path, good_resolver)
    driver = Driver(memory)
    first_two_steps(driver)
    stats = driver.step(
        perception("Kitchen", furniture=(*KITCHEN, "Shelf"), place="Sink", objects={"Cup": ("in", "Sink")})
    )
    assert stats.details["resolver"] == "llm" and "llm_fallback" not in stats.details
    assert stats.details["llm_edits"] == 4  # I at Sink, the cup, the plate, "near"
    graph = memory.graph()
    assert graph.edge("Cup", "in", "Sink") is not None and graph.edge("Cup", "on", "DiningTable") is None
    assert graph.edge("Plate", "on", "DiningTable").confidence == pytest.approx(0.9)  # type: ignore[union-attr]
    assert graph.edge("Vase", "on", "Shelf").confidence == 1.0  # type: ignore[union-attr]
    near = graph.edge("Cup", "near", "Fridge")
    assert near is not None and near.provenance == "inferred"
    assert "the cup moved" in [h.reason for h in memory.history("Cup")]
    assert graph.violations() == []
    assert memory.counters["resolve_fallbacks"] == 0
    assert {role for role, _ in client.calls} == {"memory.spatial.resolve"}
    memory.close()


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("Sure! The cup moved, so I would supersede the old edge.", "malformed"),
        ('{"edits": [{"op": "supersede", "edge": "e999"}]}', "unknown edge"),
        ('{"edits": [{"op": "teleport", "edge": "e1"}]}', "unknown edit"),
        (
            '{"edits": [{"op": "add", "subject": "Cup", "relation": "in", "object": "Narnia"}]}',
            "unknown node",
        ),
        ('{"edits": "none"}', "must be a list"),
        # Valid JSON and valid ids, but it forgets to retire the old place: the cup would be in two places.
        ('{"edits": []}', "inconsistent"),
    ],
)
def test_bad_llm_replies_fall_back_to_the_rules(tmp_path: Path, reply: str, why: str) -> None:
    def responder(messages: list[ChatMessage], role: str) -> str:
        if "- Cup in Sink" in str(messages[0]["content"]):
            return reply
        return good_resolver(messages, role)

    memory, client = llm_memory(tmp_path, responder)
    driver = Driver(memory)
    first_two_steps(driver)
    stats = driver.step(
        perception("Kitchen", furniture=(*KITCHEN, "Shelf"), place="Sink", objects={"Cup": ("in", "Sink")})
    )
    assert stats.details["llm_fallback"] == 1 and why in stats.details["llm_error"]
    assert memory.counters["resolve_fallbacks"] == 1
    graph = memory.graph()
    # The deterministic rules did the job instead.
    assert graph.edge("Cup", "in", "Sink") is not None and graph.edge("Cup", "on", "DiningTable") is None
    assert graph.violations() == []
    if why == "malformed":
        # One correction retry before giving up.
        assert sum(1 for role, m in client.calls if "- Cup in Sink" in str(m[0]["content"])) == 2
    memory.close()


def test_llm_extractor_reads_the_summary_text(tmp_path: Path) -> None:
    def responder(messages: list[ChatMessage], role: str) -> str:
        assert role == "memory.spatial.relations"
        text = str(messages[0]["content"])
        if "mug in the sink" in text:
            return json.dumps(
                {
                    "relations": [
                        {"subject": "mug", "relation": "inside", "object": "Sink"},
                        {"subject": "Fridge", "relation": "contains", "object": "Milk"},
                    ],
                    "states": [{"entity": "Fridge", "state": "closed", "value": True}],
                    "entities": [{"name": "Mug", "kind": "object"}, {"name": "Sink", "kind": "receptacle"}],
                    "holding_nothing": True,
                }
            )
        return "I cannot tell."

    client = StubLLMClient(responder, on_failure="fallback")
    memory = SpatialMemory(
        SpatialConfig(extractor="llm"), memory_dir=tmp_path, embedder=HashingEmbedder(), llm=client
    )
    driver = Driver(memory)
    driver.step(None, action="pick up the Mug", text="I picked up the Mug.")
    stats = driver.step(None, action="put down the object in hand", text="I put the mug in the sink.")
    assert "extract_fallback" not in stats.details
    graph = memory.graph()
    sink = graph.edge("Mug", "in", "Sink")  # "mug" was mapped onto the existing vertex
    assert "mug" not in graph
    assert sink is not None and sink.provenance == "reported" and sink.confidence == 0.7
    assert graph.edge("Milk", "in", "Fridge") is not None  # "contains" was turned around
    assert graph.node("Fridge").states["open"].value is False
    assert graph.edge("I", "holding", "Mug") is None
    # The first reply was unusable (twice): the action still told the deterministic extractor what happened.
    assert memory.counters["extract_fallbacks"] == 1
    assert client.fallbacks == {"memory.spatial.relations": 1}
    memory.close()


def test_llm_variants_need_a_client(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        SpatialMemory(SpatialConfig(resolver="llm"), memory_dir=tmp_path, embedder=HashingEmbedder())


def _down(messages: list[ChatMessage], role: str) -> str:
    raise LLMError("endpoint down", role=role)


def test_an_unreachable_llm_falls_back_when_the_policy_says_so(tmp_path: Path) -> None:
    memory, client = llm_memory(tmp_path, _down, on_failure="fallback")
    stats = Driver(memory).step(perception("Kitchen", furniture=KITCHEN, place="Sink"))
    assert stats.details["llm_fallback"] == 1 and "endpoint down" in stats.details["llm_error"]
    assert memory.graph().edge("I", "at", "Sink") is not None
    assert client.fallbacks == {"memory.spatial.resolve": 1}
    memory.close()


@pytest.mark.parametrize("responder", [_down, lambda messages, role: "Sure, the cup moved."])
def test_a_failed_llm_call_stops_by_default(tmp_path: Path, responder: Responder) -> None:
    # The same event as in temporal memory or any other role: one `[llm]` error, not a silent fallback.
    memory, client = llm_memory(tmp_path, responder, on_failure="stop")
    with pytest.raises(LLMError) as caught:
        Driver(memory).step(perception("Kitchen", furniture=KITCHEN, place="Sink"))
    assert caught.value.role == "memory.spatial.resolve"
    assert client.fallbacks == {}
    memory.close()
