"""The EmbodiedBench skill language lives in one module (envs/skill_language.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from envs.base import Env, Observation, StepResult
from envs.bridge.client import BridgeEnv
from envs.bridge.config import BridgeConfig
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.skill_language import (
    EB_GRAMMAR,
    INVALID_PREFIX,
    Feedback,
    SkillSet,
    UnknownGrammarError,
    invalid,
    parse_action,
    parse_skill,
    require_grammar,
    strip_invalid,
)
from envs.task import Task
from robomem.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
#: Files that may spell the prefix out: the module itself and the bridge server, which runs inside
#: EmbodiedBench's interpreter and imports nothing of robomem.
ALLOWED = {Path("envs/skill_language.py"), Path("envs/bridge/server.py")}


def test_the_invalid_prefix_is_spelled_out_in_one_module_only() -> None:
    spelled = [
        path.relative_to(ROOT)
        for package in ("envs", "modules", "robomem")
        for path in (ROOT / package).rglob("*.py")
        if INVALID_PREFIX in path.read_text(encoding="utf-8")
    ]
    assert sorted(set(spelled) - ALLOWED) == []


def test_no_module_outside_the_language_compiles_a_skill_or_feedback_pattern() -> None:
    """The verb regexes and the feedback kinds were copied into the planner, memory and lesson rules."""
    copies = re.compile(r"re\.compile\(\s*r?\"(?:\^\(\?:find|Cannot find|\\bThe \(\.\+\?\) \(\?:is jammed)")
    found = [
        path.relative_to(ROOT)
        for package in ("envs", "modules")
        for path in (ROOT / package).rglob("*.py")
        if copies.search(path.read_text(encoding="utf-8"))
    ]
    assert found == [Path("envs/skill_language.py")]


def test_invalid_feedback_round_trips() -> None:
    text = invalid("The Fridge is closed. Open it first.")
    assert text == "Last action is invalid. The Fridge is closed. Open it first."
    assert strip_invalid(text) == "The Fridge is closed. Open it first."
    assert strip_invalid("Last action executed successfully.") == "Last action executed successfully."


def test_exact_and_lenient_readings_agree_on_skill_texts() -> None:
    assert parse_skill("find a Cabinet_2") is not None
    assert parse_action("find a Cabinet_2") is not None
    exact, loose = parse_skill("pick up the Mug"), parse_action("pick up the Mug")
    assert exact is not None and loose is not None
    assert (exact.verb, exact.arg) == (loose.verb, loose.arg) == ("pick", "Mug")
    assert parse_skill("navigate_to(table 2)") is None  # the paper's call style: only the lenient reader
    loose = parse_action("navigate_to(table 2)")
    assert loose is not None and (loose.verb, loose.arg) == ("navigate", "table 2")


def test_instances_map_to_their_types_per_profile() -> None:
    assert SkillSet(("find a Cabinet", "find a Cabinet_2")).type_of("Cabinet_2") == "Cabinet"
    assert SkillSet(("navigate to the table 2",)).type_of("table 2") == "table"


def test_feedback_kinds() -> None:
    stuck = Feedback.STUCK.search(invalid("The drawer 3 is jammed and does not open."))
    assert stuck is not None and stuck.group(1) == "drawer 3"
    missing = Feedback.MISSING.search("Cannot find Kettle. This object may not exist in this scene.")
    assert missing is not None and missing.group(1) == "Kettle"


def test_an_unknown_grammar_is_refused_with_a_config_error() -> None:
    require_grammar(EB_GRAMMAR, "symbolic planner")
    with pytest.raises(UnknownGrammarError, match=r"'textworld'.*llm variant") as caught:
        require_grammar("textworld", "symbolic planner", key="agent.planner.type")
    assert isinstance(caught.value, ConfigError)
    assert str(caught.value).startswith("agent.planner.type: the symbolic planner reads only")


def test_environments_declare_their_grammar_and_wording() -> None:
    household = HouseholdEnv(HouseholdConfig(profile="habitat"))
    assert (household.grammar, household.robot) == (EB_GRAMMAR, "household robot")
    assert BridgeEnv(BridgeConfig()).grammar == EB_GRAMMAR  # connects lazily: nothing is opened here

    class TextAdventure(Env):
        profile = "textworld"
        skills = ("go north", "take lamp")

        def reset(self, task: Task, *, keep_world: bool = False) -> Observation:
            raise NotImplementedError  # never called: only the declarations are read

        def step(self, action: int | str, *, timeout_s: float | None = None) -> StepResult:
            raise NotImplementedError

    # The default reads the profile: an env of another grammar is not taken for an EB one.
    assert (TextAdventure().grammar, TextAdventure().robot) == ("", "robot")
