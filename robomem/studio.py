"""The agent loop for LangGraph Studio / ``langgraph dev``: ``langgraph.json`` names :func:`make_graph`.

The factory builds the whole runtime from a preset, as ``robomem eval`` does: the environment, the brain
modules and the memory (``ROBOMEM_CONFIG``, default ``configs/demo.yaml``; ``ROBOMEM_OVERRIDES``: dotted
overrides separated by spaces). Every run of the graph is one episode: a first ``reset`` node puts the
environment on the next planned task (the run's context ``{"task": "<subset>/<N>"}``, or ``ROBOMEM_TASK``,
picks one) and the loop runs to its end, writing memory and its step trace to the run folder (``run.dir``,
else a new one under ``runs/``). The server's own checkpointer is used, so the graph is compiled without
one. One episode at a time: the environment is a single simulator. The nodes block (simulator, memory
files), so the dev server is started with ``--allow-blocking``.
"""

from __future__ import annotations

import os
import shlex
import threading
from pathlib import Path
from typing import Any, TypedDict

from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime

from envs.base import Env
from robomem.agents.robomemory import RoboMemoryAgent
from robomem.agents.robomemory_config import RoboMemoryAgentConfig
from robomem.config import Config, load_config
from robomem.context import EpisodeRuntime
from robomem.errors import ConfigError
from robomem.eval.harness import PlannedEpisode, plan_episodes
from robomem.graph import NodeFn, build_graph
from robomem.nodes import episode_outcome
from robomem.state import AgentState, initial_state
from robomem.trace import trace_path

__all__ = ("StudioOptions", "StudioSession", "make_graph")


class StudioOptions(TypedDict, total=False):
    """A run's context in Studio: ``task`` (``<subset>/<N>``) picks its episode."""

    task: str


DEFAULT_PRESET = Path(__file__).resolve().parents[1] / "configs" / "demo.yaml"


class StudioSession:
    """The runtime behind the Studio graph: an env, a started :class:`RoboMemoryAgent`, the episode plan."""

    def __init__(self, cfg: Config, run_dir: Path, task: str | None = None) -> None:
        from envs.registry import ENVS

        if not isinstance(cfg.agent, RoboMemoryAgentConfig):
            raise ConfigError("LangGraph Studio shows the RoboMemory agent's loop", key="agent.type")
        self.cfg = cfg
        self.env: Env = ENVS.build(cfg.env)
        agent = RoboMemoryAgent(cfg.agent.model_copy(update={"checkpoint": False}))
        agent.begin_run(run_dir)
        self.agent = agent
        self.run_dir = run_dir
        _, self.plan = plan_episodes(cfg, self.env)
        self._next = 0
        self._pinned = task
        self._lock = threading.Lock()
        self.runtime: EpisodeRuntime | None = None

    def next_episode(self, task: str | None = None) -> tuple[str, PlannedEpisode]:
        """``task`` (``<subset>/<N>``), else ``ROBOMEM_TASK``, else the episode after the last one run."""
        with self._lock:
            counts: dict[str, int] = {}
            keyed = []
            for item in self.plan:
                counts[item.subset] = counts.get(item.subset, 0) + 1
                keyed.append((f"{item.subset}/{counts[item.subset]}", item))
            wanted = task or self._pinned
            if wanted is not None:
                for key, item in keyed:
                    if key == wanted:
                        return key, item
                raise ConfigError(f"no planned episode {wanted!r}; e.g. {keyed[0][0]!r}")
            key, item = keyed[self._next % len(keyed)]
            self._next += 1
            return key, item

    def reset(self, state: AgentState, runtime: Runtime[EpisodeRuntime]) -> AgentState:
        """Put the environment on the next task and start the episode (memory, trace)."""
        agent = self.agent
        options = runtime.context if isinstance(runtime.context, dict) else {}
        key, item = self.next_episode(options.get("task") or None)
        if item.perturb is not None:
            self.env.perturb(*item.perturb)
        observation = self.env.reset(item.task, keep_world=item.keep_world)
        self.runtime = agent.episode_runtime(self.env, item.task, f"{self.run_dir.name}/{key}")
        episode = self.runtime.episode
        if agent.memory is not None:
            agent.memory.begin_episode(episode)
        agent.trace.start(trace_path(self.run_dir, key), key)
        return initial_state(observation.model_dump(mode="json"))

    def context(self) -> EpisodeRuntime:
        if self.runtime is None:
            raise RuntimeError("the episode has not been reset")
        return self.runtime

    def end_when_done(self, name: str, fn: NodeFn) -> NodeFn:
        """Node middleware: where the loop ends, the episode's memory ends (the harness's job elsewhere)."""
        if name not in ("memory_retrieve", "plan"):
            return fn

        def ending(state: AgentState, runtime: Runtime[EpisodeRuntime]) -> AgentState:
            update = fn(state, runtime)
            if update.get("done", state.get("done")):
                self._end_episode({**state, **update}, self.context())
            return update

        return ending

    def _end_episode(self, state: dict[str, Any], ctx: EpisodeRuntime) -> None:
        memory = self.agent.memory
        if memory is not None:
            if not ctx.scratch.get("memory_ended"):  # ended by the planner: no last memory update ran
                memory.end_episode(episode_outcome(state, ctx))
            memory.flush()

    def graph(self) -> CompiledStateGraph[AgentState, EpisodeRuntime, AgentState, AgentState]:
        middleware = (self.end_when_done, self.agent.trace.middleware)
        graph = build_graph(middleware, reset=self.reset, context=self.context, context_schema=StudioOptions)
        return graph.compile()

    def close(self) -> None:
        try:
            self.agent.end_run()
        finally:
            self.env.close()


_SESSIONS: dict[tuple[str, tuple[str, ...], str | None], StudioSession] = {}
_SESSIONS_LOCK = threading.Lock()


def make_graph() -> CompiledStateGraph[AgentState, EpisodeRuntime, AgentState, AgentState]:
    """The graph factory ``langgraph.json`` names. A server that calls it again (per run) gets the same
    session: one environment, one memory, one run folder per process."""
    preset = os.environ.get("ROBOMEM_CONFIG") or str(DEFAULT_PRESET)
    overrides = tuple(shlex.split(os.environ.get("ROBOMEM_OVERRIDES", "")))
    task = os.environ.get("ROBOMEM_TASK") or None
    with _SESSIONS_LOCK:
        session = _SESSIONS.get((preset, overrides, task))
        if session is None:
            from robomem.cli.eval import _make_run_dir

            cfg = load_config(preset, overrides)
            session = _SESSIONS[(preset, overrides, task)] = StudioSession(cfg, _make_run_dir(cfg), task)
    return session.graph()
