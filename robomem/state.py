"""The agent loop's state: plain JSON-able values only, so every step can be checkpointed (and resumed after
a ``kill -9``) without pickling anything. Collaborators (env, memory, LLM, planner) never live here — they
come in through :class:`robomem.context.EpisodeRuntime`."""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict

__all__ = ("AgentState", "initial_state")


class AgentState(TypedDict, total=False):
    #: Environment steps executed so far in this episode.
    step: int
    #: Executed actions: ``{"action", "feedback", "success", "step"}`` (also what a resume replays).
    history: list[dict[str, Any]]
    #: The latest observation (``Observation.model_dump(mode="json")``).
    observation: dict[str, Any]
    #: The thalamus' account of the latest step, and its retrieval queries.
    summary: str
    queries: list[str]
    #: Retrieved memory as text lines per store (what an LLM planner reads).
    memory: dict[str, list[str]]
    #: What is left of the current plan; ``fresh_plan``: its next action is the plan's first (no critic).
    plan: list[str]
    fresh_plan: bool
    reflection: str | None
    #: Actions the critic vetoed for good this episode (a lasting verdict); absent until the first one.
    vetoed: list[str]
    critic_rejections: int
    planner_steps: int
    planner_output_error: int
    consecutive_output_errors: int
    empty_plan: bool
    done: bool
    #: The environment itself ended the episode (rather than the agent's step limit or planner).
    env_done: bool
    success: bool
    progress: float
    invalid: int
    #: Why the episode ended early, if it did (planner kept failing, robot unreachable, ...).
    stop_reason: str | None


def initial_state(observation: dict[str, Any]) -> AgentState:
    return AgentState(
        step=0,
        history=[],
        observation=observation,
        summary="",
        queries=[],
        memory={},
        plan=[],
        fresh_plan=False,
        reflection=None,
        critic_rejections=0,
        planner_steps=0,
        planner_output_error=0,
        consecutive_output_errors=0,
        empty_plan=False,
        done=False,
        env_done=False,
        success=False,
        progress=0.0,
        invalid=0,
        stop_reason=None,
    )
