"""``configs/robomemory.yaml`` (RoboMemory as in the paper) end to end through ``robomem eval`` against a real
OpenAI-compatible server on 127.0.0.1 with scripted, usable replies: every role is called and none falls back;
every schema sent is valid for OpenAI's strict mode; a failed memory call stops the run as `[llm]` and
``--resume`` finishes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from robomem.cli.main import main
from robomem.config import load_config
from robomem.testing.role_replies import PAPER_ROLES, SPATIAL_TWO_CALL_ROLES, paper_rules
from robomem.testing.scripted_llm import Rule, ScriptedLLMServer
from tests.robomem.llm.strict_check import strict_problems

PRESET = "configs/robomemory.yaml"


def _eval(run_dir: Path, base_url: str, *extra: str) -> int:
    return main(
        [
            "eval",
            "--config",
            PRESET,
            "--subset",
            "base",
            "--episodes",
            "2",
            "--no-progress",
            "--run-dir",
            str(run_dir),
            f"agent.llm.base_url={base_url}",
            "agent.llm.model=scripted",
            "agent.llm.max_retries=0",
            "env.max_steps=6",  # temporal memory (capacity 4) compresses once per episode
            "agent.memory.embedder.type=hashing",
            "agent.memory.vector.type=exact",
            *extra,
        ]
    )


def test_the_preset_is_the_paper_system() -> None:
    agent = load_config(PRESET, []).agent
    memory = agent.memory  # type: ignore[attr-defined]
    assert agent.planner.type == agent.critic.type == agent.thalamus.type == "llm"  # type: ignore[attr-defined]
    assert (memory.temporal.compressor, memory.spatial.extractor, memory.spatial.resolver) == ("llm",) * 3
    assert memory.spatial.resolve_calls == "joint"  # README, "The paper preset": one call, not two in a row
    assert (memory.episodic.creator, memory.episodic.decider) == ("llm", "llm")
    assert (memory.semantic.creator, memory.semantic.decider) == ("llm", "llm")
    # App. E5 where it states a value.
    assert (memory.temporal.capacity, memory.spatial.top_n, memory.spatial.hops) == (4, 3, 2)
    assert (memory.episodic.top_k, memory.episodic.n_update, memory.semantic.n_update) == (5, 10, 10)
    assert (memory.semantic.action_k, memory.semantic.task_k) == (2, 2)
    assert agent.llm.temperature == 0 and agent.llm.on_failure == "stop"  # type: ignore[attr-defined]


@pytest.mark.parametrize("preset", ["configs/eb_bridge_alfred.yaml", "configs/eb_bridge_habitat.yaml"])
def test_the_eb_presets_build_on_it(preset: str) -> None:
    paper, eb = load_config(PRESET, []), load_config(preset, [])
    # The paper's agent, except that memory and thalamus replies that are unusable fall back (counted)
    # rather than stop a long benchmark run.
    fallback = {"memory": {"on_failure": "fallback"}, "thalamus": {"on_failure": "fallback"}}
    paper_agent = paper.agent.model_dump()
    eb_agent = eb.agent.model_dump()
    assert {k: v["on_failure"] for k, v in eb_agent["llm"].pop("roles").items()} == {
        k: v["on_failure"] for k, v in fallback.items()
    }
    paper_agent["llm"].pop("roles")
    assert eb_agent == paper_agent
    assert eb.env.type == "eb_bridge"  # type: ignore[attr-defined]


@pytest.mark.parametrize("profile", ["alfred", "habitat"])
def test_every_role_is_called_and_none_falls_back(tmp_path: Path, profile: str) -> None:
    with ScriptedLLMServer(paper_rules()) as server:
        code = _eval(tmp_path / "run", server.base_url, f"env.profile={profile}")
        requests = list(server.chat_requests)
    assert code == 0
    usage = json.loads((tmp_path / "run" / "llm_usage.json").read_text())["roles"]
    assert set(PAPER_ROLES) <= set(usage)
    for role in PAPER_ROLES:
        assert usage[role]["calls"] >= 1, role
        assert usage[role]["deterministic_fallbacks"] == 0, role
        assert usage[role]["malformed_replies"] == usage[role]["transport_errors"] == 0, role
    # Every schema that went out with strict: true is one OpenAI accepts.
    sent = [r.response_format["json_schema"] for r in requests if r.response_format is not None]
    assert sent and all(s["strict"] is True for s in sent)
    assert {s["name"] for s in sent if strict_problems(s["schema"])} == set()
    # The episodic Creator wrote the item; the raw trajectory is logged beside it.
    text = (tmp_path / "run" / "memory" / "episodes.jsonl").read_text(encoding="utf-8")
    logged = [json.loads(line) for line in text.splitlines()]
    assert len(logged) == 2 and all("->" in record["text"] for record in logged)
    results = sorted((tmp_path / "run" / "base" / "results").glob("episode_*_final_res.json"))
    assert len(results) == 2


def test_the_papers_two_spatial_calls_are_scripted_too(tmp_path: Path) -> None:
    with ScriptedLLMServer(paper_rules()) as server:
        code = _eval(tmp_path / "run", server.base_url, "agent.memory.spatial.resolve_calls=always")
    assert code == 0
    usage = json.loads((tmp_path / "run" / "llm_usage.json").read_text())["roles"]
    assert "memory.spatial.update" not in usage
    for role in SPATIAL_TWO_CALL_ROLES:
        assert usage[role]["calls"] >= 1 and usage[role]["deterministic_fallbacks"] == 0, role


def test_a_failed_memory_call_stops_as_llm_and_resume_finishes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = tmp_path / "run"
    # The compressor's endpoint fails (HTTP 503, no retries) the first time temporal memory is full.
    down = Rule(role="memory.temporal", status=503, reply="overloaded", times=1)
    with ScriptedLLMServer([down, *paper_rules()]) as server:
        code = _eval(run_dir, server.base_url, "agent.memory.temporal.capacity=2")
        err = capsys.readouterr().err
        assert code == 2
        (line,) = [x for x in err.splitlines() if x.startswith("robomem: error")]
        assert line.startswith("robomem: error [llm]: LLM call for role 'memory.temporal'")
        assert "HTTP 503" in line
        assert not (run_dir / "base" / "results" / "episode_1_final_res.json").exists()
        resumed = main(["eval", "--resume", str(run_dir), "--no-progress"])
    assert resumed == 0
    assert len(list((run_dir / "base" / "results").glob("episode_*_final_res.json"))) == 2


def test_fallback_runs_on_and_counts_per_role(tmp_path: Path) -> None:
    rules = [Rule(role="memory.lessons", reply="I have no lessons today."), *paper_rules()]
    with ScriptedLLMServer(rules) as server:
        code = _eval(tmp_path / "run", server.base_url, "agent.llm.on_failure=fallback")
    assert code == 0
    usage = json.loads((tmp_path / "run" / "llm_usage.json").read_text())["roles"]
    assert usage["memory.lessons"]["deterministic_fallbacks"] == usage["memory.lessons"]["calls"] == 2
    others = [usage[r]["deterministic_fallbacks"] for r in PAPER_ROLES if r in usage]
    others.remove(2)  # memory.lessons
    assert others and not any(others)
