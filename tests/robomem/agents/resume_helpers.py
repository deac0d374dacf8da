"""Shared by the kill-and-resume tests: a real ``robomem eval`` subprocess whose every LLM role talks to a
scripted server on 127.0.0.1, a reply function that SIGKILLs that process at a chosen request (or fails the
request), and snapshots of a run's results and of its *memory* with wall-clock times left out.

Every role but the (symbolic, offline) planner asks the LLM and gets a reply it cannot use, so it falls back
to its deterministic twin: the run is a pure function of the tasks, and every LLM request is a point where the
process waits and can be killed — during a step's perception and memory update as well as during the
episode's consolidation (``memory.episodic``, ``memory.lessons``, ``memory.semantic``)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from robomem.storage import read_jsonl
from robomem.stores.config import VectorConfig
from robomem.stores.factory import open_vector_store
from robomem.testing.scripted_llm import RecordedRequest
from robomem.trace import read_run_traces

#: The roles of an episode's consolidation (episodic decision, lesson creation, lesson decisions).
CONSOLIDATION_ROLES = frozenset({"memory.episodic", "memory.lessons", "memory.semantic"})
PROCESS_TIMEOUT_S = 300.0


def eval_command(run_dir: Path, base_url: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "robomem",
        "eval",
        "--no-progress",
        "--run-dir",
        str(run_dir),
        # The reference run and the interrupted one are compared memory for memory: one run id for both
        # (by default each run folder gets its own random one; robomem/run_id.py).
        f"run.id={run_dir.name}",
        "agent.type=robomem",
        "agent.planner.type=symbolic",
        "agent.critic=null",
        "agent.thalamus.type=llm",
        f"agent.llm.base_url={base_url}",
        "agent.llm.model=scripted",
        "agent.llm.max_retries=0",
        "agent.llm.repair_attempts=0",  # one request per call: kill points are counted in calls
        # The unusable replies below make each role its deterministic twin; the step summary alone is usable,
        # so an endpoint failure there stops the run (a Trigger with `fail`) as the one LLM policy says.
        "agent.llm.on_failure=fallback",
        'agent.llm.roles."thalamus.summary".on_failure=stop',
        "agent.memory.embedder.type=hashing",
        "agent.memory.vector.type=exact",
        "agent.memory.temporal.compressor=llm",
        "agent.memory.spatial.extractor=llm",
        "agent.memory.episodic.decider=llm",
        "agent.memory.semantic.creator=llm",
        "agent.memory.semantic.decider=llm",
        *extra,
    ]


def resume_command(run_dir: Path) -> list[str]:
    return [sys.executable, "-m", "robomem", "eval", "--resume", str(run_dir), "--no-progress"]


@dataclass(frozen=True)
class Trigger:
    """Act on the ``nth`` request (counted from 1 in the current process) whose role is in ``roles`` (any
    role when ``None``): SIGKILL the process ``delay_s`` after it arrives, or, with ``fail``, answer it with
    HTTP 500 (with no retries, the process stops on an ``llm`` error)."""

    nth: int
    roles: frozenset[str] | None = None
    delay_s: float = 0.0
    fail: bool = False


#: The step summary every thalamus request gets (fixed, so every run's memory is the same).
SUMMARY = '{"summary": "I did what the feedback says."}'


class KillSwitch:
    """The scripted server's reply function. It never gives a usable reply (every role falls back to its
    deterministic twin) but a fixed step summary, and carries out the armed :class:`Trigger` against the
    armed process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._trigger: Trigger | None = None
        self._seen = 0
        self.fired = False
        #: The role of the request the trigger fired on.
        self.fired_role = ""
        #: Requests per role over the switch's life (what a reference run asks).
        self.roles: Counter[str] = Counter()

    def arm(self, process: subprocess.Popen[bytes], trigger: Trigger | None) -> None:
        with self._lock:
            self._process, self._trigger, self._seen, self.fired = process, trigger, 0, False

    def disarm(self) -> None:
        with self._lock:
            self._process = self._trigger = None

    def reply(self, request: RecordedRequest) -> str:
        role = request.role or ""
        answer = SUMMARY if role == "thalamus.summary" else "no JSON here"
        with self._lock:
            self.roles[role] += 1
            trigger, process = self._trigger, self._process
            if trigger is None or process is None or self.fired:
                return answer
            if trigger.roles is None or role in trigger.roles:
                self._seen += 1
            if self._seen < trigger.nth:
                return answer
            self.fired, self.fired_role = True, role
        if trigger.fail:
            raise RuntimeError("scripted failure")  # the scripted server answers HTTP 500
        if trigger.delay_s > 0:
            threading.Timer(trigger.delay_s, _kill, (process,)).start()
        else:
            _kill(process)
        return answer


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)


def run(command: list[str], switch: KillSwitch, trigger: Trigger | None = None) -> int:
    """Run ``command`` with ``trigger`` armed; its exit code (``-SIGKILL`` when the switch killed it)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    switch.arm(process, trigger)
    try:
        _, err = process.communicate(timeout=PROCESS_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        switch.disarm()
    if trigger is None and process.returncode != 0:
        raise AssertionError(f"{' '.join(command[3:6])} failed: {err.decode(errors='replace')[-2000:]}")
    return process.returncode


# ---- snapshots ---------------------------------------------------------------------------------------------
_TIMES = frozenset({"time", "created", "updated"})


def _timeless(value: Any) -> Any:
    """``value`` without wall-clock fields (an interrupted run's clock is not the reference run's)."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in _TIMES}
    if isinstance(value, list):
        return [_timeless(v) for v in value]
    return value


def results(run_dir: Path) -> dict[str, Any]:
    """Every result and step file of the run, elapsed times left out."""
    out: dict[str, Any] = {}
    for path in sorted(run_dir.glob("*/results/*.json")) + sorted(run_dir.glob("*/steps/*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            data.pop("episode_elapsed_seconds", None)
        out[str(path.relative_to(run_dir))] = data
    out["summary.json"] = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return out


#: What a step's trace record says that a resume must reproduce (timings and model replies of an iteration
#: split by a kill are partly lost, and say so with ``resumed``).
TRACE_KEYS = ("step", "summary", "queries", "retrieved", "plan", "action", "feedback", "success", "final")


def traces(run_dir: Path) -> dict[str, Any]:
    """Every step trace of the run: one list of records per episode, each with :data:`TRACE_KEYS` only.
    The spatial store's retrieved text is left out: which of several equally ranked facts fill its budget
    differs between a process that built the graph and one that reloaded it (the stores' contents do not)."""
    out = {}
    for episode, records in read_run_traces(run_dir).items():
        for record in records:
            record["retrieved"].pop("spatial")
        out[episode] = [{k: r.get(k) for k in TRACE_KEYS} for r in records]
    return out


def checkpoint_threads(run_dir: Path) -> list[str]:
    """The episodes (LangGraph threads) that still have checkpoints."""
    with contextlib.closing(sqlite3.connect(run_dir / "checkpoints.sqlite")) as conn:
        return [row[0] for row in conn.execute("SELECT DISTINCT thread_id FROM checkpoints")]


def memory(memory_dir: Path) -> dict[str, Any]:
    """What the memory holds: the spatial graphs (sites, nodes, edges, history), every episodic and semantic
    item with its text, count and episodes, the raw and archive logs, and any leftover per-episode files."""
    snapshot: dict[str, Any] = {"spatial": _spatial(memory_dir / "spatial.sqlite")}
    manifest = json.loads((memory_dir / "manifest.json").read_text(encoding="utf-8"))
    for name in ("episodic", "semantic"):
        store = open_vector_store(
            VectorConfig(type="exact"),
            memory_dir=memory_dir,
            name=name,
            embedder_name=manifest["embedder"],
            dim=manifest["dim"],
        )
        try:
            items = sorted(store.get(), key=lambda i: i.id)
        finally:
            store.close()
        snapshot[name] = [{"id": i.id, "text": i.text, "metadata": _timeless(i.metadata)} for i in items]
    for log in sorted(memory_dir.glob("*.jsonl")):
        records = [_timeless(r) for r in read_jsonl(log)]
        # An archive line written twice (a kill between archiving and replacing) loses nothing.
        if log.name.endswith("_archive.jsonl"):
            records = sorted({json.dumps(r, sort_keys=True) for r in records})
        snapshot[log.name] = records
    snapshot["leftovers"] = sorted(
        str(p.relative_to(memory_dir))
        for folder in ("pending", "temporal")
        for p in (memory_dir / folder).rglob("*")
        if p.is_file()
    )
    return snapshot


def _spatial(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        sites = {site: json.loads(meta) for site, meta in conn.execute("SELECT site, meta FROM sites")}
        nodes = {
            f"{site}|{name}": _timeless(json.loads(data))
            for site, name, data in conn.execute("SELECT site, name, data FROM nodes")
        }
        edges = {
            f"{site}|{s}|{r}|{o}": _timeless(json.loads(data))
            for site, s, r, o, data in conn.execute("SELECT site, subject, relation, object, data FROM edges")
        }
        history = [
            [site, kind, s, r, o, _timeless(json.loads(data))]
            for site, kind, s, r, o, data in conn.execute(
                "SELECT site, kind, subject, relation, object, data FROM history ORDER BY id"
            )
        ]
    finally:
        conn.close()
    return {"sites": sites, "nodes": nodes, "edges": edges, "history": history}


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where two snapshots first differ (a readable assertion message), or ``None``."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return f"{path}/{key}: only in {'second' if key not in a else 'first'}"
            found = first_difference(a[key], b[key], f"{path}/{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for index, (x, y) in enumerate(zip(a, b, strict=False)):
            found = first_difference(x, y, f"{path}[{index}]")
            if found:
                return found
        if len(a) != len(b):
            extra = a[len(b)] if len(a) > len(b) else b[len(a)]
            return f"{path}: {len(a)} vs {len(b)} entries, e.g. {json.dumps(extra)[:300]}"
        return None
    return None if a == b else f"{path}: {json.dumps(a)[:300]} != {json.dumps(b)[:300]}"
