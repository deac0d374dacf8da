"""The step trace: what the agent perceived, retrieved, planned, was told by its critic and did, step by step,
in ``<run>/<subset>/trace/episode_<N>_trace.jsonl`` beside the step files.

One JSON object per loop iteration, appended (and flushed) when the iteration executes its action, so a killed
run leaves a readable prefix. Once the harness has saved the episode's result the file is gzipped, byte for
byte, to ``episode_<N>_trace.jsonl.gz`` (:func:`compress_trace`: the retrieved texts, most of a record, repeat
from step to step); :func:`read_trace` reads either form.

Keys: ``step`` (the environment's step counter after the iteration, as in the step file), ``summary`` and
``queries`` (thalamus), ``retrieved`` (``{store: text}`` as the planner saw it), ``plan`` (the plan the action
was taken from), ``critic`` (``{"verdict": accept|reject|skipped, "reason"}``), ``action``, ``feedback``,
``success``, ``timings`` (``{node: seconds}``, summed when a node ran twice) and ``llm`` (``[{role, reply,
prompt_tokens, completion_tokens}]``: every model reply of the iteration, memory operations' included; never a
prompt, never a key). Extra keys: ``replanned`` (the planner ran), ``resumed`` (the iteration began in a
killed process: its earlier nodes' timings and replies are lost), and on a last iteration that executes
nothing (the planner declared the task done, or the step limit was reached, or the environment failed: then
also ``error``) ``final: true`` with ``stop_reason``, ``action: ""``.

The recorder is a node middleware (:func:`robomem.graph.build_graph`), so it times nodes without patching
them. One recorder serves one episode at a time (an agent runs its episodes one after another).
"""

from __future__ import annotations

import functools
import gzip
import json
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from robomem.context import EpisodeRuntime
from robomem.errors import EnvAdapterError, LLMError
from robomem.graph import NodeFn
from robomem.llm.base import ChatMessage, LLMClient, LLMReply
from robomem.state import AgentState
from robomem.storage import write_bytes_atomic

__all__ = (
    "STORES",
    "TraceRecorder",
    "TracingLLM",
    "compress_trace",
    "format_record",
    "read_run_traces",
    "read_trace",
    "trace_path",
)

STORES = ("spatial", "temporal", "episodic", "semantic")

#: ``(episode_id, record)``, called after each record is written (``robomem eval --verbose``).
TraceListener = Callable[[str, dict[str, Any]], None]


def trace_path(run_dir: Path, episode_id: str) -> Path:
    """``<run>/<subset>/trace/episode_<N>_trace.jsonl`` for the harness's episode id ``<subset>/<N>``."""
    subset, _, n = episode_id.rpartition("/")
    if not subset or not n.isdigit():  # an id from elsewhere: one flat file per episode
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in episode_id) or "episode"
        return run_dir / "trace" / f"{safe}_trace.jsonl"
    return run_dir / subset / "trace" / f"episode_{n}_trace.jsonl"


def compressed_path(path: Path) -> Path:
    """Where the trace at ``path`` (:func:`trace_path`) goes once its episode is finished."""
    return path.with_name(path.name + ".gz")


def compress_trace(path: Path) -> None:
    """Gzip the finished episode's trace at ``path`` atomically, then remove the plain file (a process killed
    in between leaves both, equal; the next call finishes the job). No name or time in the gzip header: a
    resumed run's file is byte for byte an uninterrupted run's. Nothing to do when there is no plain file."""
    if not path.exists():
        return
    write_bytes_atomic(compressed_path(path), gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))
    path.unlink()


def read_trace(path: Path, problems: list[str] | None = None) -> list[dict[str, Any]]:
    """The records of one episode's trace; ``path`` names either form (:func:`trace_path`'s, or with ``.gz``).
    The plain file wins when both exist (it is being written; a leftover ``.gz`` is equal or stale). Blank
    lines are ignored; a line that is no JSON object (cut short by a kill, edited by hand) is skipped and, if
    ``problems`` is given, counted there, as is a damaged ``.gz``. No file: no records."""
    plain = path.with_name(path.name.removesuffix(".gz"))
    file = plain if plain.exists() else compressed_path(plain)
    try:
        data = file.read_bytes()
        if file is not plain:
            data = gzip.decompress(data)
    except FileNotFoundError:
        return []
    except (OSError, EOFError, zlib.error) as err:  # a truncated or foreign .gz
        if problems is not None:
            problems.append(f"{file}: unreadable ({type(err).__name__})")
        return []
    records, bad = [], 0
    # Split on "\n" only: a text may hold U+2028 and the like, which str.splitlines would also cut at.
    for line in data.decode("utf-8", errors="replace").split("\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            records.append(record)
        else:
            bad += 1
    if bad and problems is not None:
        problems.append(f"{file}: {bad} unreadable line(s) skipped")
    return records


def read_run_traces(run_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Every episode trace in a run folder, plain or compressed: ``{"<subset>/<N>": records}``, sorted."""
    found = {}
    for file in run_dir.glob("*/trace/episode_*_trace.jsonl*"):
        n = file.name.split("_")[1]
        if file.name in (f"episode_{n}_trace.jsonl", f"episode_{n}_trace.jsonl.gz") and n.isdigit():
            found[f"{file.parent.parent.name}/{n}"] = file
    order = sorted(found, key=lambda key: (key.rpartition("/")[0], int(key.rpartition("/")[2])))
    return {key: read_trace(found[key]) for key in order}


class TracingLLM:
    """Forwards to ``inner`` and hands every reply (text and tokens only) to ``sink``."""

    def __init__(self, inner: LLMClient, sink: Callable[[dict[str, Any]], None]) -> None:
        self.inner = inner
        self._sink = sink

    def complete(
        self,
        messages: list[ChatMessage],
        *,
        role: str,
        schema: dict[str, Any] | None = None,
        schema_name: str = "reply",
        essential: Sequence[str] | None = None,
    ) -> LLMReply:
        try:
            reply = self.inner.complete(
                messages, role=role, schema=schema, schema_name=schema_name, essential=essential
            )
        except LLMError as err:  # its message names no key (robomem.llm.retry)
            failed = {"role": role, "reply": "", "prompt_tokens": None, "completion_tokens": None}
            self._sink(failed | {"error": str(err)})
            raise
        item: dict[str, Any] = {
            "role": role,
            "reply": reply.text,
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
        }
        if reply.error:
            item["error"] = reply.error
        self._sink(item)
        return reply

    def __getattr__(self, name: str) -> Any:  # close(), settings, ... of the wrapped client
        if name == "inner":  # not set yet (a copy being built): no endless recursion
            raise AttributeError(name)
        return getattr(self.inner, name)


class TraceRecorder:
    """Builds one record per loop iteration from the nodes' inputs and updates and appends it to the
    episode's trace file. Use :meth:`middleware` in ``build_graph`` and :meth:`wrap_llm` on the client."""

    def __init__(self, *, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.listeners: list[TraceListener] = []
        self._lock = threading.Lock()  # LLM replies arrive from the memory system's threads
        self._path: Path | None = None
        self._episode = ""
        self._current: dict[str, Any] = {}
        self._closed = False  # the episode's closing record is in its file

    # ---- episode lifecycle ------------------------------------------------------------------------------
    def start(
        self,
        path: Path,
        episode_id: str,
        saved: dict[str, Any] | None = None,
        next_nodes: Sequence[str] = (),
        finished: bool = False,
        ran: Sequence[str] = (),
    ) -> None:
        """Begin an episode's trace. A fresh episode (``saved`` empty) starts an empty file. A resumed one
        keeps one record per step its checkpoint has executed (a record written after the last checkpoint
        would be repeated by the resumed node), plus the last record if the checkpoint is ``finished``, and
        seeds the interrupted iteration with what the checkpoint holds of it."""
        self._path, self._episode = path, episode_id
        path.parent.mkdir(parents=True, exist_ok=True)
        self._current = _blank()
        compressed_path(path).unlink(missing_ok=True)  # the episode runs again: a finished trace is stale
        self._closed = False
        if not saved:
            path.write_bytes(b"")
            return
        executed = len(saved.get("history") or [])
        kept = read_trace(path)
        steps = [r for r in kept if not r.get("final")][:executed]
        # ``ran``: nodes of the interrupted super-step that finished before the kill. LangGraph saved their
        # writes and applies them without running them again, so their records stay (``saved`` includes
        # their writes) and, when one of them closed the episode, so does the closing record.
        closed_before_kill = bool(saved.get("done")) and bool({"memory_retrieve", "plan"} & set(ran))
        if finished or closed_before_kill:
            steps += [r for r in kept[len(steps) :] if r.get("final")][:1]
        write_bytes_atomic(path, b"".join(_line(r) for r in steps))
        self._closed = bool(steps) and bool(steps[-1].get("final"))
        if self._closed or not next_nodes:
            return
        current = next_nodes[0]
        position = NODE_ORDER.index(current) + (current in ran) if current in NODE_ORDER else 0
        if position == 0 or position >= len(NODE_ORDER):
            return  # the interrupted iteration had not begun, or had acted: the next one starts afresh
        # The interrupted iteration had perceived (and maybe retrieved) before the kill.
        self._current |= {"summary": saved.get("summary", ""), "queries": list(saved.get("queries") or [])}
        if position > NODE_ORDER.index("memory_retrieve"):
            self._current["retrieved"] = _retrieved(saved.get("memory") or {})
        self._current["resumed"] = True

    def stop(self) -> None:
        self._path = None

    def close_episode(self, state: dict[str, Any]) -> None:
        """The graph has ended the episode: make sure its trace ends with the closing record. The node that
        ends the loop writes it; a run resumed after a kill in the closing iteration can find the checkpoint
        finished without that record in the file (the kill test lost it in ~1 run of 3, lifelong and
        episodic; the exact LangGraph path is not pinned down), so it is rebuilt here from the final state —
        the same record on every compared key, without that iteration's timings and LLM replies."""
        if self._path is None or self._closed or not state.get("done"):
            return
        reason = state.get("stop_reason") or (
            "the environment ended the episode" if state.get("env_done") else "step limit"
        )
        self._current |= {
            "step": int(state.get("step", 0)),
            "summary": state.get("summary", ""),
            "queries": list(state.get("queries") or []),
            # The closing iteration retrieves nothing (nodes.memory_retrieve: nothing will be planned).
            "retrieved": dict.fromkeys(STORES, ""),
            "final": True,
            "stop_reason": reason,
        }
        self._emit()

    def saved(self, path: Path) -> None:
        """The episode traced to ``path`` has its result saved: nothing more is written there; compress it."""
        if self._path == path:
            self._path = None
        compress_trace(path)

    # ---- the seams ---------------------------------------------------------------------------------------
    def wrap_llm(self, llm: LLMClient) -> TracingLLM:
        return TracingLLM(llm, self._llm_reply)

    def middleware(self, name: str, fn: NodeFn) -> NodeFn:
        @functools.wraps(fn)
        def traced(state: AgentState, runtime: Runtime[EpisodeRuntime]) -> AgentState:
            started = self.clock()
            try:
                update = fn(state, runtime)
            except EnvAdapterError as err:  # the harness records the episode as failed: say where it stopped
                self._node_done(name, state, {}, self.clock() - started, error=f"{type(err).__name__}: {err}")
                raise
            self._node_done(name, state, update, self.clock() - started)
            return update

        return traced

    # ---- building records --------------------------------------------------------------------------------
    def _llm_reply(self, item: dict[str, Any]) -> None:
        with self._lock:
            self._current["llm"].append(item)

    def _node_done(
        self, name: str, state: AgentState, update: AgentState, seconds: float, error: str | None = None
    ) -> None:
        with self._lock:
            cur = self._current
            cur["timings"][name] = round(cur["timings"].get(name, 0.0) + seconds, 6)
        if error is not None:
            cur |= {"step": int(state.get("step", 0)), "final": True, "stop_reason": error, "error": error}
            self._emit()
            return
        done = bool(update.get("done", state.get("done")))
        if name == "perceive":
            cur["summary"] = update.get("summary", "")
            cur["queries"] = list(update.get("queries") or [])
        elif name == "memory_retrieve" and "memory" in update:
            cur["retrieved"] = _retrieved(update["memory"])
        elif name == "plan":
            cur["replanned"] = True
            cur["plan"] = list(update.get("plan") or [])
        elif name == "critic":
            rejected = "reflection" in update
            cur["critic"] = {
                "verdict": "reject" if rejected else "accept",
                "reason": str(update.get("reflection") or ""),
            }
        elif name == "execute":
            if "perceive" not in cur["timings"] and not cur.get("resumed"):
                # The iteration began in a killed process and its start was not seeded (the kill test saw
                # this in ~1 run of 3 under load; the LangGraph path is not pinned down): what this
                # iteration perceived and retrieved is in the state the action was chosen from.
                cur |= {
                    "summary": state.get("summary", ""),
                    "queries": list(state.get("queries") or []),
                    "retrieved": _retrieved(state.get("memory") or {}),
                    "resumed": True,
                }
            last = update["history"][-1]
            cur |= {
                "step": int(update["step"]),
                "plan": list(state.get("plan") or []),
                "action": str(last["action"]),
                "feedback": str(last["feedback"]),
                "success": bool(last["success"]),
            }
            self._emit()
            return
        if done and name in ("memory_retrieve", "plan"):  # the loop ends here without acting
            reason = update.get("stop_reason") or state.get("stop_reason")
            if not reason:
                reason = "the environment ended the episode" if state.get("env_done") else "step limit"
            cur |= {"step": int(state.get("step", 0)), "final": True, "stop_reason": reason}
            self._emit()

    def _emit(self) -> None:
        with self._lock:
            record, self._current = self._current, _blank()
        record = {"step": record.pop("step", 0), **record}
        self._closed = self._closed or bool(record.get("final"))
        if self._path is not None:
            with self._path.open("ab") as handle:
                handle.write(_line(record))
        for listener in self.listeners:
            listener(self._episode, record)


#: The loop's nodes in the order an iteration runs them (plan and critic may be skipped).
NODE_ORDER = ("perceive", "memory_update", "memory_retrieve", "plan", "critic", "execute")


def _blank() -> dict[str, Any]:
    return {
        "summary": "",
        "queries": [],
        "retrieved": dict.fromkeys(STORES, ""),
        "plan": [],
        "critic": {"verdict": "skipped", "reason": ""},
        "action": "",
        "feedback": "",
        "success": False,
        "timings": {},
        "llm": [],
    }


def _retrieved(memory: dict[str, list[str]]) -> dict[str, str]:
    texts = dict.fromkeys(STORES, "")
    texts.update({name: "\n".join(lines) for name, lines in memory.items()})
    return texts


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")


def format_record(episode_id: str, record: dict[str, Any]) -> str:
    """A few readable lines for ``robomem eval --verbose``."""
    timings = record.get("timings") or {}
    total = sum(timings.values())
    lines = [f"[{episode_id} step {record.get('step')}] {record.get('summary') or '(no summary)'}"]
    for store, text in (record.get("retrieved") or {}).items():
        if text:
            first, *more = text.splitlines()
            lines.append(f"    {store}: {first}" + (f" (+{len(more)} lines)" if more else ""))
    if record.get("replanned"):
        lines.append(f"    plan: {' -> '.join(record.get('plan') or []) or '(empty)'}")
    critic = record.get("critic") or {}
    if critic.get("verdict") == "reject":
        lines.append(f"    critic rejected: {critic.get('reason', '')}")
    if record.get("final"):
        lines.append(f"    end: {record.get('stop_reason') or 'done'}  ({total:.2f}s)")
    else:
        mark = "ok" if record.get("success") else "FAILED"
        lines.append(f"    -> {record.get('action')} [{mark}] {record.get('feedback')}  ({total:.2f}s)")
    return "\n".join(lines)
