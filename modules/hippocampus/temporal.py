"""Temporal memory: a FIFO of step summaries ("what I have done"), local to one episode.

Capacity N (3 by default, as in the paper's EB runs). When a summary arrives and the buffer is full, the N
entries are compressed into one entry placed at the front, so context stays bounded while older steps fade
(the paper's known weakness: repeated compression loses detail). The buffer is saved after every update so
a resumed episode continues with exactly the same memory: each update appends the whole buffer as one JSON
line to the episode's file, and a reader takes the last complete line. An append costs ~0.1 ms where an
atomic rewrite (temp file + rename) cost ~3 ms per step on a VM disk, on the memory update's critical path.
A killed process can leave at most a torn last line; loading drops it by rewriting the file atomically.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from envs.skill_language import EB_ROBOT
from modules.hippocampus.base import (
    EpisodeContext,
    EpisodeOutcome,
    MemoryStore,
    StepSummary,
    StoreResult,
    UpdateStats,
)
from modules.hippocampus.prompting import ask_json, tell_robot
from modules.hippocampus.variants import TEMPORAL_COMPRESSORS
from robomem.llm.base import LLMClient
from robomem.llm.policy import attempt
from robomem.storage import remove_with_temps, write_bytes_atomic

__all__ = (
    "Compressor",
    "DeterministicCompressor",
    "LLMCompressor",
    "TemporalConfig",
    "TemporalEntry",
    "TemporalMemory",
)

ROLE = "memory.temporal"
#: Lines an episode's file may grow to before it is rewritten (atomically) as one line.
_COMPACT_AFTER = 64
SUMMARY_SCHEMA = {
    "type": "object",
    "properties": {"summary": {"type": "string"}},
    "required": ["summary"],
    "additionalProperties": False,
}


class TemporalConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    capacity: int = Field(default=3, ge=2)
    #: ``deterministic``, ``llm``, or a ``robomem.memory.temporal_compressors`` entry point.
    compressor: str = "deterministic"
    #: Longest compressed entry, in characters (deterministic compressor).
    max_chars: int = Field(default=400, ge=80)

    @field_validator("compressor")
    @classmethod
    def _known(cls, value: str) -> str:
        return TEMPORAL_COMPRESSORS.check_name(value)


@dataclass(frozen=True)
class TemporalEntry:
    text: str
    first_step: int
    last_step: int

    @property
    def compressed(self) -> bool:
        return self.first_step != self.last_step

    def line(self) -> str:
        steps = (
            f"step {self.first_step}" if not self.compressed else f"steps {self.first_step}-{self.last_step}"
        )
        return f"[{steps}] {self.text}"


class Compressor(Protocol):
    def compress(self, entries: Sequence[TemporalEntry], instruction: str) -> str: ...


class DeterministicCompressor:
    """Keeps the first sentence of each entry, oldest first, cut to a character budget."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars

    def compress(self, entries: Sequence[TemporalEntry], instruction: str) -> str:
        parts = [re.split(r"(?<=[.!?])\s", e.text.strip(), maxsplit=1)[0] for e in entries]
        text = " ".join(parts)
        if len(text) > self.max_chars:
            # Keep the newest part: the oldest detail is what compression is allowed to lose.
            text = "..." + text[-(self.max_chars - 3) :]
        return text


class LLMCompressor:
    """Asks the LLM for the compressed summary. A failure follows the role's policy
    (:mod:`robomem.llm.policy`): the run stops, or the deterministic compressor writes the entry."""

    def __init__(self, llm: LLMClient, fallback: DeterministicCompressor) -> None:
        self.llm = llm
        self.fallback = fallback
        self.failures = 0
        #: How the prompt names the agent: the episode's environment says (:func:`tell_robot`).
        self.robot = EB_ROBOT

    def compress(self, entries: Sequence[TemporalEntry], instruction: str) -> str:
        summary, _ = attempt(self.llm, ROLE, lambda: self._ask(entries, instruction))
        if summary is None:
            self.failures += 1
            return self.fallback.compress(entries, instruction)
        return summary

    def _ask(self, entries: Sequence[TemporalEntry], instruction: str) -> tuple[str | None, str | None]:
        data, error = ask_json(
            self.llm,
            role=ROLE,
            prompt="temporal_compress",
            schema=SUMMARY_SCHEMA,
            robot=self.robot,
            instruction=instruction,
            entries="\n".join(e.line() for e in entries),
        )
        summary = data.get("summary") if data else None
        if not isinstance(summary, str) or not summary.strip():
            return None, error or "no summary in the reply"
        return " ".join(summary.split()), None


@TEMPORAL_COMPRESSORS.register("deterministic", TemporalConfig)
def _deterministic(
    config: TemporalConfig, *, llm: LLMClient | None, fallback: DeterministicCompressor
) -> Compressor:
    return fallback


@TEMPORAL_COMPRESSORS.register("llm", TemporalConfig)
def _llm(config: TemporalConfig, *, llm: LLMClient | None, fallback: DeterministicCompressor) -> Compressor:
    if llm is None:
        raise ValueError("temporal.compressor=llm needs an LLM client")
    return LLMCompressor(llm, fallback)


class TemporalMemory(MemoryStore):
    name = "temporal"

    def __init__(self, config: TemporalConfig, *, memory_dir: Path, llm: LLMClient | None = None) -> None:
        self.config = config
        self.folder = memory_dir / "temporal"
        fallback = DeterministicCompressor(config.max_chars)
        factory = TEMPORAL_COMPRESSORS.get(config.compressor).factory
        self.compressor: Compressor = factory(config, llm=llm, fallback=fallback)
        self.context: EpisodeContext | None = None
        self.entries: list[TemporalEntry] = []
        self._lines = 0  # lines in the current episode's file

    def _path(self, episode_id: str, suffix: str = ".jsonl") -> Path:
        return self.folder / (re.sub(r"[^A-Za-z0-9._-]", "_", episode_id) + suffix)

    def begin_episode(self, context: EpisodeContext) -> None:
        """Temporal memory is per episode: a new episode starts empty, a resumed one reloads its buffer."""
        self.context = context
        tell_robot(self.compressor, context.robot)
        self.entries, self._lines = [], 0
        path, legacy = self._path(context.episode_id), self._path(context.episode_id, ".json")
        raw = _last_record(path) if path.exists() else None
        if raw is None and legacy.exists():  # written by an older robomem: one atomically written JSON file
            raw = json.loads(legacy.read_text(encoding="utf-8"))
        if raw is not None:
            self.entries = [TemporalEntry(**e) for e in raw["entries"]]
            self._save(context.episode_id, compact=True)  # one clean line: appends start at a line boundary
            remove_with_temps(legacy)
        else:
            path.unlink(missing_ok=True)  # nothing complete in it (a torn first line): start clean
            self.folder.mkdir(parents=True, exist_ok=True)

    def _save(self, episode_id: str, *, compact: bool = False) -> None:
        line = json.dumps(
            {"episode_id": episode_id, "entries": [asdict(e) for e in self.entries]}, ensure_ascii=False
        )
        path = self._path(episode_id)
        if compact or self._lines >= _COMPACT_AFTER:
            write_bytes_atomic(path, (line + "\n").encode("utf-8"), durable=False)  # per-step scratch
            self._lines = 1
            return
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        self._lines += 1

    def update(self, summary: StepSummary) -> UpdateStats:
        if self.context is None or self.context.episode_id != summary.context.episode_id:
            self.begin_episode(summary.context)
        if self.entries and summary.step <= self.entries[-1].last_step:
            return UpdateStats(self.name)  # this step is already remembered (a resumed episode re-ran it)
        entry = TemporalEntry(summary.text, summary.step, summary.step)
        compressed = 0
        if len(self.entries) >= self.config.capacity:
            merged = TemporalEntry(
                self.compressor.compress(self.entries, summary.context.instruction),
                self.entries[0].first_step,
                self.entries[-1].last_step,
            )
            compressed = len(self.entries)
            self.entries = [merged]
        self.entries.append(entry)
        self._save(summary.context.episode_id)
        return UpdateStats(self.name, touched=1 + compressed, details={"compressed": compressed})

    def end_episode(self, outcome: EpisodeOutcome) -> UpdateStats:
        # The episode's story now lives in episodic memory; the running buffer is no longer needed.
        remove_with_temps(self._path(outcome.context.episode_id))
        remove_with_temps(self._path(outcome.context.episode_id, ".json"))
        self.entries, self._lines = [], 0
        return UpdateStats(self.name)

    def retrieve(self, queries: Sequence[str]) -> StoreResult:
        # The whole buffer, oldest first: temporal memory answers "what have I done", not a query.
        return StoreResult(self.name, tuple(e.line() for e in self.entries), data=list(self.entries))

    def wipe(self) -> None:
        for pattern in ("*.jsonl", "*.json"):
            for path in self.folder.glob(pattern):
                path.unlink()
        self.entries, self._lines = [], 0


def _last_record(path: Path) -> dict[str, Any] | None:
    """The newest complete line of an episode's file (a killed writer may have left the last one torn)."""
    for line in reversed(path.read_text(encoding="utf-8").splitlines()):
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("entries"), list):
            return record
    return None
