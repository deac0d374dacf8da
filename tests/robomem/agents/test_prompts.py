"""The prompts the RoboMemory agent sends, as the real scripted server receives them, at a fixed mid-episode
state of one EB-ALFRED and one EB-Habitat task (``prompt_scenario.py``).

Golden files: ``golden/<profile>/<role>.txt`` hold the exact messages of each role's request at the
scenario's moment, compared byte for byte. After an intended prompt change, regenerate them and review the
diff like code:

    ROBOMEM_UPDATE_GOLDEN=1 .venv/bin/pytest tests/robomem/agents/test_prompts.py

To add a role (thalamus, a memory operation): run the scenario with that role on the LLM
(``agent_overrides``) and scripted replies for it (``default_replies``), and add the role to ``GOLDEN``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from robomem.testing.scripted_llm import RecordedRequest
from tests.robomem.agents.prompt_scenario import SCENARIOS, ScenarioRun, run_scenario

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE_ENV = "ROBOMEM_UPDATE_GOLDEN"
#: Roles whose prompt at the moment is kept as a golden file.
GOLDEN = ("planner", "critic")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ScenarioRun]:
    return {p: run_scenario(p, tmp_path_factory.mktemp(f"scenario_{p}")) for p in SCENARIOS}


def render_request(request: RecordedRequest) -> str:
    """Every message of the request, text parts verbatim (images by count: none in this scenario)."""
    parts = []
    for message in request.messages:
        content = message.get("content")
        if isinstance(content, list):
            texts = [str(p.get("text", "")) for p in content if p.get("type") == "text"]
            images = sum(1 for p in content if p.get("type") == "image_url")
            content = "\n".join(texts) + (f"\n[{images} image(s)]" if images else "")
        parts.append(f"===== {message.get('role')} =====\n{content}")
    return "\n".join(parts) + "\n"


@pytest.mark.parametrize("role", GOLDEN)
@pytest.mark.parametrize("profile", sorted(SCENARIOS))
def test_prompt_matches_its_golden_file(scenario: dict[str, ScenarioRun], profile: str, role: str) -> None:
    text = render_request(scenario[profile].at_moment(role))
    path = GOLDEN_DIR / profile / f"{role.replace('.', '_')}.txt"
    if os.environ.get(UPDATE_ENV):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; create it with {UPDATE_ENV}=1"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"the {role} prompt changed; review and regenerate with {UPDATE_ENV}=1"


def test_the_scenario_is_reproducible(scenario: dict[str, ScenarioRun], tmp_path: Path) -> None:
    again = run_scenario("habitat", tmp_path)
    first = scenario["habitat"]
    assert [render_request(r) for r in again.requests] == [render_request(r) for r in first.requests]
    assert again.moment == first.moment


_STEPS_LEFT = re.compile(
    r"^You have (\d+) steps? left; (\d+) more invalid actions? will end the episode\.$", re.M
)


@pytest.mark.parametrize("profile", sorted(SCENARIOS))
def test_the_steps_left_line_is_the_envs_remaining_budget(
    scenario: dict[str, ScenarioRun], profile: str
) -> None:
    # EB's limits (30 steps, 10 invalid actions) under the agent's default safety bound of 1000 steps: the
    # planner must hear the environment's numbers, read from the env when the request arrived.
    run = scenario[profile]
    assert len(run.planner_budgets) == 4  # one warm-up plan, three target plans
    seen = []
    for request, budget in run.planner_budgets:
        (line,) = _STEPS_LEFT.findall(request.last_user_text)
        assert (int(line[0]), int(line[1])) == (budget.steps_left, budget.invalid_actions_left)
        seen.append(budget.steps_left)
    assert seen == [30, 30, 29, 25]  # each episode starts at 30; the target's plans after 0, 1 and 5 steps


def test_the_moment_shows_the_memory_this_scenario_is_built_for(scenario: dict[str, ScenarioRun]) -> None:
    for profile, run in scenario.items():
        prompt = run.at_moment("planner").last_user_text
        # Temporal memory compressed; the raw history does not repeat the steps it holds.
        assert re.search(r"^\[steps 0-\d\] ", prompt, re.M)
        assert "(steps 1-5 are in temporal memory above)" in prompt
        assert "\nStep 1, action id" not in prompt
        # The warm-up episode is recalled whole: its last step is there.
        warmup = re.search(r'^- "(.+?)" \(.+?\): success in (\d+) steps$', prompt, re.M)
        assert warmup is not None, profile
        assert f"\n  {warmup.group(2)}. " in prompt
        assert "## What the actions do and when they are valid" in prompt
        assert "Example 2:" in prompt and "Example 3:" not in prompt


def test_other_roles_can_join_the_scenario(tmp_path: Path) -> None:
    # How the thalamus and memory operations join the golden set: on the LLM, with scripted replies.
    run = run_scenario(
        "habitat",
        tmp_path,
        agent_overrides={"thalamus": {"type": "llm"}, "memory": {"temporal": {"compressor": "llm"}}},
        default_replies={
            "thalamus.summary": '{"summary": "I did the step."}',
            "thalamus.queries": '{"queries": ["peach", "shelf", "refrigerator", "kitchen"]}',
            "memory.temporal": '{"summary": "I did several steps."}',
        },
    )
    assert "## Step 5" in run.at_moment("thalamus.summary").last_user_text
    assert run.at_moment("memory.temporal").role == "memory.temporal"
    assert "[steps 0-4] I did several steps." in run.at_moment("planner").last_user_text
