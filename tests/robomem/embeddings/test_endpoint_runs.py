"""Whole ``robomem eval`` runs with the endpoint embedder on the real scripted server: what it costs lands in
``llm_usage.json``, a memory refuses another embedder in one line, and a dead endpoint stops the run as an
``llm`` error that ``--resume`` continues."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from robomem.cli.main import main
from robomem.testing.scripted_llm import Rule, ScriptedLLMServer


@pytest.fixture
def server() -> Iterator[ScriptedLLMServer]:
    with ScriptedLLMServer(embedding_dim=32) as srv:
        yield srv


def eval_args(run_dir: Path, *extra: str) -> list[str]:
    return [
        "eval",
        "--subset",
        "base",
        "--episodes",
        "1",
        "--no-progress",
        "--run-dir",
        str(run_dir),
        "agent.type=robomem",
        "agent.memory.vector.type=exact",
        *extra,
    ]


def endpoint(server: ScriptedLLMServer, *extra: str) -> list[str]:
    return [
        "agent.memory.embedder.type=openai",
        "agent.memory.embedder.model=emb",
        f"agent.memory.embedder.base_url={server.base_url}",
        "agent.memory.embedder.max_retries=0",
        *extra,
    ]


def test_an_offline_agent_accounts_its_embedding_requests(server: ScriptedLLMServer, tmp_path: Path) -> None:
    assert main(eval_args(tmp_path / "run", *endpoint(server, "agent.memory.embedder.batch_size=4"))) == 0
    usage = json.loads((tmp_path / "run" / "llm_usage.json").read_text())
    stats = usage["roles"]["embeddings"]
    assert list(usage["roles"]) == ["embeddings"]  # no chat role: the planner and memory are offline
    assert stats["calls"] == stats["requests"] == len(server.embedding_requests) > 3
    assert stats["prompt_tokens"] == sum(len(t.split()) for r in server.embedding_requests for t in r.inputs)
    assert max(len(r.inputs) for r in server.embedding_requests) == 4
    manifest = json.loads((tmp_path / "run" / "memory" / "manifest.json").read_text())
    assert (manifest["embedder_type"], manifest["embedder"], manifest["dim"]) == ("openai", "emb", 32)


def test_reopening_a_memory_with_another_dimension_is_refused_in_one_line(
    server: ScriptedLLMServer, tmp_path: Path
) -> None:
    memory = tmp_path / "memory"
    assert main(eval_args(tmp_path / "a", f"agent.memory.dir={memory}", *endpoint(server))) == 0
    before = {p: p.read_bytes() for p in sorted(memory.rglob("*")) if p.is_file()}
    smaller = endpoint(server, "agent.memory.embedder.dim=16", "agent.memory.embedder.send_dim=true")
    command = [
        sys.executable,
        "-m",
        "robomem",
        *eval_args(tmp_path / "b", f"agent.memory.dir={memory}", *smaller),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0] == (
        f"robomem: error [store]: memory at {memory} was built with the openai embedder 'emb' (dim 32), "
        "not the openai embedder 'emb' (dim 16): vectors of two models must never mix "
        "(set agent.memory.embedder.dim=32 (and serve the model that gives it), or start another memory "
        "with --fresh-memory or a new agent.memory.dir)"
    )
    assert {p: p.read_bytes() for p in sorted(memory.rglob("*")) if p.is_file()} == before, "memory untouched"


def test_reopening_a_memory_with_another_embedder_type_names_the_one_it_needs(
    server: ScriptedLLMServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    memory = f"agent.memory.dir={tmp_path / 'memory'}"
    assert main(eval_args(tmp_path / "a", memory, "agent.memory.embedder.type=hashing")) == 0
    capsys.readouterr()
    assert main(eval_args(tmp_path / "b", memory, *endpoint(server))) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "was built with the hashing embedder 'hashing-ngrams-v1' (dim 384)" in err
    assert "set agent.memory.embedder.type=hashing back" in err


def test_an_unknown_embedder_type_lists_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(eval_args(tmp_path / "run", "agent.memory.embedder.type=qwen")) == 2
    assert capsys.readouterr().err == (
        "robomem: error [config]: agent.memory.embedder.type: unknown embedder type 'qwen'; "
        "available: hashing, minilm, openai\n"
    )


def test_a_dead_endpoint_stops_the_run_as_an_llm_error_and_resume_finishes_it(
    server: ScriptedLLMServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Mid-episode (a vertex first seen after a few steps), the endpoint fails once.
    server.add(Rule(endpoint="embeddings", contains="Laptop", status=503, reply="overloaded", times=1))
    args = eval_args(tmp_path / "run", *endpoint(server, "agent.memory.embedder.dim=32"))
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("robomem: error [llm]: embedding request to ") and err.count("\n") == 1
    assert "failed with HTTP 503: overloaded" in err
    assert not (tmp_path / "run" / "base" / "results" / "episode_1_final_res.json").exists()
    assert main(["eval", "--resume", str(tmp_path / "run"), "--no-progress"]) == 0
    result = json.loads((tmp_path / "run" / "base" / "results" / "episode_1_final_res.json").read_text())
    assert result["task_success"] == 1
    failed = json.loads((tmp_path / "run" / "llm_usage.part1.json").read_text())["roles"]["embeddings"]
    resumed = json.loads((tmp_path / "run" / "llm_usage.json").read_text())["roles"]["embeddings"]
    assert (failed["transport_errors"], resumed["transport_errors"]) == (1, 0)
