"""The prompts the paper preset (``configs/robomemory.yaml``: every memory operation, the thalamus, the
planner and the critic on the model) sends, as the real scripted server receives them, in the fixed scenario
of ``prompt_scenario.py`` for one EB-ALFRED and one EB-Habitat task.

Golden files: ``golden/paper/<profile>/<role>.txt``. Roles of a step (planner, critic, thalamus, temporal
and spatial memory) are taken at the scenario's moment, the target episode's third plan; roles of an
episode's end (the episodic Creator and decider, lesson creation, the semantic decider) at the target
episode's end, where the warm-up episode's items are what they compare with. The paper preset makes one
spatial call per update (``memory.spatial.update``); the paper's two calls (``memory.spatial.relations``,
then ``memory.spatial.resolve``: ``spatial.resolve_calls: always``) are a second run of the scenario, which
also asks for lessons and their decisions in separate calls (``semantic.decide_calls: separate``; the preset
decides in the lesson call itself): golden ``memory_lessons_separate.txt`` and ``memory_semantic.txt``.

The scripted replies are computed from each prompt as a careful model would answer (``bench.llm_replies``:
the thalamus, the episodic Creator's account and, from ``bench._replies``, the other memory operations), so
every reply is usable under the preset's ``on_failure: stop``. After an intended prompt change, regenerate
and review the diff like code:

    ROBOMEM_UPDATE_GOLDEN=1 .venv/bin/pytest tests/robomem/agents/test_paper_prompts.py
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench._replies import memory_reply_rules
from bench.llm_replies import episode_account, queries_reply, summary_reply
from robomem.testing.scripted_llm import RecordedRequest
from tests.robomem.agents.prompt_scenario import SCENARIOS, ScenarioRun, run_scenario
from tests.robomem.agents.test_prompts import GOLDEN_DIR, UPDATE_ENV, render_request

PRESET = Path(__file__).resolve().parents[3] / "configs" / "robomemory.yaml"
#: Roles called for a step or a plan: golden at the moment.
STEP_ROLES = ("planner", "critic", "thalamus.summary", "thalamus.queries", "memory.temporal")
#: Roles called once at an episode's end: golden at the target episode's end.
END_ROLES = ("memory.episodic.creator", "memory.episodic", "memory.lessons")
#: Roles at an episode's end when lessons and their decisions are separate calls (the second run).
SEPARATE_END_ROLES = ("memory.lessons", "memory.semantic")
#: The spatial roles of each ``resolve_calls`` setting (``joint`` is the preset's).
SPATIAL_ROLES = {
    "joint": ("memory.spatial.update",),
    "always": ("memory.spatial.relations", "memory.spatial.resolve"),
}


def paper_overrides(resolve_calls: str) -> dict[str, Any]:
    """The preset's agent section, minus the endpoint (the scenario points it at its scripted server). The
    second run (``always``) makes the paper's calls as written: spatial extract then resolve, lessons then
    one decision each."""
    agent = yaml.safe_load(PRESET.read_text(encoding="utf-8"))["agent"]
    llm = agent.pop("llm")
    agent.pop("type")
    agent["llm"] = {k: llm[k] for k in ("temperature", "on_failure")}
    memory = agent["memory"]
    memory = {**memory, "spatial": {**memory["spatial"], "resolve_calls": resolve_calls}}
    if resolve_calls == "always":
        memory["semantic"] = {**memory.get("semantic", {}), "decide_calls": "separate"}
    agent["memory"] = memory
    return dict(agent)


def paper_replies() -> dict[str, str | Callable[[RecordedRequest], str]]:
    replies: dict[str, str | Callable[[RecordedRequest], str]] = {
        rule.role: rule.reply for rule in memory_reply_rules() if rule.role is not None
    }
    replies |= {
        "thalamus.summary": summary_reply,
        "thalamus.queries": queries_reply,
        "memory.episodic.creator": episode_account,
    }
    return replies


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], ScenarioRun]:
    return {
        (profile, calls): run_scenario(
            profile,
            tmp_path_factory.mktemp(f"paper_{profile}_{calls}"),
            agent_overrides=paper_overrides(resolve_calls=calls),
            default_replies=paper_replies(),
        )
        for profile in SCENARIOS
        for calls in SPATIAL_ROLES
    }


def _at_end(run: ScenarioRun, role: str) -> RecordedRequest:
    """The target episode's ``role`` request at its end. An episode's decisions are asked in parallel, so
    their order varies: the episodic one about the episode's item (not the retraction of a stored failure),
    and of several, the first in text order."""
    requests = [r for r in run.requests[run.moment :] if r.role == role]
    items = [r for r in requests if "New item:\nTask:" in r.last_user_text]
    assert requests, f"no {role} request at the target episode's end"
    return min(items or requests, key=render_request)


def _golden(profile: str, role: str, request: RecordedRequest, *, variant: str = "") -> None:
    text = render_request(request)
    path = GOLDEN_DIR / "paper" / profile / f"{role.replace('.', '_')}{variant}.txt"
    if os.environ.get(UPDATE_ENV):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; create it with {UPDATE_ENV}=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"the paper preset's {role} prompt changed; review and regenerate with {UPDATE_ENV}=1"
    )


@pytest.mark.parametrize("role", STEP_ROLES + SPATIAL_ROLES["joint"])
@pytest.mark.parametrize("profile", sorted(SCENARIOS))
def test_a_step_prompt_matches_its_golden_file(
    runs: dict[tuple[str, str], ScenarioRun], profile: str, role: str
) -> None:
    _golden(profile, role, runs[profile, "joint"].at_moment(role))


@pytest.mark.parametrize("role", SPATIAL_ROLES["always"])
@pytest.mark.parametrize("profile", sorted(SCENARIOS))
def test_the_papers_two_spatial_prompts_match_their_golden_files(
    runs: dict[tuple[str, str], ScenarioRun], profile: str, role: str
) -> None:
    _golden(profile, role, runs[profile, "always"].at_moment(role))


@pytest.mark.parametrize("role", END_ROLES)
@pytest.mark.parametrize("profile", sorted(SCENARIOS))
def test_an_episode_end_prompt_matches_its_golden_file(
    runs: dict[tuple[str, str], ScenarioRun], profile: str, role: str
) -> None:
    _golden(profile, role, _at_end(runs[profile, "joint"], role))


@pytest.mark.parametrize("role", SEPARATE_END_ROLES)
@pytest.mark.parametrize("profile", sorted(SCENARIOS))
def test_the_papers_separate_lesson_decisions_match_their_golden_files(
    runs: dict[tuple[str, str], ScenarioRun], profile: str, role: str
) -> None:
    variant = "_separate" if role == "memory.lessons" else ""
    _golden(profile, role, _at_end(runs[profile, "always"], role), variant=variant)


@pytest.mark.parametrize("profile", sorted(SCENARIOS))
def test_the_golden_prompts_are_of_the_paper_system(
    runs: dict[tuple[str, str], ScenarioRun], profile: str
) -> None:
    run = runs[profile, "joint"]
    roles = {r.role for r in run.requests}
    # Every role of the preset spoke, and only the joint spatial call (not the two-call roles).
    assert set(STEP_ROLES + END_ROLES + SPATIAL_ROLES["joint"]) <= roles
    assert not roles & set(SPATIAL_ROLES["always"])
    # Lessons were decided in the lesson call itself: no separate decision was asked for.
    assert "memory.semantic" not in roles
    separate = {r.role for r in runs[profile, "always"].requests}
    assert set(SPATIAL_ROLES["always"] + SEPARATE_END_ROLES) <= separate
    # The moment's memory is the model's: the planner reads the temporal memory it compressed, and the
    # warm-up episode as the Creator wrote it.
    planner = run.at_moment("planner").last_user_text
    assert "Did: " in planner
    compress = paper_replies()["memory.temporal"]
    assert callable(compress)
    assert json.loads(compress(run.at_moment("memory.temporal")))["summary"] in planner
    # The end-of-episode decisions compare with what the warm-up episode left.
    assert "(none)" not in _at_end(run, "memory.episodic").last_user_text.split("Stored items", 1)[1]
