"""The RoboMemory agent (``agent.type: robomem``): the LangGraph loop with the four brain modules.

Per run it opens the memory directory, one LangGraph SQLite checkpointer (``<run>/checkpoints.sqlite``) and
the LLM client (when any role uses one). Per episode it runs the graph with the episode id as thread id; if
that thread already has a checkpoint (the process was killed), it replays the executed actions into the
freshly reset environment and continues from the checkpoint, so no step is lost and no memory write repeats
(stores are idempotent per step and per episode). An episode is consolidated when it ends or the environment
fails it; an error that stops the run (an ``llm`` error, Ctrl-C) leaves it to ``--resume``. Once the harness
has saved an episode's result (:meth:`RoboMemoryAgent.episode_saved`), its checkpoints are deleted: resume
needs only the unfinished episode's, and a long run's folder stays small.

Every step is traced to ``<run>/<subset>/trace/episode_<N>_trace.jsonl`` (:mod:`robomem.trace`), gzipped
once the episode is saved.
``node_middleware`` wraps the loop's nodes (timing, tracing, tests) without patching :mod:`robomem.nodes`;
``memory_opener`` opens the memory system (default :func:`open_memory`; a bench wraps it to time the stores)
and ``planner_wrapper`` wraps the built planner (a bench measures its inputs): the composition root's seams.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph.state import CompiledStateGraph

from envs.base import Env, Observation
from envs.task import Task
from modules.cerebellum.registry import EXECUTORS
from modules.hippocampus.base import EpisodeContext
from modules.hippocampus.factory import check_wipeable, open_memory
from modules.hippocampus.system import MemorySystem
from modules.prefrontal.base import Planner
from modules.prefrontal.registry import CRITICS, PLANNERS
from modules.thalamus.base import Thalamus
from modules.thalamus.deterministic import DeterministicThalamus
from modules.thalamus.registry import THALAMI
from robomem.agents.base import Agent, EpisodeStats
from robomem.agents.heap import HeapKeeper
from robomem.agents.robomemory_config import RoboMemoryAgentConfig
from robomem.context import EpisodeRuntime
from robomem.errors import ConfigError, EnvAdapterError, RobomemError
from robomem.graph import NodeMiddleware, build_graph
from robomem.llm.accounting import LLMAccounting
from robomem.llm.base import LLMClient
from robomem.llm.factory import make_llm
from robomem.nodes import episode_outcome
from robomem.run_id import read_run_id
from robomem.state import AgentState, initial_state
from robomem.trace import TraceRecorder, trace_path

__all__ = ("MemoryOpener", "PlannerWrapper", "RoboMemoryAgent")

#: Opens the run's memory system; called as :func:`modules.hippocampus.factory.open_memory` is.
MemoryOpener = Callable[..., MemorySystem]
#: ``planner -> planner``: what the loop plans with instead of the configured planner (usually wrapping it).
PlannerWrapper = Callable[[Planner], Planner]


class RoboMemoryAgent(Agent):
    def __init__(
        self,
        config: RoboMemoryAgentConfig,
        *,
        fresh_memory: bool = False,
        node_middleware: Sequence[NodeMiddleware] = (),
        work_dir: Path | None = None,
        memory_opener: MemoryOpener | None = None,
        planner_wrapper: PlannerWrapper | None = None,
    ) -> None:
        if config.uses_llm() and config.llm is None:
            raise RobomemError("an LLM role is configured but agent.llm is not set (base_url, model)")
        if fresh_memory and config.memory.stores and config.memory.dir:
            # Refused before the run folder exists: --fresh-memory wipes only a robomem memory.
            check_wipeable(Path(config.memory.dir), key="agent.memory.dir")
        self.config = config
        self.fresh_memory = fresh_memory
        self.run_dir: Path | None = None
        self.run_id = "run"  # the run folder's id once begin_run has it (robomem/run_id.py)
        #: A parallel run's worker keeps its state (checkpoints, usage, a default memory) in its own folder
        #: inside the run's (robomem/eval/parallel.py); episode ids still name the run.
        self.work_dir = work_dir
        self.memory: MemorySystem | None = None
        self.llm: LLMClient | None = None
        self.accounting = LLMAccounting()
        #: The step trace; add listeners to see each step as it is written (``robomem eval --verbose``).
        self.trace = TraceRecorder()
        self.node_middleware = tuple(node_middleware)
        self.memory_opener: MemoryOpener = memory_opener or open_memory
        self.planner_wrapper = planner_wrapper
        self.heap = HeapKeeper() if config.freeze_heap else None
        self._conn: sqlite3.Connection | None = None
        self._checkpointer: SqliteSaver | None = None
        self._graph: CompiledStateGraph[AgentState, EpisodeRuntime, AgentState, AgentState] | None = None

    # ---- run lifecycle ---------------------------------------------------------------------------------
    def check_tasks(self, tasks: Sequence[Task]) -> None:
        if getattr(self.config.planner, "type", None) != "symbolic":
            return
        # The symbolic planner plans from a task's structured goal only; without one every episode would end
        # at step 0 with an empty plan (tasks from a file, a real robot's, have none).
        missing = [t.task_id for t in tasks if not t.goal]
        if missing:
            raise ConfigError(
                f"the symbolic planner needs tasks with a structured goal (the simulator's suites have one); "
                f"{len(missing)} of {len(tasks)} tasks have none, e.g. {missing[0]!r}",
                key="agent.planner.type",
                hint="use an LLM planner: agent.planner.type=llm and agent.llm (see configs/llm_agent.yaml)",
            )

    def begin_run(self, run_dir: Path) -> None:
        cfg = self.config
        self.run_dir = run_dir
        self.run_id = read_run_id(run_dir)
        own = self.work_dir = self.work_dir or run_dir
        own.mkdir(parents=True, exist_ok=True)
        # Before anything is accounted: an endpoint embedder may be, even when no LLM role is.
        _keep_earlier_usage(own)
        if cfg.llm is not None and cfg.may_use_llm():  # a plug-in planner or critic may call it too
            self.llm = self.trace.wrap_llm(make_llm(cfg.llm, accounting=self.accounting))
        if cfg.memory.stores:
            memory_dir = Path(cfg.memory.dir) if cfg.memory.dir else own / "memory"
            self.memory = self.memory_opener(
                cfg.memory, memory_dir, llm=self.llm, fresh=self.fresh_memory, accounting=self.accounting
            )
        checkpointer = None
        if cfg.checkpoint:
            self._conn = sqlite3.connect(own / "checkpoints.sqlite", check_same_thread=False)
            # The saver switches to WAL; in WAL, NORMAL does not fsync every commit (six per step) yet keeps
            # every committed checkpoint across a killed process, which is what `--resume` needs.
            self._conn.execute("PRAGMA synchronous = NORMAL")
            checkpointer = SqliteSaver(self._conn)
        self._checkpointer = checkpointer
        # The trace innermost: its timings are the nodes' own.
        middleware = (*self.node_middleware, self.trace.middleware)
        self._graph = build_graph(middleware).compile(checkpointer=checkpointer)
        self.thalamus = self._thalamus()
        self.planner = PLANNERS.build(cfg.planner, llm=self.llm)
        if self.planner_wrapper is not None:
            self.planner = self.planner_wrapper(self.planner)
        self.critic = CRITICS.build(cfg.critic, llm=self.llm) if cfg.critic is not None else None
        self.executor = EXECUTORS.build(cfg.executor)
        if self.heap is not None:
            self.heap.collect()  # memory is loaded: what is there now lives as long as the run

    def episode_saved(self, episode_id: str) -> None:
        """The harness has written this episode's result: a resume will not run it again, so its checkpoints
        go (deleted only now: a process killed between the episode's end and its result file resumes from
        the finished checkpoint instead of running the episode again on top of its memory). Its step trace is
        compressed."""
        if self._checkpointer is not None and self.run_dir is not None:
            self._checkpointer.delete_thread(self._thread_id(episode_id))
        if self.run_dir is not None:
            self.trace.saved(trace_path(self.run_dir, episode_id))

    def end_run(self) -> None:
        try:
            if self.memory is not None:
                self.memory.close()
        finally:
            if self.heap is not None:
                self.heap.release()
            self.trace.stop()
            if self._conn is not None:
                _compact(self._conn)
                self._conn.close()
            if self.run_dir is not None and (self.llm is not None or self.accounting.snapshot()["roles"]):
                self.accounting.write((self.work_dir or self.run_dir) / "llm_usage.json")
            close = getattr(self.llm, "close", None)
            if callable(close):
                close()

    def _thalamus(self) -> Thalamus:
        return THALAMI.build(self.config.thalamus, llm=self.llm, fallback=DeterministicThalamus())

    # ---- one episode -----------------------------------------------------------------------------------
    def episode_runtime(self, env: Env, task: Task, episode_id: str) -> EpisodeRuntime:
        """What one episode's nodes run with: its context for memory (in ``env``'s skill grammar) and this
        agent's modules. Studio's sessions (:mod:`robomem.studio`) start their episodes with it too."""
        episode = EpisodeContext(
            site=task.scene,
            episode_id=episode_id,
            instruction=task.instruction,
            task_type=task.task_type,
            world_persists=env.world_persists,
            grammar=env.grammar,
            robot=env.robot,
        )
        outcome = self.config.memory.outcome
        if outcome == "auto":
            outcome = "simulator" if env.privileged_success else "agent"
        return EpisodeRuntime(
            env=env,
            task=task,
            episode=episode,
            thalamus=self.thalamus,
            planner=self.planner,
            executor=self.executor,
            critic=self.critic,
            memory=self.memory,
            max_output_errors=self.config.max_output_errors,
            max_steps=self.config.max_steps,
            outcome_source=outcome,
        )

    def run_episode(
        self, env: Env, task: Task, observation: Observation, *, episode_id: str = ""
    ) -> EpisodeStats:
        if self._graph is None:
            raise RobomemError("begin_run() must be called before run_episode()")
        episode_id = episode_id or task.task_id
        runtime = self.episode_runtime(env, task, self._thread_id(episode_id))
        episode = runtime.episode
        config: RunnableConfig = {
            "configurable": {"thread_id": episode.episode_id},
            "recursion_limit": 12 * self.config.max_steps + 50,
        }
        if self.memory is not None:
            self.memory.begin_episode(episode)
        snapshot = self._graph.get_state(config) if self.config.checkpoint else None
        saved: dict[str, Any] = dict(snapshot.values) if snapshot is not None else {}
        # Nodes of the interrupted super-step that finished before a kill: LangGraph saved their writes and
        # applies them without running them again, so the episode is where those writes leave it (an
        # `execute` whose writes were saved has acted: the restarted env must replay that action too).
        ran: tuple[str, ...] = ()
        for pending in snapshot.tasks if snapshot is not None else ():
            if isinstance(pending.result, dict):
                saved.update(pending.result)
                ran += (pending.name,)
        state: dict[str, Any] = {}
        finished = bool(saved.get("done")) and snapshot is not None and not snapshot.next
        if self.run_dir is not None:
            next_nodes = tuple(snapshot.next) if snapshot is not None else ()
            path = trace_path(self.run_dir, episode_id)
            self.trace.start(path, episode_id, saved, next_nodes=next_nodes, finished=finished, ran=ran)
        try:
            if saved:
                _replay(env, saved.get("history", []))  # the environment restarted with the process
            if finished:
                state = saved  # finished, but the process died before its results were written
            else:
                # A `done` checkpoint with nodes still to run: the last step has not reached memory yet.
                start = None if saved else initial_state(observation.model_dump(mode="json"))
                state = dict(self._graph.invoke(start, config, context=runtime, durability="sync"))
            if self.run_dir is not None:
                self.trace.close_episode(state)
        except EnvAdapterError:
            # The harness records the episode as failed (even an unreachable robot): what it taught is
            # written down.
            self._end_memory(self._state_after_error(state, config), runtime)
            raise
        except BaseException:
            # Anything else stops the run, and `--resume` continues this very episode from its checkpoint:
            # consolidating it now would store a partial failure beside the resumed episode. Its buffers
            # stay in the stores' pending logs (as after a kill -9).
            raise
        self._end_memory(state, runtime)
        if self.heap is not None:
            self.heap.episode_ended()
        return EpisodeStats(
            planner_steps=state.get("planner_steps", 0),
            planner_output_error=state.get("planner_output_error", 0),
            empty_plan=bool(state.get("empty_plan")),
        )

    def _thread_id(self, episode_id: str) -> str:
        return f"{self.run_id}/{episode_id}"

    def _state_after_error(self, state: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        if not state and self.memory is not None and self._graph is not None and self.config.checkpoint:
            return dict(self._graph.get_state(config).values)
        return state

    def _end_memory(self, state: dict[str, Any], runtime: EpisodeRuntime) -> None:
        if self.memory is None:
            return
        if not runtime.scratch.get("memory_ended"):
            # The loop did not reach its last memory update (given up, interrupted, env failure).
            self.memory.end_episode(episode_outcome(state, runtime))
        self.memory.flush()


def _replay(env: Env, history: list[dict[str, Any]]) -> None:
    """Bring a freshly reset environment back to where the killed process left it."""
    for record in history:
        result = env.step(record["action"])
        if result.info["env_feedback"] != record["feedback"]:
            raise EnvAdapterError(
                f"cannot resume: replaying {record['action']!r} gave {result.info['env_feedback']!r}, "
                f"not {record['feedback']!r} (the environment is not deterministic)"
            )


def _compact(conn: sqlite3.Connection) -> None:
    """Give the pages of deleted checkpoints back to the file system once no episode is left unfinished
    (an interrupted run keeps its file as it is: VACUUM rewrites it)."""
    try:
        if conn.execute("SELECT 1 FROM checkpoints LIMIT 1").fetchone() is None:
            conn.execute("VACUUM")
    except sqlite3.Error:
        pass  # no table yet (no episode ran), or busy: the file is only bigger than it needs to be


def _keep_earlier_usage(run_dir: Path) -> None:
    """A resumed run: the interrupted process's LLM figures move to ``llm_usage.partN.json`` (latency
    percentiles cannot be merged), and this process writes ``llm_usage.json`` for its own part."""
    usage = run_dir / "llm_usage.json"
    if usage.exists():
        part = 1
        while (run_dir / f"llm_usage.part{part}.json").exists():
            part += 1
        usage.replace(run_dir / f"llm_usage.part{part}.json")
