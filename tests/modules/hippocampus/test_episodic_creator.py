"""The episodic Creator (the paper's Long-term Memory Creator): the model writes the memory item under a head
it cannot alter, while the raw trajectory is still logged; a failure follows the one LLM failure policy."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from modules.hippocampus.episodic import EpisodicConfig, EpisodicMemory, render_trajectory
from robomem.errors import LLMError
from robomem.llm import LLMAccounting, LLMConfig, OpenAICompatClient
from robomem.storage import read_jsonl
from robomem.testing.scripted_llm import Rule, ScriptedLLMServer
from tests.modules.hippocampus.memory_helpers import EMBEDDER, context, memory_store, outcome

OK = "Last action executed successfully."
STEPS = [
    ("find a Mug", OK, True),
    ("pick up the Mug", "Last action is invalid. Robot is currently holding Apple.", False),
    ("put down the object in hand", OK, True),
    ("pick up the Mug", OK, True),
]
ACCOUNT = (
    "Found the Mug on CounterTop_1; picking it up failed while holding the Apple, so I put the Apple "
    "down first. Next time: put down what is in hand before picking up."
)


def _memory(tmp_path: Path, llm: OpenAICompatClient, **cfg: object) -> EpisodicMemory:
    config = EpisodicConfig.model_validate({"creator": "llm", **cfg})
    return EpisodicMemory(config, store=memory_store(), embedder=EMBEDDER, memory_dir=tmp_path, llm=llm)


def _end(memory: EpisodicMemory, episode: str, success: bool) -> None:
    ctx = context(episode)
    memory.begin_episode(ctx)
    memory.end_episode(outcome(STEPS, success=success, ctx=ctx))


def test_the_model_writes_the_item_and_the_raw_trajectory_is_logged(tmp_path: Path) -> None:
    accounting = LLMAccounting()
    rules = [Rule(role="memory.episodic.creator", reply=json.dumps({"account": ACCOUNT}))]
    with (
        ScriptedLLMServer(rules) as server,
        OpenAICompatClient(LLMConfig(model="m", base_url=server.base_url), accounting=accounting) as llm,
    ):
        memory = _memory(tmp_path, llm)
        _end(memory, "e1", success=False)
        (request,) = server.chat_requests
    prompt = request.last_user_text
    assert "Task: Put a mug in a cabinet." in prompt and "House: house_1" in prompt
    assert "2. pick up the Mug -> FAILED: Last action is invalid. Robot is currently holding Apple." in prompt
    assert "Outcome: failure (progress 0%) in 4 steps" in prompt
    (item,) = memory.index.items()
    # The head (task, site, verdict, length) is ours: the model cannot turn a failure into a success.
    assert item.text == (
        "Task: Put a mug in a cabinet. | site: house_1 | outcome: failure (progress 0%) in 4 steps | "
        + ACCOUNT
    )
    assert item.metadata["success"] is False and item.metadata["steps"] == 4
    (logged,) = read_jsonl(tmp_path / "episodes.jsonl")
    assert isinstance(logged, dict)
    ctx = context("e1")
    assert logged["text"] == render_trajectory(outcome(STEPS, success=False, ctx=ctx))
    assert "pick up the Mug -> Robot is currently holding Apple." in logged["text"]
    assert accounting.snapshot()["roles"]["memory.episodic.creator"]["calls"] == 1


def test_a_failed_creator_falls_back_to_the_trajectory_when_allowed(tmp_path: Path) -> None:
    accounting = LLMAccounting()
    rules = [Rule(role="memory.episodic.creator", reply='{"account": ""}')]
    with (
        ScriptedLLMServer(rules) as server,
        OpenAICompatClient(
            LLMConfig(model="m", base_url=server.base_url, on_failure="fallback"), accounting=accounting
        ) as llm,
    ):
        memory = _memory(tmp_path, llm)
        _end(memory, "e1", success=True)
    (item,) = memory.index.items()
    assert item.text == render_trajectory(outcome(STEPS, success=True, ctx=context("e1")))
    assert memory.creator.failures == 1  # type: ignore[attr-defined]
    assert accounting.snapshot()["roles"]["memory.episodic.creator"]["deterministic_fallbacks"] == 1


def test_a_failed_creator_stops_by_default_and_writes_nothing(tmp_path: Path) -> None:
    with (
        ScriptedLLMServer([Rule(reply="down", status=503)]) as server,
        OpenAICompatClient(LLMConfig(model="m", base_url=server.base_url, max_retries=0)) as llm,
    ):
        memory = _memory(tmp_path, llm)
        with pytest.raises(LLMError) as caught:
            _end(memory, "e1", success=True)
    assert caught.value.role == "memory.episodic.creator"
    assert memory.index.items() == []
    assert read_jsonl(tmp_path / "episodes.jsonl") == []


def test_the_deterministic_creator_stays_the_default(tmp_path: Path) -> None:
    assert EpisodicConfig().creator == "deterministic"
    memory = EpisodicMemory(EpisodicConfig(), store=memory_store(), embedder=EMBEDDER, memory_dir=tmp_path)
    _end(memory, "e1", success=True)
    (item,) = memory.index.items()
    assert item.text == render_trajectory(outcome(STEPS, success=True, ctx=context("e1")))


def test_a_resumed_consolidation_applies_the_saved_item_without_asking_the_creator_again(
    tmp_path: Path,
) -> None:
    # A process killed after deciding (the intent is saved, nothing applied yet) left the model's item on
    # disk. The resumed process applies that item; asking the creator again could write another text, and
    # here the endpoint is down, which must not matter.
    from modules.hippocampus.longterm import Decision
    from modules.hippocampus.pending import Intent

    ctx = context("e1")
    done = outcome(STEPS, success=False, ctx=ctx)
    rules = [Rule(role="memory.episodic.creator", reply=json.dumps({"account": ACCOUNT}))]
    with (
        ScriptedLLMServer(rules) as server,
        OpenAICompatClient(LLMConfig(model="m", base_url=server.base_url)) as llm,
    ):
        killed = _memory(tmp_path, llm)
        killed.begin_episode(ctx)
        candidates = killed.creator.create(done)
        killed.pending.save_intent(
            "e1", Intent(tuple(candidates), (Decision("ADD"),), now=done.time, new_id="e1")
        )
    with (
        ScriptedLLMServer([Rule(reply="down", status=503)]) as server,
        OpenAICompatClient(LLMConfig(model="m", base_url=server.base_url, max_retries=0)) as llm,
    ):
        resumed = EpisodicMemory(
            EpisodicConfig(creator="llm"),
            store=killed.index.store,
            embedder=EMBEDDER,
            memory_dir=tmp_path,
            llm=llm,
        )
        resumed.begin_episode(ctx)
        resumed.end_episode(done)
        assert server.chat_requests == []
    (item,) = resumed.index.items()
    assert item.text.endswith(ACCOUNT)
    (logged,) = read_jsonl(tmp_path / "episodes.jsonl")
    assert isinstance(logged, dict) and logged["text"] == render_trajectory(done)


def test_the_creator_is_chosen_by_name_through_the_registry(tmp_path: Path) -> None:
    from modules.hippocampus.episodic import EpisodeCreator, episode_candidates
    from modules.hippocampus.longterm import Candidate
    from modules.hippocampus.variants import EPISODIC_CREATORS
    from robomem.config import load_config
    from robomem.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        load_config(None, ["agent.type=robomem", "agent.memory.episodic.creator=poet"])
    assert str(err.value) == (
        "agent.memory.episodic.creator: unknown episodic creator type 'poet'; available: deterministic, llm"
    )

    class Terse:
        def create(self, outcome: object) -> list[Candidate]:
            return episode_candidates(outcome, "terse")  # type: ignore[arg-type]

    def terse(config: EpisodicConfig, **_: object) -> EpisodeCreator:
        return Terse()

    EPISODIC_CREATORS.add("terse", terse, EpisodicConfig)  # what a plug-in's entry point does
    try:
        memory = EpisodicMemory(
            EpisodicConfig(creator="terse"), store=memory_store(), embedder=EMBEDDER, memory_dir=tmp_path
        )
        _end(memory, "e1", success=False)
    finally:
        EPISODIC_CREATORS.unregister("terse")
    (item,) = memory.index.items()
    assert item.text == "terse"


def test_the_creator_and_the_decision_overlap_and_the_decision_is_taken_for_the_creators_item(
    tmp_path: Path,
) -> None:
    """An episode's last step must not pay the Creator and the decider one after the other. The scripted
    Creator only answers once the decider's request has arrived, so run in a row it would never see one."""
    import threading

    asked = threading.Event()

    def decide(request: object) -> str:
        asked.set()
        return json.dumps({"op": "ADD", "target_id": None, "text": None, "reason": "new"})

    def create(request: object) -> str:
        overlapped = asked.wait(timeout=20)
        return json.dumps({"account": ACCOUNT if overlapped else "asked after the decision"})

    rules = [Rule(role="memory.episodic.creator", reply=create), Rule(role="memory.episodic", reply=decide)]
    with (
        ScriptedLLMServer(rules) as server,
        OpenAICompatClient(LLMConfig(model="m", base_url=server.base_url)) as llm,
    ):
        memory = _memory(tmp_path, llm, decider="llm")
        _end(memory, "e1", success=False)
        roles = [str(r.role) for r in server.chat_requests]
    assert sorted(roles) == ["memory.episodic", "memory.episodic.creator"]  # one decision, not asked twice
    (decision,) = [r for r in server.chat_requests if r.role == "memory.episodic"]
    # The decider judged the trajectory itself; the item stored is the Creator's.
    assert "pick up the Mug -> Robot is currently holding Apple." in decision.last_user_text
    (item,) = memory.index.items()
    assert item.text.endswith(ACCOUNT)
    assert memory.decider.counts == {"preset": 1, "asked": 1}  # type: ignore[attr-defined]


def test_the_prompt_names_the_agent_as_the_environment_does(tmp_path: Path) -> None:
    rules = [Rule(role="memory.episodic.creator", reply=json.dumps({"account": ACCOUNT}))]
    with (
        ScriptedLLMServer(rules) as server,
        OpenAICompatClient(LLMConfig(model="m", base_url=server.base_url)) as llm,
    ):
        memory = _memory(tmp_path, llm)
        _end(memory, "e1", success=True)
        ctx = dataclasses.replace(context("e2"), robot="text-adventure player")
        memory.begin_episode(ctx)
        memory.end_episode(outcome(STEPS, success=True, ctx=ctx))
        first, second = (r.last_user_text for r in server.chat_requests)
    assert first.startswith("You are the episodic memory of a household robot.")
    assert second.startswith("You are the episodic memory of a text-adventure player.")
