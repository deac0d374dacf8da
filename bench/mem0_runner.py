"""Mem0's side of ``bench/vs_mem0.py``. Runs in Mem0's own venv (it imports nothing from robomem):

    .venv-mem0/bin/python bench/mem0_runner.py IN.json OUT.json

IN.json: ``{"base_url", "dim", "dir", "top_k", "steps": [{"text", "queries"}], "questions": [{"thing",
"query"}]}``. Per step, as an agent would use Mem0 for memory: ``add`` the step summary as a user message
(Mem0 2.2's one-call "additive" extraction) and ``search`` each of the step's queries; the time of both is
measured. Then each question is searched. OUT.json: per step ``{"start", "end"}`` (``time.monotonic()``, the
clock the scripted server stamps requests with) and per question the texts found, best first.

Everything stays on this machine: Mem0's LLM and embedder point at ``base_url`` (127.0.0.1), its vector
store (Qdrant, embedded) and history live under ``dir``, telemetry is off, and any connection to an address
other than loopback raises.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any


def _loopback_only() -> None:
    """Refuse any connection off this machine (Mem0 must not phone home during a benchmark)."""
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1"):
            raise ConnectionRefusedError(f"mem0_runner: no network beyond 127.0.0.1 (asked for {address[0]})")
        return connect(self, address)

    socket.socket.connect = guarded  # type: ignore[method-assign,assignment]


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    os.environ["MEM0_TELEMETRY"] = "False"
    os.environ["MEM0_DIR"] = str(Path(job["dir"]) / "mem0home")
    os.environ.setdefault("OPENAI_API_KEY", "not-needed")  # the fake endpoint takes any key
    _loopback_only()
    from mem0 import Memory  # type: ignore[import-not-found]  # read at import: set the environment first

    config = {
        "llm": {"provider": "openai", "config": {"model": "scripted", "openai_base_url": job["base_url"]}},
        "embedder": {
            "provider": "openai",
            "config": {
                "model": "scripted-embed",
                "openai_base_url": job["base_url"],
                "embedding_dims": job["dim"],
            },
        },
        "vector_store": {
            "provider": "qdrant",
            "config": {
                "collection_name": "vs_mem0",
                "path": str(Path(job["dir"]) / "qdrant"),
                "embedding_model_dims": job["dim"],
                "on_disk": True,
            },
        },
        "history_db_path": str(Path(job["dir"]) / "history.db"),
    }
    memory = Memory.from_config(config)
    scope = {"user_id": "robot"}
    steps = []
    for step in job["steps"]:
        start = time.monotonic()
        memory.add([{"role": "user", "content": step["text"]}], user_id="robot")
        for query in step["queries"]:
            memory.search(query, filters=scope, top_k=job["top_k"])
        steps.append({"start": start, "end": time.monotonic()})
    answers = []
    for question in job["questions"]:
        found = memory.search(question["query"], filters=scope, top_k=job["top_k"])
        answers.append({"thing": question["thing"], "texts": [r["memory"] for r in found["results"]]})
    stored = memory.get_all(filters=scope, top_k=10_000)["results"]
    out = {
        "steps": steps,
        "answers": answers,
        "memories": len(stored),
        "all_memories": [r["memory"] for r in stored],
        "version": _version(),
    }
    Path(argv[1]).write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


def _version() -> str:
    from importlib.metadata import version

    return version("mem0ai")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
