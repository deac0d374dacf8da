"""Temporal memory: FIFO of step summaries, compression of the oldest entries into one entry at the front."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modules.hippocampus.temporal import TemporalConfig, TemporalMemory
from robomem.testing.scripted_llm import Rule, ScriptedLLMServer
from tests.modules.hippocampus.memory_helpers import context, summary


def _lines(memory: TemporalMemory) -> list[str]:
    return list(memory.retrieve(["anything"]).lines)


def test_fifo_until_full(tmp_path: Path) -> None:
    memory = TemporalMemory(TemporalConfig(capacity=3), memory_dir=tmp_path)
    memory.begin_episode(context())
    for step in (1, 2, 3):
        memory.update(summary(step, f"Did thing {step}."))
    assert _lines(memory) == ["[step 1] Did thing 1.", "[step 2] Did thing 2.", "[step 3] Did thing 3."]


def test_full_buffer_is_compressed_into_one_entry_at_the_front(tmp_path: Path) -> None:
    memory = TemporalMemory(TemporalConfig(capacity=3), memory_dir=tmp_path)
    memory.begin_episode(context())
    for step in (1, 2, 3):
        memory.update(summary(step, f"Did thing {step}. Extra detail {step}."))
    stats = memory.update(summary(4, "Did thing 4."))
    assert stats.details["compressed"] == 3
    assert _lines(memory) == ["[steps 1-3] Did thing 1. Did thing 2. Did thing 3.", "[step 4] Did thing 4."]
    memory.update(summary(5, "Did thing 5."))
    stats = memory.update(summary(6, "Did thing 6."))
    # The earlier compressed entry is compressed again together with the newer ones (detail fades).
    assert stats.details["compressed"] == 3
    assert _lines(memory)[0].startswith("[steps 1-5] Did thing 1.")
    assert _lines(memory)[1] == "[step 6] Did thing 6."


def test_compression_respects_its_character_budget(tmp_path: Path) -> None:
    memory = TemporalMemory(TemporalConfig(capacity=2, max_chars=80), memory_dir=tmp_path)
    memory.begin_episode(context())
    for step in range(1, 30):
        memory.update(summary(step, f"At step {step} the robot opened Cabinet_{step} and looked inside it."))
    first = memory.retrieve([]).data[0]
    assert len(first.text) <= 80
    assert first.text.endswith("looked inside it.")  # the newest part survives, the oldest fades


def test_new_episode_starts_empty_and_resumed_episode_reloads(tmp_path: Path) -> None:
    memory = TemporalMemory(TemporalConfig(), memory_dir=tmp_path)
    memory.begin_episode(context("ep1"))
    memory.update(summary(1, "Found the mug."))
    reopened = TemporalMemory(TemporalConfig(), memory_dir=tmp_path)
    reopened.begin_episode(context("ep1"))
    assert _lines(reopened) == ["[step 1] Found the mug."]
    reopened.begin_episode(context("ep2"))
    assert _lines(reopened) == []
    saved = json.loads(next((tmp_path / "temporal").glob("ep1*.json")).read_text())
    assert saved["entries"][0]["text"] == "Found the mug."


def test_llm_compressor_through_a_real_server(tmp_path: Path) -> None:
    from robomem.llm.config import LLMConfig
    from robomem.llm.openai_compat import OpenAICompatClient

    rules = [
        Rule(reply='{"summary": "Opened three cabinets; the mug was in Cabinet_2."}', contains="Compress")
    ]
    with (
        ScriptedLLMServer(rules) as server,
        OpenAICompatClient(
            LLMConfig(model="tiny", base_url=server.base_url, api_key_env="ROBOMEM_TEST_KEY", max_retries=0)
        ) as llm,
    ):
        memory = TemporalMemory(TemporalConfig(capacity=2, compressor="llm"), memory_dir=tmp_path, llm=llm)
        memory.begin_episode(context())
        for step in (1, 2, 3):
            memory.update(summary(step, f"Step {step} text."))
        assert _lines(memory)[0] == "[steps 1-2] Opened three cabinets; the mug was in Cabinet_2."
        prompt = server.chat_requests[0].last_user_text
        assert "[step 1] Step 1 text." in prompt and "Put a mug in a cabinet." in prompt


def test_llm_compressor_falls_back_on_malformed_reply(tmp_path: Path) -> None:
    from robomem.llm.config import LLMConfig
    from robomem.llm.openai_compat import OpenAICompatClient

    with (
        ScriptedLLMServer([Rule(reply="I'd rather chat about the weather {")]) as server,
        OpenAICompatClient(
            LLMConfig(
                model="tiny",
                base_url=server.base_url,
                api_key_env="ROBOMEM_TEST_KEY",
                max_retries=0,
                on_failure="fallback",
            )
        ) as llm,
    ):
        memory = TemporalMemory(TemporalConfig(capacity=2, compressor="llm"), memory_dir=tmp_path, llm=llm)
        memory.begin_episode(context())
        for step in (1, 2, 3):
            memory.update(summary(step, f"Step {step} text."))
        assert _lines(memory)[0] == "[steps 1-2] Step 1 text. Step 2 text."
        assert memory.compressor.failures == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(("reply", "status"), [("I'd rather chat about the weather {", 200), ("down", 503)])
def test_llm_compressor_failure_stops_as_an_llm_error_by_default(
    tmp_path: Path, reply: str, status: int
) -> None:
    # Before: a transport failure surfaced as a `[store]` error (and a malformed reply fell back silently).
    from modules.hippocampus.system import MemorySystem
    from robomem.errors import LLMError
    from robomem.llm.config import LLMConfig
    from robomem.llm.openai_compat import OpenAICompatClient

    with (
        ScriptedLLMServer([Rule(reply=reply, status=status)]) as server,
        OpenAICompatClient(LLMConfig(model="tiny", base_url=server.base_url, max_retries=0)) as llm,
    ):
        store = TemporalMemory(TemporalConfig(capacity=2, compressor="llm"), memory_dir=tmp_path, llm=llm)
        system = MemorySystem([store])
        system.begin_episode(context())
        system.update(summary(1, "Step 1 text."))
        system.update(summary(2, "Step 2 text."))
        with pytest.raises(LLMError) as caught:
            system.update(summary(3, "Step 3 text."))
        assert caught.value.role == "memory.temporal"
        system.close()
