"""What a long-term store keeps on disk for the episode it is working on, so that a process killed at any
point — mid-episode or mid-consolidation — is resumed without losing or repeating a memory write.

* The **step log** (``<episode>.jsonl``): what the store buffers per step, appended as the steps come.
* The **intent** (``<episode>.intent.json``): the episode's consolidation as decided — its candidates and one
  decision each — written durably *before* anything is applied. A resumed process re-applies it as it is
  (applying is idempotent per episode: see :meth:`LongTermIndex.apply`) instead of deciding again against a
  store it has already half-changed, or from a buffer that is already gone.

Both are removed only once the store has recorded the episode as consolidated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modules.hippocampus.longterm import ApplyReport, Candidate, Decider, Decision, LongTermIndex
from robomem.storage import append_jsonl, read_jsonl, remove_with_temps, write_json_atomic
from robomem.stores.base import Metadata

__all__ = ("Intent", "PendingLog", "consolidate_once")


@dataclass(frozen=True)
class Intent:
    """One episode's consolidation, decided once."""

    candidates: tuple[Candidate, ...]
    decisions: tuple[Decision, ...]
    now: float
    new_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "now": self.now,
            "new_id": self.new_id,
            "items": [
                {"candidate": vars(c), "decision": vars(d)}
                for c, d in zip(self.candidates, self.decisions, strict=True)
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Intent:
        items = data["items"]
        return cls(
            candidates=tuple(Candidate(**item["candidate"]) for item in items),
            decisions=tuple(Decision(**item["decision"]) for item in items),
            now=float(data["now"]),
            new_id=str(data["new_id"]),
        )


class PendingLog:
    """The step logs and intents of one store, one pair of files per episode. Steps already logged are
    ignored (a re-run step)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, episode_id: str, suffix: str = ".jsonl") -> Path:
        return self.folder / (re.sub(r"[^A-Za-z0-9._-]", "_", episode_id) + suffix)

    def load(self, episode_id: str) -> list[dict[str, Any]]:
        return [r for r in read_jsonl(self._path(episode_id)) if isinstance(r, dict)]

    def append(self, episode_id: str, record: dict[str, Any]) -> None:
        append_jsonl(self._path(episode_id), record, durable=False)  # per-step scratch: see robomem.storage

    def save_intent(self, episode_id: str, intent: Intent) -> None:
        # Durable: it is the only record of decisions about to change the store.
        write_json_atomic(self._path(episode_id, ".intent.json"), intent.to_json())

    def load_intent(self, episode_id: str) -> Intent | None:
        path = self._path(episode_id, ".intent.json")
        if not path.exists():
            return None
        return Intent.from_json(json.loads(path.read_text(encoding="utf-8")))

    def clear(self, episode_id: str) -> None:
        """Forget the episode's buffer and intent: call only once the episode is recorded as consolidated."""
        remove_with_temps(self._path(episode_id, ".intent.json"))
        self._path(episode_id).unlink(missing_ok=True)


def consolidate_once(
    index: LongTermIndex,
    pending: PendingLog,
    episode_id: str,
    make_candidates: Callable[[], list[Candidate]],
    decider: Decider,
    *,
    n_update: int,
    partition: Callable[[Candidate], Metadata | None] = lambda _: None,
    now: float,
    new_id: str,
) -> ApplyReport:
    """Consolidate the episode once: re-apply its saved intent (a resumed process), or make the candidates,
    decide under the store's write lock (:meth:`LongTermIndex.consolidate`), save the decisions as the
    intent, then apply them."""
    intent = pending.load_intent(episode_id)
    if intent is not None:
        with index.store.write_lock():  # applying is idempotent per episode; other robots wait their turn
            return index.apply(
                intent.candidates,
                intent.decisions,
                episode_id=episode_id,
                now=intent.now,
                new_id=intent.new_id,
            )
    candidates = make_candidates()

    def save(decisions: list[Decision]) -> None:
        pending.save_intent(episode_id, Intent(tuple(candidates), tuple(decisions), now=now, new_id=new_id))

    return index.consolidate(
        candidates,
        decider,
        n_update=n_update,
        partition=partition,
        episode_id=episode_id,
        now=now,
        new_id=new_id,
        on_decided=save,
    )
