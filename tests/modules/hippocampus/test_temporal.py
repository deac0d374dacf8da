"""Temporal memory: FIFO of step summaries, compression of the oldest entries into one entry at the front."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from modules.hippocampus.temporal import TemporalConfig, TemporalMemory
from robomem.testing.scripted_llm import Rule, ScriptedLLMServer
from tests.modules.hippocampus.memory_helpers import context, outcome, summary


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
    saved = json.loads((tmp_path / "temporal" / "ep1.jsonl").read_text().splitlines()[-1])
    assert saved["entries"][0]["text"] == "Found the mug."


def _reloaded(tmp_path: Path, episode: str = "ep1") -> list[str]:
    fresh = TemporalMemory(TemporalConfig(), memory_dir=tmp_path)
    fresh.begin_episode(context(episode))
    return _lines(fresh)


def test_a_step_appends_to_the_episode_file_instead_of_rewriting_it(tmp_path: Path) -> None:
    # A temp file + rename per step cost ~3 ms on the memory update's critical path; an append ~0.1 ms.
    memory = TemporalMemory(TemporalConfig(capacity=2), memory_dir=tmp_path)
    memory.begin_episode(context("ep1"))
    memory.update(summary(1, "Found the mug."))
    path = tmp_path / "temporal" / "ep1.jsonl"
    inode = path.stat().st_ino
    for step in range(2, 8):
        memory.update(summary(step, f"Did thing {step}."))
        assert path.stat().st_ino == inode, "the file was replaced, not appended to"
    assert len(path.read_text().splitlines()) == 7
    assert _reloaded(tmp_path) == _lines(memory)


def test_a_torn_last_line_is_dropped_and_appends_go_on(tmp_path: Path) -> None:
    memory = TemporalMemory(TemporalConfig(), memory_dir=tmp_path)
    memory.begin_episode(context("ep1"))
    memory.update(summary(1, "Found the mug."))
    memory.update(summary(2, "Picked up the mug."))
    path = tmp_path / "temporal" / "ep1.jsonl"
    whole = path.read_text()
    path.write_text(whole + whole.splitlines()[-1][:25])  # what a kill in the middle of a write leaves
    resumed = TemporalMemory(TemporalConfig(), memory_dir=tmp_path)
    resumed.begin_episode(context("ep1"))
    assert _lines(resumed) == ["[step 1] Found the mug.", "[step 2] Picked up the mug."]
    resumed.update(summary(3, "Opened the cabinet."))
    assert _reloaded(tmp_path) == [*_lines(memory), "[step 3] Opened the cabinet."]
    # Only a torn line: nothing was saved, the episode starts empty and the file is usable.
    path.write_text('{"episode_id": "ep1", "entr')
    assert _reloaded(tmp_path) == []
    resumed = TemporalMemory(TemporalConfig(), memory_dir=tmp_path)
    resumed.begin_episode(context("ep1"))
    resumed.update(summary(4, "Closed it."))
    assert _reloaded(tmp_path) == ["[step 4] Closed it."]


def test_long_episodes_compact_their_file(tmp_path: Path) -> None:
    memory = TemporalMemory(TemporalConfig(capacity=3), memory_dir=tmp_path)
    memory.begin_episode(context("ep1"))
    for step in range(1, 151):
        memory.update(summary(step, f"Did thing {step}."))
    lines = (tmp_path / "temporal" / "ep1.jsonl").read_text().splitlines()
    assert 1 <= len(lines) <= 64
    assert _reloaded(tmp_path) == _lines(memory)
    memory.end_episode(outcome([], success=True, ctx=context("ep1")))
    assert list((tmp_path / "temporal").iterdir()) == []


def test_a_buffer_saved_by_an_older_robomem_is_resumed(tmp_path: Path) -> None:
    folder = tmp_path / "temporal"
    folder.mkdir()
    legacy = {"episode_id": "ep1", "entries": [{"text": "Found the mug.", "first_step": 1, "last_step": 1}]}
    (folder / "ep1.json").write_text(json.dumps(legacy, indent=2))
    memory = TemporalMemory(TemporalConfig(), memory_dir=tmp_path)
    memory.begin_episode(context("ep1"))
    assert _lines(memory) == ["[step 1] Found the mug."]
    memory.update(summary(2, "Picked it up."))
    assert _reloaded(tmp_path) == ["[step 1] Found the mug.", "[step 2] Picked it up."]
    assert sorted(p.name for p in folder.iterdir()) == ["ep1.jsonl"]


_KILLED_WRITER = """
import sys
from pathlib import Path
from modules.hippocampus.temporal import TemporalConfig, TemporalMemory
from tests.modules.hippocampus.memory_helpers import context, outcome, summary

memory = TemporalMemory(TemporalConfig(capacity=3), memory_dir=Path(sys.argv[1]))
memory.begin_episode(context("ep1"))
step = 0
while True:
    step += 1
    memory.update(summary(step, f"Did thing {step}. " + "detail " * 200))
    print(step, flush=True)
"""


def test_a_writer_killed_mid_run_resumes_at_a_saved_step(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert child.stdout is not None
    done = 0
    try:
        while done < 200:  # far enough for the file to have been compacted a few times
            done = int(child.stdout.readline())
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    resumed = TemporalMemory(TemporalConfig(capacity=3), memory_dir=tmp_path)
    resumed.begin_episode(context("ep1"))
    entries = resumed.retrieve([]).data
    last = entries[-1].last_step
    assert last >= done  # every step the writer reported done is remembered
    assert entries[-1].text.startswith(f"Did thing {last}.")
    resumed.update(summary(last + 1, "Resumed."))
    assert _reloaded(tmp_path)[-1] == f"[step {last + 1}] Resumed."


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
