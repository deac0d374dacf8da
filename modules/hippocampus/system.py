"""The memory system: the four stores updated in parallel, then retrieved in parallel (the paper's
"parallelize these steps across all modules"), with per-store wall time recorded for every step.

Threads, not processes: store work is either I/O (LLM calls, SQLite, Chroma) or numpy, both of which release
the GIL. A failing store does not stop the others; after all have finished, the first failure is raised as a
:class:`robomem.errors.StoreError` naming the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from modules.hippocampus.base import (
    EpisodeContext,
    EpisodeOutcome,
    MemoryStore,
    StepSummary,
    StoreResult,
    UpdateStats,
)
from robomem.errors import StoreError

__all__ = ("MemorySystem", "PhaseTiming")

T = TypeVar("T")


@dataclass(frozen=True)
class PhaseTiming:
    """One fan-out: ``wall_s`` for the whole phase and each store's own time. With real overlap,
    ``wall_s`` is close to the slowest store rather than to the sum."""

    phase: str
    step: int
    wall_s: float
    per_store: dict[str, float] = field(default_factory=dict)

    @property
    def sum_s(self) -> float:
        return sum(self.per_store.values())


class MemorySystem:
    def __init__(
        self,
        stores: Sequence[MemoryStore],
        *,
        parallel: bool = True,
        clock: Callable[[], float] = time.perf_counter,
        keep_timings: int = 100_000,
    ) -> None:
        names = [s.name for s in stores]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate memory stores: {names}")
        self.stores = {s.name: s for s in stores}
        self.parallel = parallel
        self.clock = clock
        self.keep_timings = keep_timings
        self.timings: list[PhaseTiming] = []
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(stores)), thread_name_prefix="memory")
        self._step = 0

    # ---- the four phases ---------------------------------------------------------------------------------
    def begin_episode(self, context: EpisodeContext) -> None:
        self._fan_out("begin", lambda s: s.begin_episode(context))

    def update(self, summary: StepSummary) -> dict[str, UpdateStats]:
        self._step = summary.step
        return self._fan_out("update", lambda s: s.update(summary))

    def retrieve(self, queries: Sequence[str]) -> dict[str, StoreResult]:
        return self._fan_out("retrieve", lambda s: s.retrieve(queries))

    def end_episode(self, outcome: EpisodeOutcome) -> dict[str, UpdateStats]:
        return self._fan_out("end", lambda s: s.end_episode(outcome))

    def update_and_end(
        self, summary: StepSummary, outcome: EpisodeOutcome
    ) -> dict[str, tuple[UpdateStats, UpdateStats]]:
        """The episode's last step: each store takes the step and then consolidates the episode in the
        same fan-out, so the LLM calls of both overlap (one latency instead of two; ``bench.parallel_memory``
        measured the last step at 2.9 L as two fan-outs)."""
        self._step = summary.step
        return self._fan_out("update+end", lambda s: (s.update(summary), s.end_episode(outcome)))

    def flush(self) -> None:
        self._fan_out("flush", lambda s: s.flush())

    def close(self) -> None:
        try:
            self._fan_out("close", lambda s: s.close())
        finally:
            self._pool.shutdown(wait=True)

    def __getitem__(self, name: str) -> MemoryStore:
        return self.stores[name]

    # ---- machinery ---------------------------------------------------------------------------------------
    def _timed(self, store: MemoryStore, work: Callable[[MemoryStore], T]) -> tuple[T, float]:
        start = self.clock()
        result = work(store)
        return result, self.clock() - start

    def _fan_out(self, phase: str, work: Callable[[MemoryStore], T]) -> dict[str, T]:
        start = self.clock()
        outcomes: dict[str, tuple[T, float] | BaseException] = {}
        if self.parallel and len(self.stores) > 1:
            futures: dict[str, Future[tuple[T, float]]] = {
                name: self._pool.submit(self._timed, store, work) for name, store in self.stores.items()
            }
            for name, future in futures.items():
                try:
                    outcomes[name] = future.result()
                except Exception as exc:
                    outcomes[name] = exc
        else:
            for name, store in self.stores.items():
                try:
                    outcomes[name] = self._timed(store, work)
                except Exception as exc:
                    outcomes[name] = exc
        wall = self.clock() - start
        per_store = {n: o[1] for n, o in outcomes.items() if not isinstance(o, BaseException)}
        if phase in ("update", "retrieve", "end", "update+end"):
            self.timings.append(PhaseTiming(phase, self._step, wall, per_store))
            del self.timings[: -self.keep_timings]
        for name, outcome in outcomes.items():
            if isinstance(outcome, BaseException):
                raise StoreError(f"{name} memory failed during {phase}: {outcome}") from outcome
        return {n: o[0] for n, o in outcomes.items() if not isinstance(o, BaseException)}
