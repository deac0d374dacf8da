"""The memory system fans the four stores out in parallel and records per-store time."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from modules.hippocampus.base import MemoryStore, StepSummary, StoreResult, UpdateStats
from modules.hippocampus.system import MemorySystem
from robomem.errors import StoreError
from tests.modules.hippocampus.memory_helpers import context, summary


class RendezvousStore(MemoryStore):
    """Each call waits at a shared barrier: it can only pass if all stores are running at the same time,
    which proves the fan-out overlaps without measuring any time."""

    def __init__(self, name: str, barrier: threading.Barrier | None, fail: bool = False) -> None:
        self.name = name
        self.barrier = barrier
        self.fail = fail
        self.threads: set[str] = set()

    def _meet(self) -> None:
        self.threads.add(threading.current_thread().name)
        if self.barrier is not None:
            self.barrier.wait(timeout=10)
        if self.fail:
            raise RuntimeError("disk on fire")

    def update(self, summary: StepSummary) -> UpdateStats:
        self._meet()
        return UpdateStats(self.name, touched=1)

    def retrieve(self, queries: Sequence[str]) -> StoreResult:
        self._meet()
        return StoreResult(self.name, (f"{self.name}: {len(queries)} queries",))


def test_updates_and_retrievals_really_overlap() -> None:
    barrier = threading.Barrier(4)
    stores = [RendezvousStore(n, barrier) for n in ("temporal", "spatial", "episodic", "semantic")]
    system = MemorySystem(stores)
    try:
        stats = system.update(summary(1, "did something"))
        results = system.retrieve(["q1", "q2"])
    finally:
        system.close()
    assert sorted(stats) == ["episodic", "semantic", "spatial", "temporal"]
    assert results["spatial"].lines == ("spatial: 2 queries",)
    update, retrieve = system.timings
    assert (update.phase, update.step, retrieve.phase) == ("update", 1, "retrieve")
    assert sorted(update.per_store) == sorted(stats)
    assert all(t >= 0 for t in update.per_store.values())
    assert len({t for s in stores for t in s.threads}) >= 2


def test_sequential_mode_runs_one_after_another() -> None:
    stores = [RendezvousStore(n, None) for n in ("a", "b")]
    system = MemorySystem(stores, parallel=False)
    system.update(summary(1, "x"))
    system.close()
    assert {t for s in stores for t in s.threads} == {threading.current_thread().name}


def test_a_failing_store_names_itself_after_the_others_finish() -> None:
    ok = RendezvousStore("temporal", None)
    bad = RendezvousStore("spatial", None, fail=True)
    system = MemorySystem([ok, bad])
    with pytest.raises(StoreError, match="spatial memory failed during update: disk on fire"):
        system.update(summary(1, "x"))
    assert ok.threads  # the healthy store ran
    system.close()


def test_duplicate_store_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        MemorySystem([RendezvousStore("a", None), RendezvousStore("a", None)])


def test_begin_and_end_reach_every_store() -> None:
    seen: list[str] = []

    class Recorder(RendezvousStore):
        def begin_episode(self, ctx):
            seen.append(f"{self.name}:{ctx.episode_id}")

    system = MemorySystem([Recorder("a", None), Recorder("b", None)])
    system.begin_episode(context("ep7"))
    system.close()
    assert sorted(seen) == ["a:ep7", "b:ep7"]
