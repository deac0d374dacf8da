"""A fixed, reproducible mid-episode state per profile, reached by the real RoboMemory agent talking to the
real scripted OpenAI-compatible server: every LLM request of the run is recorded.

Per profile, two tasks of one committed house run one after another with one memory directory:

1. a warm-up task, solved by the oracle's gold plan (so long-term memory holds a whole trajectory and its
   lessons, and spatial memory knows the house);
2. the target task: a first plan whose only action is invalid (put down / place with an empty hand), then
   the first four actions of the gold plan, then the rest. The **moment** is the target episode's third
   planner call, after five steps: temporal memory has compressed, the critic has judged three actions,
   long-term memory recalls the warm-up episode.

The planner's replies are the scripted plans, with ids read from the action list in its own prompt; the
critic approves. Roles not scripted here (thalamus, memory operations) get ``default_replies``, so the same
scenario can run with them on the LLM (``agent_overrides``) and their prompts join the golden set.
Everything is deterministic: hashing embedder, exact vector store, no images, no wall-clock text in prompts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envs.base import Budget
from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from envs.household.oracle import solve
from envs.task import Task
from robomem.agents.robomemory import RoboMemoryAgent
from robomem.agents.robomemory_config import RoboMemoryAgentConfig
from robomem.eval.harness import RecordingEnv
from robomem.testing.scripted_llm import RecordedRequest, Rule, ScriptedLLMServer

__all__ = ("SCENARIOS", "ScenarioRun", "run_scenario")

#: profile -> (warm-up task id, target task id), both in the same committed house.
SCENARIOS = {
    "alfred": ("alfred-base-013", "alfred-base-008"),
    "habitat": ("habitat-base-042", "habitat-base-049"),
}
#: An action that is invalid with an empty hand, whatever the house.
EMPTY_HAND_ACTION = {"alfred": "put down the object in hand", "habitat": "place at the {}"}
OK_CRITIC = json.dumps({"reasoning": "The action fits the task.", "ok": True, "feedback": ""})
_ACTION_LINE = re.compile(r"^action id (\d+): (.+)$", re.M)


@dataclass
class ScenarioRun:
    requests: list[RecordedRequest]
    #: Index in ``requests`` of the target episode's third planner call.
    moment: int
    #: The environment's budget when each planner request arrived, with that request.
    planner_budgets: list[tuple[RecordedRequest, Budget]] = field(default_factory=list)

    def at_moment(self, role: str) -> RecordedRequest:
        """The last request of ``role`` made up to the moment (the moment's own request for the planner)."""
        for request in reversed(self.requests[: self.moment + 1]):
            if request.role == role:
                return request
        raise AssertionError(f"no {role} request up to the moment")


def _plan_reply(request: RecordedRequest, actions: Sequence[str]) -> str:
    ids = {name: int(i) for i, name in _ACTION_LINE.findall(request.last_user_text)}
    return json.dumps(
        {
            "reasoning_and_reflection": "Following the plan.",
            "language_plan": "; ".join(actions) or "The task is done.",
            "executable_plan": [{"action_id": ids[a], "action_name": a} for a in actions],
        }
    )


def _merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` on top of ``base``, section by section (``{"memory": {"temporal": ...}}`` keeps the
    scenario's embedder and vector store)."""
    merged = dict(base)
    for key, value in overrides.items():
        old = merged.get(key)
        merged[key] = _merge(old, value) if isinstance(old, Mapping) and isinstance(value, Mapping) else value
    return merged


def _gold(profile: str, task: Task) -> list[str]:
    env = HouseholdEnv(HouseholdConfig(profile=profile))
    env.reset(task)
    return solve(env)


def run_scenario(
    profile: str,
    run_dir: Path,
    *,
    agent_overrides: Mapping[str, Any] | None = None,
    default_replies: Mapping[str, str | Callable[[RecordedRequest], str]] | None = None,
) -> ScenarioRun:
    env = HouseholdEnv(HouseholdConfig(profile=profile))
    tasks = {t.task_id: t for t in env.tasks("base")}
    warmup, target = (tasks[task_id] for task_id in SCENARIOS[profile])
    assert warmup.scene == target.scene
    gold_warmup, gold_target = _gold(profile, warmup), _gold(profile, target)
    bad = EMPTY_HAND_ACTION[profile].format(gold_target[-1].removeprefix("place at the "))
    plans = [[gold_warmup], [[bad], gold_target[:4], gold_target[4:]]]
    recorded = RecordingEnv(env)
    budgets: list[tuple[RecordedRequest, Budget]] = []
    episode = [0]

    def planner(request: RecordedRequest) -> str:
        budgets.append((request, recorded.budget()))
        script = plans[episode[0]]
        return _plan_reply(request, script.pop(0) if script else [])

    rules = [Rule(role="planner", reply=planner), Rule(role="critic", reply=OK_CRITIC)]
    rules += [Rule(role=role, reply=reply) for role, reply in (default_replies or {}).items()]
    with ScriptedLLMServer(rules) as server:
        base: dict[str, Any] = {
            "planner": {"type": "llm", "max_retries": 0},
            "critic": {"type": "llm"},
            "memory": {"embedder": {"type": "hashing"}, "vector": {"type": "exact"}},
            "llm": {
                "base_url": server.base_url,
                "model": "scripted",
                "api_key_env": "ROBOMEM_TEST_KEY",
                "max_retries": 0,
                "repair_attempts": 0,
            },
        }
        config = RoboMemoryAgentConfig.model_validate(_merge(base, agent_overrides or {}))
        agent = RoboMemoryAgent(config)
        agent.begin_run(run_dir)
        try:
            for i, task in enumerate((warmup, target)):
                episode[0] = i
                target_start = len(server.chat_requests)
                recorded.start_episode()
                observation = recorded.reset(task)
                agent.run_episode(recorded, task, observation, episode_id=task.task_id)
                assert recorded.last_info is not None and recorded.last_info["task_success"] == 1.0
        finally:
            agent.end_run()
        requests = server.chat_requests
    planner_calls = [i for i, r in enumerate(requests) if r.role == "planner" and i >= target_start]
    assert len(planner_calls) == 3, f"the target episode made {len(planner_calls)} planner calls, not 3"
    return ScenarioRun(requests, planner_calls[2], budgets)
