"""The memory system: the four stores updated in parallel, then retrieved in parallel (the paper's
"parallelize these steps across all modules"), with per-store wall time recorded for every step.

Threads, not processes: store work is either I/O (LLM calls, SQLite, Chroma) or numpy, both of which release
the GIL. A failing store does not stop the others; after all have finished, the first failure is raised as a
:class:`robomem.errors.StoreError` naming the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
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
from robomem.errors import LLMError, StoreError

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
        background: bool | None = None,
        clock: Callable[[], float] = time.perf_counter,
        keep_timings: int = 100_000,
    ) -> None:
        names = [s.name for s in stores]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate memory stores: {names}")
        self.stores = {s.name: s for s in stores}
        self.parallel = parallel
        #: The last step's consolidation runs on threads, in the background (:meth:`update_and_end`); by
        #: default whenever ``parallel``. Once per episode, so worth it even when per-step fan-outs are not.
        self.background = parallel if background is None else background
        self.clock = clock
        self.keep_timings = keep_timings
        self.timings: list[PhaseTiming] = []
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(stores)), thread_name_prefix="memory")
        self._step = 0
        #: The last step's consolidation still running in the background (see :meth:`update_and_end`).
        self._consolidating: dict[str, Future[tuple[UpdateStats, float] | None]] = {}
        self._consolidation_start = 0.0
        #: Called by :meth:`close` after the stores (e.g. the embedder's HTTP client).
        self.on_close: list[Callable[[], None]] = []

    # ---- the four phases ---------------------------------------------------------------------------------
    def begin_episode(self, context: EpisodeContext) -> None:
        self.settle()
        self._fan_out("begin", lambda s: s.begin_episode(context))

    def update(self, summary: StepSummary) -> dict[str, UpdateStats]:
        self.settle()
        self._step = summary.step
        return self._fan_out("update", lambda s: s.update(summary))

    def retrieve(self, queries: Sequence[str]) -> dict[str, StoreResult]:
        self.settle()
        return self._fan_out("retrieve", lambda s: s.retrieve(queries))

    def end_episode(self, outcome: EpisodeOutcome) -> dict[str, UpdateStats]:
        self.settle()
        return self._fan_out("end", lambda s: s.end_episode(outcome))

    def update_and_end(self, summary: StepSummary, outcome: EpisodeOutcome) -> dict[str, UpdateStats]:
        """The episode's last step. Each store takes the step and then, in the same task, consolidates the
        episode, so every store's LLM calls overlap (``bench.parallel_memory``: 1.3 L for the last step
        instead of 2.9 L as two fan-outs). Returns once every store has taken the step; consolidation is
        per-episode work and finishes in the background: :meth:`settle` waits for it and raises its
        failures, and every other call (``flush`` first of all) settles before doing anything."""
        self.settle()
        self._step = summary.step
        if not self.background or len(self.stores) < 2:
            updated = self.update(summary)
            self.end_episode(outcome)
            return updated
        start = self.clock()
        took_step: dict[str, Future[tuple[UpdateStats, float]]] = {n: Future() for n in self.stores}

        def step_then_end(name: str, store: MemoryStore) -> tuple[UpdateStats, float] | None:
            try:
                took_step[name].set_result(self._timed(store, lambda s: s.update(summary)))
            except Exception as exc:
                took_step[name].set_exception(exc)
                return None  # reported with the update; no consolidation on top of a failed step
            return self._timed(store, lambda s: s.end_episode(outcome))

        self._consolidating = {n: self._pool.submit(step_then_end, n, s) for n, s in self.stores.items()}
        updated = self._collect("update", start, took_step)
        self._consolidation_start = self.clock()
        return updated

    @property
    def consolidating(self) -> bool:
        """A consolidation started by :meth:`update_and_end` has not been settled yet."""
        return bool(self._consolidating)

    def settle(self) -> dict[str, UpdateStats]:
        """Wait for the background consolidation started by :meth:`update_and_end`, if any."""
        pending, self._consolidating = self._consolidating, {}
        if not pending:
            return {}
        return self._collect("end", self._consolidation_start, pending)

    def flush(self) -> None:
        self.settle()
        self._fan_out("flush", lambda s: s.flush())

    def close(self) -> None:
        try:
            self.settle()
            self._fan_out("close", lambda s: s.close())
        finally:
            self._pool.shutdown(wait=True)
            for close in self.on_close:
                close()

    def __getitem__(self, name: str) -> MemoryStore:
        return self.stores[name]

    # ---- machinery ---------------------------------------------------------------------------------------
    def _timed(self, store: MemoryStore, work: Callable[[MemoryStore], T]) -> tuple[T, float]:
        start = self.clock()
        result = work(store)
        return result, self.clock() - start

    def _fan_out(self, phase: str, work: Callable[[MemoryStore], T]) -> dict[str, T]:
        start = self.clock()
        if self.parallel and len(self.stores) > 1:
            futures = {
                name: self._pool.submit(self._timed, store, work) for name, store in self.stores.items()
            }
            return self._collect(phase, start, futures)
        outcomes: dict[str, tuple[T, float] | BaseException] = {}
        for name, store in self.stores.items():
            try:
                outcomes[name] = self._timed(store, work)
            except Exception as exc:
                outcomes[name] = exc
        return self._finish(phase, start, outcomes)

    def _collect(
        self,
        phase: str,
        start: float,
        futures: Mapping[str, Future[tuple[T, float]] | Future[tuple[T, float] | None]],
    ) -> dict[str, T]:
        outcomes: dict[str, tuple[T, float] | BaseException] = {}
        for name, future in futures.items():
            try:
                result = future.result()
            except Exception as exc:
                outcomes[name] = exc
                continue
            if result is not None:
                outcomes[name] = result
        return self._finish(phase, start, outcomes)

    def _finish(
        self, phase: str, start: float, outcomes: dict[str, tuple[T, float] | BaseException]
    ) -> dict[str, T]:
        wall = self.clock() - start
        per_store = {n: o[1] for n, o in outcomes.items() if not isinstance(o, BaseException)}
        if phase in ("update", "retrieve", "end"):
            self.timings.append(PhaseTiming(phase, self._step, wall, per_store))
            del self.timings[: -self.keep_timings]
        for name, outcome in outcomes.items():
            if isinstance(outcome, LLMError):
                raise outcome  # the one `[llm]` failure of every role (robomem.llm.policy), not a store's
            if isinstance(outcome, BaseException):
                raise StoreError(f"{name} memory failed during {phase}: {outcome}") from outcome
        return {n: o[0] for n, o in outcomes.items() if not isinstance(o, BaseException)}
