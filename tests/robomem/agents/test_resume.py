"""``kill -9`` in the middle of an episode, then ``robomem eval --resume``: the run finishes with the same
results as an uninterrupted run, and no memory write is lost or repeated.

The planner is the LLM planner against a real scripted server on 127.0.0.1 that answers after a fixed delay,
so the run is slow enough to be killed mid-episode and its plans are a pure function of the prompt."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from robomem.storage import read_jsonl
from robomem.testing.scripted_llm import RecordedRequest, Rule, ScriptedLLMServer

EPISODES = 3
KILL_DEADLINE_S = 120.0


def _plan(request: RecordedRequest) -> str:
    """Up to three `find a` skills not tried yet in this episode, in action-list order."""
    text = request.all_text
    skills = re.findall(r"action id (\d+): (find a [A-Za-z_0-9]+)\n", text)
    history = text.split("## The action history", 1)[-1]
    tried = set(re.findall(r"action id \d+, (find a [A-Za-z_0-9]+),", history))
    todo = [(int(i), name) for i, name in skills if name not in tried][:3]
    plan = [{"action_id": i, "action_name": name} for i, name in todo]
    return json.dumps({"reasoning_and_reflection": "", "language_plan": "", "executable_plan": plan})


def _command(run_dir: Path, base_url: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "robomem",
        "eval",
        "--subset",
        "base",
        "--episodes",
        str(EPISODES),
        "--no-progress",
        "--run-dir",
        str(run_dir),
        "agent.type=robomem",
        "agent.planner.type=llm",
        "agent.critic=null",
        f"agent.llm.base_url={base_url}",
        "agent.llm.model=scripted",
        "agent.llm.max_retries=0",
        "env.max_steps=9",
        "agent.memory.embedder.type=hashing",
        "agent.memory.vector.type=exact",
    ]


def _checkpoints(run_dir: Path, thread_suffix: str) -> int:
    db = run_dir / "checkpoints.sqlite"
    if not db.exists():
        return 0
    conn = sqlite3.connect(db, timeout=1)
    try:
        row = conn.execute(
            "SELECT count(*) FROM checkpoints WHERE thread_id LIKE ?", (f"%{thread_suffix}",)
        ).fetchone()
    except sqlite3.OperationalError:
        return 0  # the table does not exist yet
    finally:
        conn.close()
    return int(row[0])


def _results(run_dir: Path) -> list[dict[str, Any]]:
    out = []
    for n in range(1, EPISODES + 1):
        record = json.loads((run_dir / "base" / "results" / f"episode_{n}_final_res.json").read_text())
        record.pop("episode_elapsed_seconds")
        steps = json.loads((run_dir / "base" / "steps" / f"episode_{n}_steps.json").read_text())
        out.append({**record, "actions": [s["action"] for s in steps]})
    return out


def _memory_counts(run_dir: Path) -> dict[str, Any]:
    memory = run_dir / "memory"
    raw = [r["episode_id"].split("/", 1)[1] for r in read_jsonl(memory / "episodes.jsonl")]  # type: ignore[index]
    pending = [p.name for p in (memory / "pending").rglob("*.jsonl")] if (memory / "pending").exists() else []
    temporal = (
        [p.name for p in (memory / "temporal").glob("*.json")] if (memory / "temporal").exists() else []
    )
    vectors = json.loads(json.dumps({p.parent.name: p.stat().st_size > 0 for p in memory.rglob("store.npz")}))
    return {"raw_episodes": raw, "pending": pending, "temporal": temporal, "vector_stores": vectors}


def test_kill_9_then_resume_matches_an_uninterrupted_run(tmp_path: Path) -> None:
    rules = [Rule(role="planner", reply=_plan)]
    with ScriptedLLMServer(rules, fixed_delay_s=0.25) as server:
        reference = tmp_path / "reference"
        subprocess.run(_command(reference, server.base_url), check=True, capture_output=True, timeout=600)

        killed = tmp_path / "killed"
        process = subprocess.Popen(
            _command(killed, server.base_url), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + KILL_DEADLINE_S
        # Kill it in the middle of the second episode, a few checkpoints in.
        while _checkpoints(killed, "base/2") < 6:
            assert process.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the second episode never started"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL
        assert not (killed / "base" / "results" / "episode_2_final_res.json").exists()

        resumed = subprocess.run(
            [sys.executable, "-m", "robomem", "eval", "--resume", str(killed), "--no-progress"],
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert resumed.returncode == 0, resumed.stderr
    assert _results(killed) == _results(reference)
    assert _memory_counts(killed) == _memory_counts(reference)
    counts = _memory_counts(killed)
    assert counts["raw_episodes"] == ["base/1", "base/2", "base/3"]  # each episode written exactly once
    assert counts["pending"] == [] and counts["temporal"] == []  # nothing left half-done
    assert json.loads((killed / "summary.json").read_text())["overall"]["n"] == EPISODES
