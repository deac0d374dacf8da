"""The RoboMemory loop as a LangGraph ``StateGraph``:

    perceive (thalamus) → memory_update (4 stores ∥) → memory_retrieve (4 stores ∥)
        → plan (when there is no current plan) → critic (not for a plan's first action, except a critic's
        lasting objections) → execute (cerebellum)
        → perceive … until success, the step limit or the invalid-action limit.

``build_graph()`` returns the uncompiled graph; compiling (with a checkpointer) is the caller's choice.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from robomem import nodes
from robomem.context import EpisodeRuntime
from robomem.state import AgentState

__all__ = ("build_graph",)


def build_graph() -> StateGraph[AgentState, EpisodeRuntime, AgentState, AgentState]:
    graph: StateGraph[AgentState, EpisodeRuntime, AgentState, AgentState] = StateGraph(
        AgentState, context_schema=EpisodeRuntime
    )
    graph.add_node("perceive", nodes.perceive)
    graph.add_node("memory_update", nodes.memory_update)
    graph.add_node("memory_retrieve", nodes.memory_retrieve)
    graph.add_node("plan", nodes.plan)
    graph.add_node("critic", nodes.critic)
    graph.add_node("execute", nodes.execute)
    graph.add_edge(START, "perceive")
    graph.add_edge("perceive", "memory_update")
    graph.add_edge("memory_update", "memory_retrieve")
    graph.add_conditional_edges(
        "memory_retrieve",
        nodes.route_after_retrieve,
        {"plan": "plan", "critic": "critic", "execute": "execute", "end": END},
    )
    graph.add_conditional_edges(
        "plan", nodes.route_after_plan, {"execute": "execute", "plan": "plan", "end": END}
    )
    graph.add_conditional_edges("critic", nodes.route_after_critic, {"execute": "execute", "plan": "plan"})
    graph.add_edge("execute", "perceive")
    return graph
