"""The RoboMemory loop as a LangGraph ``StateGraph``:

    perceive (thalamus) → memory_update (4 stores ∥) → memory_retrieve (4 stores ∥)
        → plan (when there is no current plan) → critic (not for a plan's first action, except a critic's
        lasting objections) → execute (cerebellum)
        → perceive … until success, the step limit or the invalid-action limit.

``build_graph()`` returns the uncompiled graph; compiling (with a checkpointer) is the caller's choice.
``middleware`` wraps every node (not the routing functions), outermost first: the seam for tracing and
timing nodes (:mod:`robomem.eval.trace`) or binding a runtime (:mod:`robomem.studio`) without patching
:mod:`robomem.nodes`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from robomem import nodes
from robomem.context import EpisodeRuntime
from robomem.state import AgentState

__all__ = ("NODES", "NodeFn", "NodeMiddleware", "build_graph")


class NodeFn(Protocol):
    """A node: ``(state, runtime) -> partial update`` (LangGraph passes ``runtime`` by name)."""

    def __call__(self, state: AgentState, runtime: Runtime[EpisodeRuntime]) -> AgentState: ...


#: ``(node name, node) -> node``: returns the node to run in its place (usually calling it).
NodeMiddleware = Callable[[str, NodeFn], NodeFn]

#: The loop's nodes, functions of :mod:`robomem.nodes` of the same names (looked up when a graph is built).
NODES = ("perceive", "memory_update", "memory_retrieve", "plan", "critic", "execute")


def build_graph(
    middleware: Sequence[NodeMiddleware] = (),
    *,
    reset: NodeFn | None = None,
    context: Callable[[], EpisodeRuntime] | None = None,
    context_schema: type[Any] | None = None,
) -> StateGraph[AgentState, EpisodeRuntime, AgentState, AgentState]:
    """For a graph invoked from outside the harness (LangGraph Studio, whose runs carry no Python objects):
    ``reset`` is a first node that starts the episode itself (resets the env, returns the initial state),
    and ``context`` supplies the episode's runtime to the other nodes and the routing; the run's own
    context, if any, is ``context_schema``'s (the server builds one from the request)."""
    schema: type[Any] = EpisodeRuntime if context is None else context_schema or dict
    graph: StateGraph[AgentState, EpisodeRuntime, AgentState, AgentState] = StateGraph(
        AgentState, context_schema=schema
    )
    bind = [_bind(context)] if context is not None else []
    nodes_to_add: dict[str, NodeFn] = {name: getattr(nodes, name) for name in NODES}
    if reset is not None:
        nodes_to_add = {"reset": reset, **nodes_to_add}
    for name, fn in nodes_to_add.items():
        for wrap in reversed([*middleware, *bind] if name != "reset" else middleware):
            fn = wrap(name, fn)
        graph.add_node(name, fn)
    if reset is not None:
        graph.add_edge(START, "reset")
        graph.add_edge("reset", "perceive")
    else:
        graph.add_edge(START, "perceive")
    graph.add_edge("perceive", "memory_update")
    graph.add_edge("memory_update", "memory_retrieve")
    route_after_retrieve: Callable[[AgentState, Runtime[EpisodeRuntime]], str] = nodes.route_after_retrieve
    if context is not None:
        route_after_retrieve = _bind_route(context, route_after_retrieve)
    graph.add_conditional_edges(
        "memory_retrieve",
        route_after_retrieve,
        {"plan": "plan", "critic": "critic", "execute": "execute", "end": END},
    )
    graph.add_conditional_edges(
        "plan", nodes.route_after_plan, {"execute": "execute", "plan": "plan", "end": END}
    )
    graph.add_conditional_edges("critic", nodes.route_after_critic, {"execute": "execute", "plan": "plan"})
    graph.add_edge("execute", "perceive")
    return graph


def _bind(context: Callable[[], EpisodeRuntime]) -> NodeMiddleware:
    def middleware(name: str, fn: NodeFn) -> NodeFn:
        def bound(state: AgentState, runtime: Runtime[EpisodeRuntime]) -> AgentState:
            return fn(state, runtime.override(context=context()))

        return bound

    return middleware


def _bind_route(
    context: Callable[[], EpisodeRuntime], route: Callable[[AgentState, Runtime[EpisodeRuntime]], str]
) -> Callable[[AgentState, Runtime[EpisodeRuntime]], str]:
    def bound(state: AgentState, runtime: Runtime[EpisodeRuntime]) -> str:
        return route(state, runtime.override(context=context()))

    return bound
