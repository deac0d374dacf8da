"""Every prompt of the paper preset names the agent as the environment does (:attr:`envs.base.Env.robot`):
the temporal compressor's and the long-term deciders' prompts used to say "household robot" whatever the
environment. The real agent runs two episodes against the real scripted server, with every role on the LLM."""

from __future__ import annotations

from pathlib import Path

from envs.household.config import HouseholdConfig
from envs.household.env import HouseholdEnv
from modules.hippocampus.prompting import load_prompt
from robomem.agents.robomemory import RoboMemoryAgent
from robomem.config import load_config
from robomem.testing.role_replies import paper_rules
from robomem.testing.scripted_llm import RecordedRequest, ScriptedLLMServer

#: The roles whose prompt names the agent (the spatial ones speak of "a robot's spatial memory").
NAMING = (
    "planner",
    "critic",
    "thalamus.summary",
    "thalamus.queries",
    "memory.temporal",
    "memory.episodic.creator",
    "memory.episodic",
    "memory.lessons",
    "memory.semantic",
)


class WorkshopEnv(HouseholdEnv):
    """The household simulator under another name for its agent (a non-household env of the EB grammar)."""

    @property
    def robot(self) -> str:
        return "workshop robot"


def _requests(env: HouseholdEnv, run_dir: Path) -> list[RecordedRequest]:
    with ScriptedLLMServer(paper_rules()) as server:
        overrides = [
            f"agent.llm.base_url={server.base_url}",
            "agent.llm.model=scripted",
            "agent.llm.max_retries=0",
            "agent.memory.embedder.type=hashing",
            "agent.memory.vector.type=exact",
            "agent.memory.temporal.capacity=2",  # compresses within a few steps
            "agent.max_steps=5",
        ]
        agent = RoboMemoryAgent(load_config("configs/robomemory.yaml", overrides).agent)  # type: ignore[arg-type]
        agent.begin_run(run_dir)
        try:
            for task in env.tasks("base")[:2]:
                agent.run_episode(env, task, env.reset(task), episode_id=task.task_id)
        finally:
            agent.end_run()
        return list(server.chat_requests)


def _by_role(requests: list[RecordedRequest]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for request in requests:
        out.setdefault(str(request.role), []).append(request.all_text)
    return out


def test_every_prompt_names_the_agent_as_the_environment_does(tmp_path: Path) -> None:
    prompts = _by_role(_requests(WorkshopEnv(HouseholdConfig()), tmp_path / "run"))
    assert set(NAMING) <= set(prompts)
    for role, texts in prompts.items():
        assert not any("household robot" in t for t in texts), role
        if role in NAMING:
            assert all("a workshop robot" in t for t in texts), role


def test_the_household_wording_is_unchanged(tmp_path: Path) -> None:
    prompts = _by_role(_requests(HouseholdEnv(HouseholdConfig()), tmp_path / "run"))
    starts = {
        "memory.temporal": "You are the temporal memory of a household robot. Compress the step summaries",
        "memory.episodic": "You maintain the long-term memory of a household robot. A new memory item was",
        "memory.semantic": "You maintain the long-term memory of a household robot. A new memory item was",
    }
    for role, start in starts.items():
        assert prompts[role] and all(start in t for t in prompts[role]), role
    # The templates differ from the household text only by the placeholder.
    for name in ("temporal_compress", "longterm_decide"):
        template = load_prompt(name).template
        assert template.count("$robot") == 1 and "household" not in template
