"""`bench/vs_mem0.py`: robomem's side end to end at CI size (a real loopback fake endpoint, real stores),
without Mem0; the fake model's answers to Mem0's extraction call; and, where Mem0's venv exists, both sides.
No timing is asserted: only what each memory answers and how many model calls it made."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import vs_mem0
from bench.parallel_memory import OPS
from robomem.testing.scripted_llm import RecordedRequest

STORES = {"temporal", "spatial", "episodic", "semantic"}


def _run(tmp_path: Path, mem0_python: Path) -> dict[str, object]:
    out = tmp_path / "vs_mem0.json"
    args = ["--quick", "--delay", "0.01", "--mem0-python", str(mem0_python), "--out", str(out)]
    assert vs_mem0.main(args) == 0
    report: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return report


def test_robomem_answers_where_a_moved_thing_is_now(tmp_path: Path) -> None:
    report = _run(tmp_path, tmp_path / "no-mem0" / "python")
    assert report["steps"] == 14 and report["episodes"] == 3
    # The spray bottle was seen in Cabinet_6, carried, and put in the microwave (the simulator agrees).
    assert report["questions"] == {
        "SprayBottle": {"truth": "Microwave", "seen_at": ["Cabinet_6", "held", "Microwave"]}
    }
    robomem = report["robomem"]
    assert isinstance(robomem, dict)
    assert robomem["answers"]["SprayBottle"]["answer"] == "Microwave"
    assert robomem["answers"]["SprayBottle"]["stored_places"] == ["Microwave"]  # Cabinet_6 superseded
    assert robomem["right"] == robomem["stores_only_the_true_place"] == robomem["questions"] == 1
    assert report["robomem_ops"] == OPS["paper"]
    assert set(robomem["calls_by_store"]) == STORES  # every memory operation went to the model
    assert robomem["last_steps"]["steps"] == 3 and robomem["ordinary_steps"]["steps"] == 11
    mem0 = report["mem0"]
    assert isinstance(mem0, dict) and vs_mem0.MEM0_INSTALL in mem0["skipped"]
    assert report["scripted_server_errors"] == 0


def _mem0_request(existing: list[str], message: str) -> RecordedRequest:
    # The sections of Mem0 2.2's additive-extraction user prompt that the fake model reads.
    memories = json.dumps([{"id": str(i), "text": t} for i, t in enumerate(existing)])
    prompt = (
        f"## Summary\n\n\n## Existing Memories\n{memories}\n\n## New Messages\nuser: {message}\n\n\n"
        "## Observation Date\n2026-01-01\n\n# Output:"
    )
    body = {
        "messages": [
            {"role": "system", "content": "You are a Memory Extractor"},
            {"role": "user", "content": prompt},
        ]
    }
    return RecordedRequest("POST", "/v1/chat/completions", {}, body, 0.0)


def test_the_fake_model_extracts_for_mem0_what_it_extracts_for_robomem() -> None:
    message = "I tried 'open the Cabinet_6' and it worked. I am at Cabinet_6 in the Bathroom. "
    message += "I see Mug, SprayBottle."
    reply = json.loads(vs_mem0.mem0_reply(_mem0_request(["Mug is in Cabinet_6."], message)))
    texts = [m["text"] for m in reply["memory"]]
    # Already among the memories shown: left out, as Mem0's prompt asks.
    assert texts == [
        "The robot is at Cabinet_6.",
        "The robot is in Bathroom.",
        "SprayBottle is in Cabinet_6.",
    ]
    assert [m["id"] for m in reply["memory"]] == ["0", "1", "2"]


@pytest.mark.parametrize(
    ("texts", "answer", "shown"),
    [
        (
            ["SprayBottle is in Cabinet_6.", "The robot is holding SprayBottle."],
            "Cabinet_6",
            ["Cabinet_6", "held"],
        ),
        (
            ["Cabinet_6: open", "SprayBottle in Microwave (seen ep3/step0, conf 0.80)"],
            "Microwave",
            ["Microwave"],
        ),
        (["SprayBottle_2 is in Cabinet."], None, []),  # another thing
    ],
)
def test_answers_are_read_from_either_systems_text(
    texts: list[str], answer: str | None, shown: list[str]
) -> None:
    assert vs_mem0._answer(texts, "SprayBottle") == {"answer": answer, "places_shown": shown}


@pytest.mark.slow
@pytest.mark.skipif(not vs_mem0.DEFAULT_MEM0_PYTHON.exists(), reason=f"no Mem0 venv: {vs_mem0.MEM0_INSTALL}")
def test_both_sides_with_mem0(tmp_path: Path) -> None:
    report = _run(tmp_path, vs_mem0.DEFAULT_MEM0_PYTHON)
    mem0 = report["mem0"]
    assert isinstance(mem0, dict) and mem0["version"] == "2.2.1"
    assert mem0["questions"] == 1 and mem0["all_steps"]["calls_per_step"]["max"] == 1.0  # one call per add
    # ADD-only: the place the bottle left is still stored beside the one it is at.
    assert {"Cabinet_6", "Microwave"} <= set(mem0["answers"]["SprayBottle"]["stored_places"])
    assert mem0["stores_only_the_true_place"] == 0
