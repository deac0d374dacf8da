"""The step trace (``<run>/<subset>/trace/episode_<N>_trace.jsonl``): one record per loop iteration that
matches the step file, what the planner saw and the critic said, node timings, every model reply (and never
the API key), ``--verbose`` lines; and finished episodes' checkpoints are pruned and their traces gzipped
(read back as written, by one reader for both forms). Real runs: the household
simulator offline, and ``robomem eval`` against the scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from envs.registry import ENVS
from robomem.agents import AGENTS
from robomem.agents.robomemory import RoboMemoryAgent
from robomem.cli.main import main
from robomem.config import load_config
from robomem.eval.harness import evaluate
from robomem.testing.scripted_llm import Rule, ScriptedLLMServer
from robomem.trace import (
    STORES,
    TraceRecorder,
    compress_trace,
    format_record,
    read_run_traces,
    read_trace,
    trace_path,
)
from tests.robomem.agents import resume_helpers as rh
from tests.robomem.agents.test_robomemory_llm import _plan
from tests.robomem.scripted_env import ScriptedTestEnv, make_task

KEYS = {"step", "summary", "queries", "retrieved", "plan", "critic", "action", "feedback", "success"}
KEYS |= {"timings", "llm"}
NODES = {"perceive", "memory_update", "memory_retrieve", "plan", "critic", "execute"}


def _records(path: Path) -> list[dict[str, Any]]:
    """A finished episode's trace: gzipped, its plain file gone."""
    packed = path.with_name(path.name + ".gz")
    assert packed.is_file() and not path.exists(), path
    records = [json.loads(line) for line in gzip.decompress(packed.read_bytes()).splitlines()]
    assert read_trace(path) == records == read_trace(packed)
    return records


def _check_against_step_files(run_dir: Path) -> list[dict[str, Any]]:
    """Every episode has a trace whose acting records are its step file, in order; returns all records."""
    everything = []
    for steps_file in sorted(run_dir.glob("*/steps/episode_*_steps.json")):
        subset, n = steps_file.parent.parent.name, steps_file.name.split("_")[1]
        trace = trace_path(run_dir, f"{subset}/{n}")
        assert trace == run_dir / subset / "trace" / f"episode_{n}_trace.jsonl"
        records = _records(trace)
        steps = json.loads(steps_file.read_text(encoding="utf-8"))
        acting = [r for r in records if not r.get("final")]
        assert [(r["step"], r["action"], r["success"]) for r in acting] == [
            (s["step"], s["action"], s["success"]) for s in steps
        ]
        # The feedback the agent was given: the env's, or for a timed-out skill the executor's words on it.
        assert all(s["feedback"] in r["feedback"] for r, s in zip(acting, steps, strict=True))
        assert all(r.get("final") for r in records[len(acting) :])  # a final record comes last, if any
        for record in records:
            assert set(record) >= KEYS, record
            assert set(record["retrieved"]) == set(STORES)
            assert record["critic"]["verdict"] in ("accept", "reject", "skipped")
            assert set(record["timings"]) <= NODES and all(t >= 0 for t in record["timings"].values())
        for record in acting:
            assert record["plan"][0] == record["action"] or record["action"] in record["plan"][0]
            assert {"perceive", "memory_update", "memory_retrieve", "execute"} <= set(record["timings"])
        everything += records
    return everything


def test_an_offline_run_traces_every_step_and_prunes_finished_checkpoints(tmp_path: Path) -> None:
    cfg = load_config(None, ["eval.subsets=[base, spatial]", "eval.episodes=2"])
    agent = AGENTS.build(cfg.agent)
    assert isinstance(agent, RoboMemoryAgent)
    seen: list[tuple[str, int]] = []
    agent.trace.listeners.append(lambda episode, record: seen.append((episode, record["step"])))
    run_dir = tmp_path / "run"
    with ENVS.build(cfg.env) as env:
        evaluate(cfg, env, agent, run_dir, progress=False)
    records = _check_against_step_files(run_dir)
    assert len(list(run_dir.glob("*/trace/*.jsonl.gz"))) == 4 and not list(run_dir.glob("*/trace/*.jsonl"))
    assert list(read_run_traces(run_dir)) == ["base/1", "base/2", "spatial/1", "spatial/2"]
    assert [r for rs in read_run_traces(run_dir).values() for r in rs] == records
    assert len(seen) == len(records) and {e for e, _ in seen} == {
        "base/1",
        "base/2",
        "spatial/1",
        "spatial/2",
    }
    assert any(r["summary"] for r in records) and any(r["queries"] for r in records)
    assert any(text for r in records for text in r["retrieved"].values()), "memory answered something"
    assert {r["critic"]["verdict"] for r in records} >= {"accept", "skipped"}
    assert all(r["llm"] == [] for r in records)  # no LLM role in the demo agent
    # Finished episodes keep no checkpoint, and the file was compacted.
    assert rh.checkpoint_threads(run_dir) == []
    assert (run_dir / "checkpoints.sqlite").stat().st_size < 200_000


def test_llm_replies_critic_objections_and_verbose_lines_without_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "sk-trace-test-0123456789abcdef"
    monkeypatch.setenv("ROBOMEM_TRACE_TEST_KEY", secret)
    rules = [
        Rule(role="planner", reply="I think the robot should go to the kitchen.", times=1),  # prose, no JSON
        Rule(role="planner", reply=_plan),
        Rule(
            role="critic", reply='{"reasoning": "too early", "ok": false, "feedback": "look first"}', times=1
        ),
        Rule(role="critic", reply='{"reasoning": "fine", "ok": true, "feedback": ""}'),
        Rule(role="thalamus.summary", reply='{"summary": "I moved."}'),
        Rule(role="thalamus.queries", reply='{"queries": ["mug", "cabinet", "kitchen", "counter"]}'),
    ]
    run_dir = tmp_path / "run"
    with ScriptedLLMServer(rules) as server:
        code = main(
            [
                "eval",
                "--config",
                "configs/llm_agent.yaml",
                "--subset",
                "base",
                "--episodes",
                "1",
                "--no-progress",
                "--verbose",
                "--run-dir",
                str(run_dir),
                f"agent.llm.base_url={server.base_url}",
                "agent.llm.model=scripted",
                "agent.llm.api_key_env=ROBOMEM_TRACE_TEST_KEY",
                "agent.llm.max_retries=0",
                "agent.llm.repair_attempts=0",
                "agent.planner.max_retries=0",
                "env.max_steps=6",
                "agent.memory.embedder.type=hashing",
                "agent.memory.vector.type=exact",
            ]
        )
    assert code == 0
    records = _check_against_step_files(run_dir)
    replies = [item for r in records for item in r["llm"]]
    roles = {item["role"] for item in replies}
    assert {"planner", "critic", "thalamus.summary", "thalamus.queries"} <= roles
    assert "I think the robot should go to the kitchen." in [
        i["reply"] for i in replies if i["role"] == "planner"
    ]
    assert all(isinstance(i["prompt_tokens"], int) for i in replies)
    rejected = [r for r in records if r["critic"]["verdict"] == "reject"]
    assert len(rejected) == 1 and "look first" in rejected[0]["critic"]["reason"]
    assert rejected[0]["replanned"] and rejected[0]["timings"]["plan"] > 0
    assert all(r["summary"] == "I moved." for r in records[1:])
    # The key went to the server (the client sends it), never into the run folder or the output.
    assert any(secret in str(req.headers) for req in server.chat_requests)
    for path in run_dir.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert secret.encode() not in (gzip.decompress(data) if path.suffix == ".gz" else data), path
    out = capsys.readouterr()
    assert secret not in out.out + out.err
    # --verbose: each record, readably, as it was written.
    assert out.err.count("[base/1 step ") == len(records)
    assert "critic rejected: " in out.err and "look first" in out.err
    assert format_record("base/1", records[0]).splitlines()[0] in out.err


def test_a_timed_out_skill_is_a_step_and_a_failed_env_ends_the_trace(tmp_path: Path) -> None:
    """A skill that times out is a failed step in the trace as in the step file; an environment that fails
    mid-episode (a connection lost) ends the trace with a final record naming the error."""
    plan = {
        "reasoning_and_reflection": "",
        "language_plan": "",
        "executable_plan": [
            {"action_id": 2, "action_name": "wait"},
            {"action_id": 0, "action_name": "advance"},
            {"action_id": 0, "action_name": "advance"},
        ],
    }
    tasks = {"base": (make_task("base_slow", "base"),), "spatial": (make_task("spatial_boom", "spatial"),)}
    with ScriptedLLMServer([Rule(role="planner", reply=json.dumps(plan))]) as server:
        cfg = load_config(
            None,
            [
                "agent.type=robomem",
                "agent.planner.type=llm",
                "agent.memory.stores=[]",
                f"agent.llm={{base_url: '{server.base_url}', model: m, max_retries: 0}}",
            ],
        )
        run_dir = tmp_path / "run"
        run_dir.mkdir()  # robomem eval makes it
        evaluate(cfg, ScriptedTestEnv(tasks=tasks), AGENTS.build(cfg.agent), run_dir, progress=False)
    slow = _check_against_step_files(run_dir)  # both episodes
    timed_out = [r for r in slow if r["action"] == "wait"]
    assert timed_out and all(not r["success"] and "did not finish" in r["feedback"] for r in timed_out)
    boom = _records(run_dir / "spatial" / "trace" / "episode_1_trace.jsonl")
    assert len(boom) == 1 and boom[0]["final"] and boom[0]["step"] == 0
    assert boom[0]["error"] == "EnvConnectionError: test server went away" == boom[0]["stop_reason"]
    assert boom[0]["llm"][0]["role"] == "planner" and "execute" in boom[0]["timings"]


def test_a_finished_trace_is_gzipped_atomically_and_reads_back_as_written(tmp_path: Path) -> None:
    """compress_trace keeps the file's bytes (a text with U+2028, which str.splitlines would cut, included),
    writes the same bytes every time (a resumed run's file equals an uninterrupted run's), and finishes the
    job when a kill left both forms; read_trace reads either form, prefers the plain file, and reports a
    torn line or a damaged .gz instead of failing."""
    path = trace_path(tmp_path, "base/3")
    path.parent.mkdir(parents=True)
    records = [
        {"step": 1, "summary": "a\u2028b \u00e9", "retrieved": dict.fromkeys(STORES, "Egg in Fridge\n" * 50)},
        {"step": 1, "final": True, "stop_reason": "done"},
    ]
    written = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    path.write_bytes(written)
    assert read_trace(path) == records
    compress_trace(path)
    packed = path.with_name("episode_3_trace.jsonl.gz")
    assert not path.exists() and gzip.decompress(packed.read_bytes()) == written
    assert read_trace(path) == records == read_trace(packed) and len(packed.read_bytes()) < len(written) / 5
    first = packed.read_bytes()
    compress_trace(path)  # already done: nothing to do
    assert packed.read_bytes() == first
    path.write_bytes(written)  # killed between writing the .gz and removing the plain file
    compress_trace(path)
    assert packed.read_bytes() == first and not path.exists()

    problems: list[str] = []
    path.write_bytes(written + b'{"step": 2, "summ')  # the plain file (being written) wins, torn line noted
    assert read_trace(packed, problems) == records
    assert problems == [f"{path}: 1 unreadable line(s) skipped"]
    path.unlink()
    packed.write_bytes(first[: len(first) // 2])
    problems.clear()
    assert read_trace(path, problems) == [] and problems == [f"{packed}: unreadable (EOFError)"]
    assert read_trace(tmp_path / "nothing.jsonl") == []


def test_a_rerun_episode_drops_its_stale_finished_trace(tmp_path: Path) -> None:
    """An episode traced again starts a plain file and removes an older .gz, which would otherwise be read
    once the new plain file is compressed or removed."""
    path = trace_path(tmp_path, "base/1")
    path.parent.mkdir(parents=True)
    path.write_text('{"step": 1, "action": "old"}\n', encoding="utf-8")
    compress_trace(path)
    recorder = TraceRecorder()
    recorder.start(path, "base/1")
    assert path.read_bytes() == b"" and not path.with_name(path.name + ".gz").exists()
    recorder.saved(path)
    assert read_trace(path) == []


def test_a_resumed_episode_whose_closing_node_did_not_run_again_still_ends_with_its_closing_record(
    tmp_path: Path,
) -> None:
    """The random-kill test lost an episode's closing record after a kill in the closing iteration (~1 run
    in 3): the resumed checkpoint was finished without it. Whatever the path, a done episode's trace ends
    closed, with the record an uninterrupted run writes (on every key but timings and replies)."""
    path = tmp_path / "base" / "trace" / "episode_1_trace.jsonl"
    path.parent.mkdir(parents=True)
    steps = [{"step": n, "action": f"a{n}", "final": None} for n in (1, 2)]
    path.write_text("".join(json.dumps(r) + "\n" for r in steps), encoding="utf-8")
    saved = {
        "history": [{}, {}],
        "step": 2,
        "done": True,
        "env_done": True,
        "summary": "I put the Mug down.",
        "queries": ["Mug"],
        "memory": {"episodic": ["Task: earlier"]},
    }
    recorder = TraceRecorder()
    recorder.start(path, "base/1", saved, next_nodes=(), finished=False)
    recorder.close_episode(saved)
    recorder.close_episode(saved)  # once only
    records = read_trace(path)
    assert [r["step"] for r in records] == [1, 2, 2]
    closing = records[-1]
    assert closing["final"] is True and closing["action"] == ""
    assert closing["stop_reason"] == "the environment ended the episode"
    assert closing["summary"] == "I put the Mug down." and closing["queries"] == ["Mug"]
    assert set(closing["retrieved"].values()) == {""}  # the closing iteration retrieves nothing
    # A trace that already ends closed is left as it is.
    recorder.start(path, "base/1", saved, next_nodes=(), finished=True)
    recorder.close_episode(saved)
    assert read_trace(path) == records


def test_an_action_of_an_iteration_begun_before_a_kill_keeps_what_that_iteration_perceived(
    tmp_path: Path,
) -> None:
    """The random-kill test found (~1 run in 3 under load) a resumed episode whose interrupted iteration was
    not seeded at start, so its record had the action but an empty summary and no queries. Whatever the
    path, an action's record holds what its iteration perceived and retrieved (the state it was chosen in)."""
    path = tmp_path / "base" / "trace" / "episode_1_trace.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"step": 1, "action": "a1", "final": None}) + "\n", encoding="utf-8")
    state = {
        "history": [{"action": "a1", "feedback": "ok", "success": True}],
        "step": 1,
        "summary": "I see the Mug.",
        "queries": ["Mug", "Sink"],
        "memory": {"episodic": ["Task: earlier"]},
        "plan": ["find a Sink"],
    }
    recorder = TraceRecorder()
    recorder.start(path, "base/1", state, next_nodes=("perceive",))  # as if the iteration had not begun
    acted = {"action": "a2", "feedback": "ok", "success": True}
    executed = {"step": 2, "history": [state["history"][0], acted]}  # type: ignore[index]
    execute = recorder.middleware("execute", lambda _state, _runtime: executed)  # type: ignore[arg-type]
    execute(state, None)  # type: ignore[arg-type]
    record = read_trace(path)[-1]
    assert record["action"] == "a2" and record["resumed"] is True
    assert record["summary"] == "I see the Mug." and record["queries"] == ["Mug", "Sink"]
    assert record["retrieved"]["episodic"] == "Task: earlier"
    # An iteration this process perceived is recorded as it ran (nothing filled in from the state).
    perceived = {"summary": "new", "queries": ["Cup"]}
    perceive = recorder.middleware("perceive", lambda _state, _runtime: perceived)  # type: ignore[arg-type]
    perceive(state, None)  # type: ignore[arg-type]
    execute(state, None)  # type: ignore[arg-type]
    record = read_trace(path)[-1]
    assert record["summary"] == "new" and record["queries"] == ["Cup"] and "resumed" not in record
