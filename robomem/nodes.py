"""The loop's nodes: plain typed functions ``(state, runtime) -> partial update``. The logic lives in the
brain modules; a node only moves data between the state and the module it calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langgraph.runtime import Runtime

from envs.base import Observation
from modules.hippocampus.base import EpisodeOutcome, StepRecord, StepSummary, StoreResult
from modules.prefrontal.base import ExecutedAction, PlanningInput
from robomem.context import EpisodeRuntime
from robomem.state import AgentState

__all__ = (
    "critic",
    "episode_outcome",
    "execute",
    "memory_retrieve",
    "memory_update",
    "perceive",
    "plan",
    "route_after_critic",
    "route_after_plan",
    "route_after_retrieve",
)


def _observation(state: AgentState) -> Observation:
    return Observation.model_validate(state["observation"])


def _last(state: AgentState) -> ExecutedAction | None:
    history = state.get("history") or []
    return ExecutedAction(**history[-1]) if history else None


def perceive(state: AgentState, runtime: Runtime[EpisodeRuntime]) -> AgentState:
    """Thalamus: summary of the step just executed and the queries for memory."""
    ctx = runtime.context
    perceived = ctx.thalamus.perceive(
        ctx.episode, ctx.task, state["step"], _observation(state), _last(state), time=ctx.clock()
    )
    return {"summary": perceived.summary.text, "queries": list(perceived.queries)}


def _summary(state: AgentState, ctx: EpisodeRuntime) -> StepSummary:
    last = _last(state)
    fresh = last is not None and last.step == state["step"]
    return StepSummary(
        context=ctx.episode,
        step=state["step"],
        text=state["summary"],
        action=last.action if fresh and last else None,
        feedback=last.feedback if fresh and last else None,
        action_success=last.success if fresh and last else None,
        perception=_observation(state).perception,
        time=ctx.clock(),
    )


def agent_judged_success(state: Mapping[str, Any], max_steps: int) -> bool:
    """The agent's own verdict, without the simulator's score: the planner declared the task done (an
    empty plan), or the environment ended the episode right after a successful action, within the step
    limit (a robot or simulator that stops on completion)."""
    if state.get("empty_plan"):
        return True
    history = state.get("history") or []
    ended_by_env = bool(state.get("env_done")) and int(state.get("step", 0)) < max_steps
    return ended_by_env and bool(history) and bool(history[-1]["success"])


def episode_outcome(state: Mapping[str, Any], ctx: EpisodeRuntime) -> EpisodeOutcome:
    """What long-term memory consolidates: the whole trajectory and how it ended."""
    observation = state.get("observation")
    if ctx.outcome_source == "agent":
        success = agent_judged_success(state, ctx.max_steps)
        progress = 1.0 if success else 0.0
    else:
        success, progress = bool(state.get("success")), float(state.get("progress", 0.0))
    return EpisodeOutcome(
        context=ctx.episode,
        success=success,
        progress=progress,
        steps=tuple(
            StepRecord(h["action"], h["feedback"], bool(h["success"])) for h in state.get("history", [])
        ),
        final_perception=Observation.model_validate(observation).perception if observation else None,
        time=ctx.clock(),
        judged_by=ctx.outcome_source,
    )


def memory_update(state: AgentState, runtime: Runtime[EpisodeRuntime]) -> AgentState:
    """Hippocampus: the four stores take the step summary, in parallel. On the episode's last step they
    also consolidate the episode in the same fan-out."""
    ctx = runtime.context
    if ctx.memory is not None:
        if state.get("done"):
            ctx.memory.update_and_end(_summary(state, ctx), episode_outcome(state, ctx))
            ctx.scratch["memory_ended"] = True
        else:
            ctx.memory.update(_summary(state, ctx))
    return {}


def _retrieve(state: AgentState, ctx: EpisodeRuntime) -> dict[str, StoreResult]:
    if ctx.memory is None:
        return {}
    results = ctx.memory.retrieve(state["queries"])
    ctx.scratch["retrieved"] = (state["step"], results)
    return results


def memory_retrieve(state: AgentState, runtime: Runtime[EpisodeRuntime]) -> AgentState:
    """Hippocampus: the four stores answer the step's queries, in parallel."""
    if state.get("done"):
        return {}  # nothing will be planned
    results = _retrieve(state, runtime.context)
    return {"memory": {name: list(result.lines) for name, result in results.items()}}


def _planning_input(state: AgentState, ctx: EpisodeRuntime) -> PlanningInput:
    cached = ctx.scratch.get("retrieved")
    # After a resume the scratch is empty: ask memory again rather than plan blind.
    retrieved = cached[1] if cached and cached[0] == state["step"] else _retrieve(state, ctx)
    # The environment's own budget (EB: 30 steps); the agent's max_steps is only a safety bound on top.
    budget = ctx.env.budget()
    steps_left = max(0, ctx.max_steps - state["step"])
    if budget.steps_left is not None:
        steps_left = min(steps_left, budget.steps_left)
    return PlanningInput(
        task=ctx.task,
        observation=_observation(state),
        skills=ctx.env.skills,
        memory=retrieved,
        history=tuple(ExecutedAction(**h) for h in state.get("history", [])),
        reflection=state.get("reflection"),
        steps_left=steps_left,
        invalid_left=budget.invalid_actions_left,
        skill_guide=ctx.env.skill_guide(),
        vetoed=tuple(state.get("vetoed", ())),
        grammar=ctx.env.grammar,
        robot=ctx.env.robot,
    )


def plan(state: AgentState, runtime: Runtime[EpisodeRuntime]) -> AgentState:
    """Prefrontal planner: a new multi-step plan (malformed replies are counted, bounded, never fatal)."""
    ctx = runtime.context
    proposal = ctx.planner.plan(_planning_input(state, ctx))
    update: AgentState = {"planner_steps": state["planner_steps"] + 1, "reflection": None}
    if proposal.output_error:
        errors = state["consecutive_output_errors"] + 1
        update |= {
            "planner_output_error": state["planner_output_error"] + 1,
            "consecutive_output_errors": errors,
            "plan": [],
            "fresh_plan": False,
        }
        if errors >= ctx.max_output_errors:
            update |= {"done": True, "stop_reason": f"the planner gave {errors} unusable replies in a row"}
        return update
    if proposal.empty or not proposal.actions:
        return update | {"empty_plan": True, "done": True, "plan": [], "stop_reason": "empty plan"}
    return update | {"plan": list(proposal.actions), "fresh_plan": True, "consecutive_output_errors": 0}


def critic(state: AgentState, runtime: Runtime[EpisodeRuntime]) -> AgentState:
    """Prefrontal critic: is the next action of the current plan still right? A rejection means replan."""
    ctx = runtime.context
    assert ctx.critic is not None
    action, *rest = state["plan"]
    if state.get("fresh_plan"):
        # A new plan's first action: only an objection that lasts (memory says it fails, see
        # ``route_after_retrieve``), which the planner then leaves out, so no replanning loop can start.
        lasting = getattr(ctx.critic, "lasting", None)
        verdict = lasting(action, tuple(rest), _planning_input(state, ctx)) if lasting else None
        if verdict is None or verdict.ok or not verdict.lasting:
            return {}
    else:
        verdict = ctx.critic.review(action, tuple(rest), _planning_input(state, ctx))
    if verdict.ok:
        return {}
    update: AgentState = {
        "plan": [],
        "reflection": verdict.reason or f"'{action}' is not appropriate now",
        "critic_rejections": state["critic_rejections"] + 1,
    }
    if verdict.lasting:
        update["vetoed"] = [*state.get("vetoed", []), action]
    return update


def execute(state: AgentState, runtime: Runtime[EpisodeRuntime]) -> AgentState:
    """Cerebellum: run the plan's next action in the environment."""
    ctx = runtime.context
    action, *rest = state["plan"]
    result = ctx.executor.execute(ctx.env, action)
    step = result.info["env_step"] if result.info is not None else state["step"] + 1
    record: dict[str, Any] = {
        "action": action,
        "feedback": result.feedback,
        "success": result.success,
        "step": step,
        "action_id": result.info["action_id"] if result.info is not None else ctx.env.action_id(action),
    }
    update: AgentState = {
        "step": step,
        "history": [*state.get("history", []), record],
        # An invalid action (or a timed-out skill) invalidates the rest of the plan: replan.
        "plan": rest if result.success else [],
        "fresh_plan": False,
        "invalid": state["invalid"] + (0 if result.success else 1),
        "done": result.done or step >= ctx.max_steps,
        "env_done": result.done,
    }
    if result.observation is not None:
        update["observation"] = result.observation.model_dump(mode="json")
    if result.info is not None:
        update["success"] = bool(result.info["task_success"])
        update["progress"] = float(result.info["task_progress"])
    return update


# ---- routing ---------------------------------------------------------------------------------------
def route_after_retrieve(state: AgentState, runtime: Runtime[EpisodeRuntime]) -> str:
    if state.get("done"):
        return "end"
    if not state.get("plan"):
        return "plan"
    critic = runtime.context.critic
    if critic is None:
        return "execute"
    if state.get("fresh_plan") and not hasattr(critic, "lasting"):
        return "execute"  # the first action of every new plan skips the critic (no endless replanning)
    return "critic"


def route_after_plan(state: AgentState) -> str:
    if state.get("done"):
        return "end"
    return "execute" if state.get("plan") else "plan"


def route_after_critic(state: AgentState) -> str:
    return "execute" if state.get("plan") else "plan"
