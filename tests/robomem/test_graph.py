"""The LangGraph loop: topology snapshot, the critic's first-step exemption, replanning, limits, planner
output errors — run on the real household simulator with scripted planners and critics."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pytest

from envs.base import Observation, StepResult
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.skill_language import UnknownGrammarError
from envs.task import Task
from modules.cerebellum.executor import SkillExecutor
from modules.hippocampus.base import EpisodeContext
from modules.prefrontal.base import Plan, PlanningInput, Verdict
from modules.prefrontal.prompting import history_section
from modules.prefrontal.symbolic import SymbolicPlanner
from modules.thalamus.deterministic import DeterministicThalamus
from robomem.context import EpisodeRuntime
from robomem.graph import build_graph
from robomem.state import AgentState, initial_state

SNAPSHOTS = Path(__file__).parent / "__snapshots__"
SNAPSHOT = SNAPSHOTS / "graph.mmd"
STATE_SCHEMA = SNAPSHOTS / "state.schema.json"
#: Set to rewrite the snapshots (then review the diff), as for the golden prompts.
UPDATE_ENV = "ROBOMEM_UPDATE_GOLDEN"


def _matches_snapshot(text: str, path: Path) -> None:
    if os.environ.get(UPDATE_ENV):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}; create it with {UPDATE_ENV}=1"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} changed; review it, then {UPDATE_ENV}=1"


def test_topology_matches_the_snapshot() -> None:
    _matches_snapshot(build_graph().compile().get_graph().draw_mermaid(), SNAPSHOT)


def state_schema() -> dict[str, Any]:
    """The JSON schema of what every checkpoint holds: the graph's state (LangGraph's own schema of it), with
    ``observation`` spelled out as the ``Observation`` it is a JSON dump of."""
    graph = build_graph().compile()
    schema = graph.get_input_jsonschema()
    assert graph.get_output_jsonschema() == schema
    observation = Observation.model_json_schema(mode="serialization")
    defs = {**observation.pop("$defs", {}), "Observation": observation}
    schema["properties"]["observation"] = {"$ref": "#/$defs/Observation"}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "$defs": defs}


def test_state_schema_matches_the_snapshot() -> None:
    """A changed state (or observation) changes what checkpoints hold, so a resume of an older run may not
    read them: the change is reviewed with the snapshot."""
    _matches_snapshot(json.dumps(state_schema(), indent=2, sort_keys=True) + "\n", STATE_SCHEMA)


def test_state_schema_is_json_only() -> None:
    state = initial_state({"instruction": "x", "text": "y"})
    assert json.loads(json.dumps(state)) == state


class ScriptedPlanner:
    def __init__(self, plans: Sequence[Plan]) -> None:
        self.plans = list(plans)
        self.inputs: list[PlanningInput] = []

    def plan(self, inp: PlanningInput) -> Plan:
        self.inputs.append(inp)
        return self.plans.pop(0) if self.plans else Plan(actions=(), empty=True)


class RecordingCritic:
    def __init__(self, ok: bool) -> None:
        self.ok = ok
        self.reviewed: list[str] = []

    def review(self, action: str, remaining: tuple[str, ...], inp: PlanningInput) -> Verdict:
        self.reviewed.append(action)
        return Verdict(self.ok, "" if self.ok else f"no {action} now")


def _run(
    planner: ScriptedPlanner, critic: RecordingCritic | None = None, **env_limits: int
) -> tuple[AgentState, HouseholdEnv]:
    env = HouseholdEnv(HouseholdConfig(**env_limits))
    task: Task = env.tasks("base")[0]
    observation = env.reset(task)
    runtime = EpisodeRuntime(
        env=env,
        task=task,
        episode=EpisodeContext(site=task.scene, episode_id="t", instruction=task.instruction),
        thalamus=DeterministicThalamus(),
        planner=planner,
        executor=SkillExecutor(),
        critic=critic,
    )
    graph = build_graph().compile()
    state = graph.invoke(
        initial_state(observation.model_dump(mode="json")), {"recursion_limit": 500}, context=runtime
    )
    return cast(AgentState, state), env


FIND = "find a CounterTop"


def test_first_action_of_every_plan_skips_the_critic() -> None:
    planner = ScriptedPlanner([Plan((FIND, "find a Fridge", "find a Sink")), Plan((FIND, "find a Sink"))])
    critic = RecordingCritic(ok=False)
    state, _ = _run(planner, critic)
    # Each plan's first action runs unreviewed; the critic rejects the second, which forces a replan.
    assert [h["action"] for h in state["history"]] == [FIND, FIND]
    assert critic.reviewed == ["find a Fridge", "find a Sink"]
    assert planner.inputs[1].reflection == "no find a Fridge now"
    assert state["critic_rejections"] == 2
    assert state["planner_steps"] == 3  # the third call returned the empty plan that ended the episode
    assert state["empty_plan"] is True


def test_approving_critic_lets_the_whole_plan_run() -> None:
    planner = ScriptedPlanner([Plan((FIND, "find a Fridge", "find a Sink"))])
    critic = RecordingCritic(ok=True)
    state, _ = _run(planner, critic)
    assert [h["action"] for h in state["history"]] == [FIND, "find a Fridge", "find a Sink"]
    assert critic.reviewed == ["find a Fridge", "find a Sink"]


def test_invalid_action_triggers_a_replan() -> None:
    planner = ScriptedPlanner([Plan(("put down the object in hand", FIND)), Plan((FIND,))])
    state, _ = _run(planner)
    assert [(h["action"], h["success"]) for h in state["history"]] == [
        ("put down the object in hand", False),
        (FIND, True),
    ]
    assert state["invalid"] == 1
    assert planner.inputs[1].history[0].feedback == "Last action is invalid. Robot is not holding any object"


def test_step_limit_ends_the_episode() -> None:
    planner = ScriptedPlanner([Plan((FIND, "find a Fridge") * 10)])
    state, _ = _run(planner, max_steps=5)
    assert state["step"] == 5
    assert state["done"] is True
    assert len(state["history"]) == 5


def test_invalid_action_limit_ends_the_episode() -> None:
    planner = ScriptedPlanner([Plan(("drop the object in hand",)) for _ in range(10)])
    state, _ = _run(planner, max_invalid_actions=3)
    assert state["invalid"] == 3
    assert state["done"] is True


def test_planner_output_errors_are_counted_then_bounded() -> None:
    planner = ScriptedPlanner([Plan((), output_error=True, raw="{oops") for _ in range(5)])
    state, _ = _run(planner)
    assert state["planner_output_error"] == 3  # EpisodeRuntime.max_output_errors
    assert state["history"] == []
    assert state["stop_reason"] == "the planner gave 3 unusable replies in a row"


def test_an_output_error_then_a_good_plan_recovers() -> None:
    planner = ScriptedPlanner([Plan((), output_error=True), Plan((FIND,))])
    state, _ = _run(planner)
    assert state["planner_output_error"] == 1
    assert state["consecutive_output_errors"] == 0
    assert [h["action"] for h in state["history"]] == [FIND]


class _ShuffledSkillsEnv(HouseholdEnv):
    """Reverses its skill list after every step, as an env whose admissible commands change each step
    (TextWorld) does."""

    ran: list[int]

    def step(self, action: int | str, *, timeout_s: float | None = None) -> StepResult:
        self.ran = [*getattr(self, "ran", []), self.action_id(action)]
        result = super().step(action, timeout_s=timeout_s)
        self._skill_texts = tuple(reversed(self._skill_texts))
        self._skill_index = {text: i for i, text in enumerate(self._skill_texts)}
        self._skills = tuple(reversed(self._skills))
        return result


def test_the_action_id_is_the_one_the_action_had_when_it_ran() -> None:
    env = _ShuffledSkillsEnv(HouseholdConfig())
    task: Task = env.tasks("base")[0]
    observation = env.reset(task)
    planner = ScriptedPlanner([Plan((FIND,)), Plan(("find a Fridge",))])
    runtime = EpisodeRuntime(
        env=env,
        task=task,
        episode=EpisodeContext(site=task.scene, episode_id="t", instruction=task.instruction),
        thalamus=DeterministicThalamus(),
        planner=planner,
        executor=SkillExecutor(),
    )
    build_graph().compile().invoke(
        initial_state(observation.model_dump(mode="json")), {"recursion_limit": 500}, context=runtime
    )
    last = planner.inputs[-1]
    assert [h.action for h in last.history] == [FIND, "find a Fridge"]
    assert [h.action_id for h in last.history] == env.ran
    second = planner.inputs[1]
    assert second.skills.index(FIND) != env.ran[0]  # the list changed since FIND ran
    section = history_section(second.history, second.skills, max_steps=10, chars=10_000)
    assert f"Step 1, action id {env.ran[0]}, {FIND}," in section


class _OtherGrammarEnv(HouseholdEnv):
    @property
    def grammar(self) -> str:
        return "textworld"


def test_the_symbolic_planner_says_why_it_will_not_plan_for_an_unknown_grammar() -> None:
    """It used to end the episode at step 0 with an empty plan and no word."""
    env = _OtherGrammarEnv(HouseholdConfig())
    task: Task = env.tasks("base")[0]
    observation = env.reset(task)
    runtime = EpisodeRuntime(
        env=env,
        task=task,
        episode=EpisodeContext(site=task.scene, episode_id="t", instruction=task.instruction),
        thalamus=DeterministicThalamus(),
        planner=SymbolicPlanner(),
        executor=SkillExecutor(),
    )
    with pytest.raises(UnknownGrammarError, match=r"^agent\.planner\.type: .*'textworld'"):
        build_graph().compile().invoke(
            initial_state(observation.model_dump(mode="json")), {"recursion_limit": 500}, context=runtime
        )
