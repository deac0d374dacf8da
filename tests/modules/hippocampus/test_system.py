"""The memory system fans the four stores out in parallel and records per-store time."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from modules.hippocampus.base import EpisodeOutcome, MemoryStore, StepSummary, StoreResult, UpdateStats
from modules.hippocampus.system import MemorySystem
from robomem.errors import StoreError
from tests.modules.hippocampus.memory_helpers import context, outcome, summary


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


class SlowConsolidation(RendezvousStore):
    """Takes steps at once; consolidating waits until the test releases it (or fails)."""

    def __init__(self, name: str, release: threading.Event, fail_end: bool = False) -> None:
        super().__init__(name, None)
        self.release = release
        self.fail_end = fail_end
        self.ended = 0

    def end_episode(self, outcome: EpisodeOutcome) -> UpdateStats:
        assert self.release.wait(10), "never released"
        if self.fail_end:
            raise RuntimeError("archive unwritable")
        self.ended += 1
        return UpdateStats(self.name)


def test_the_last_step_returns_before_consolidation_which_settle_waits_for() -> None:
    release = threading.Event()
    stores = [SlowConsolidation(n, release) for n in ("temporal", "spatial", "episodic", "semantic")]
    system = MemorySystem(stores)
    try:
        stats = system.update_and_end(summary(3, "last"), outcome([], success=True))
        assert set(stats) == {s.name for s in stores}
        assert all(s.ended == 0 for s in stores), "the step returned while consolidation still runs"
        release.set()
        system.flush()  # settles first
        assert all(s.ended == 1 for s in stores)
        assert [t.phase for t in system.timings] == ["update", "end"]
        assert system.settle() == {}, "nothing left to wait for"
    finally:
        release.set()
        system.close()


def test_a_failed_consolidation_is_raised_when_settled() -> None:
    release = threading.Event()
    system = MemorySystem([SlowConsolidation("a", release), SlowConsolidation("b", release, fail_end=True)])
    try:
        system.update_and_end(summary(3, "last"), outcome([], success=True))
        release.set()
        with pytest.raises(StoreError, match="b memory failed during end: archive unwritable"):
            system.flush()
    finally:
        release.set()
        system.close()


def test_a_failed_last_step_is_raised_and_that_store_does_not_consolidate() -> None:
    release = threading.Event()
    release.set()
    healthy, broken = SlowConsolidation("a", release), SlowConsolidation("b", release)
    broken.fail = True
    system = MemorySystem([healthy, broken])
    try:
        with pytest.raises(StoreError, match="b memory failed during update"):
            system.update_and_end(summary(3, "last"), outcome([], success=True))
        system.settle()
        assert (healthy.ended, broken.ended) == (1, 0)
    finally:
        system.close()
