"""Vector-store conformance checks for durability and concurrency: reopening, another process reading what
this one wrote, and several threads or processes writing at once. :mod:`.vector_store` runs them."""

from __future__ import annotations

import math
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np

from robomem.stores.base import VectorItem, VectorStore
from robomem.testing.conformance._support import (
    DIM,
    SCORE_TOL,
    StoreFactory,
    assert_same_items,
    by_id,
    fresh_store,
    random_units,
    stack_at,
    unit_at,
)

__all__ = (
    "check_concurrent_process_writers",
    "check_concurrent_thread_writers",
    "check_persistence_in_new_process",
    "check_reopen_round_trip",
)

#: Bound on each child process (spawn start-up imports numpy and the backend).
CHILD_TIMEOUT_S = 180.0


def _spawn_pool(workers: int) -> ProcessPoolExecutor:
    # spawn, not fork: forking a process that holds database handles or client threads is unsafe.
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def _write_reference(store: VectorStore) -> list[VectorItem]:
    items = [VectorItem(f"p{i}", f"item {i} ✓", {"i": i, "even": i % 2 == 0, "f": i / 4}) for i in range(12)]
    store.upsert(items, stack_at([i * 7.5 for i in range(12)]))
    return items


def _query_snapshot(store: VectorStore) -> list[tuple[str, float]]:
    return [(h.item.id, h.score) for h in store.query(unit_at(0), 5)[0]]


def _assert_reference(items: list[VectorItem], got: list[VectorItem], hits: list[tuple[str, float]]) -> None:
    assert_same_items(by_id(got), by_id(items))
    assert [i for i, _ in hits] == [f"p{i}" for i in range(5)]
    for (_, score), i in zip(hits, range(5), strict=True):
        assert abs(score - math.cos(math.radians(i * 7.5))) < SCORE_TOL


def check_reopen_round_trip(factory: StoreFactory) -> None:
    """Persistent backends: closing and reopening in the same process keeps everything."""
    with fresh_store(factory, "conf-reopen") as store:
        items = _write_reference(store)
    store = factory("conf-reopen", dim=DIM)
    try:
        _assert_reference(items, store.get(), _query_snapshot(store))
    finally:
        store.close()


def _child_snapshot_and_add(
    factory: StoreFactory, name: str
) -> tuple[list[VectorItem], list[tuple[str, float]]]:
    store = factory(name, dim=DIM)
    try:
        snapshot = store.get(), _query_snapshot(store)
        store.upsert([VectorItem("from-child", "written by the child", {"pid": 1})], unit_at(3))
        return snapshot
    finally:
        store.close()


def check_persistence_in_new_process(factory: StoreFactory) -> None:
    """Persistent backends: a new process reads back exactly what this one wrote, and vice versa."""
    with fresh_store(factory, "conf-process") as store:
        items = _write_reference(store)
    with _spawn_pool(1) as pool:
        got, hits = pool.submit(_child_snapshot_and_add, factory, "conf-process").result(CHILD_TIMEOUT_S)
    _assert_reference(items, got, hits)
    store = factory("conf-process", dim=DIM)
    try:
        from_child = VectorItem("from-child", "written by the child", {"pid": 1})
        assert_same_items(store.get(["from-child"]), [from_child])
        assert store.count() == len(items) + 1
    finally:
        store.close()


def _write_many(store: VectorStore, prefix: str, n: int, batch: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for start in range(0, n, batch):
        ids = [f"{prefix}-{i}" for i in range(start, min(n, start + batch))]
        vectors = random_units(rng, len(ids))
        store.upsert([VectorItem(i, i, {"writer": prefix}) for i in ids], vectors)
        store.query(vectors[:1], 3)  # interleave reads with the other writers' upserts


def check_concurrent_thread_writers(factory: StoreFactory, threads: int = 4, per_thread: int = 25) -> None:
    """Several threads upserting distinct ids into one store object lose nothing."""
    with fresh_store(factory, "conf-threads") as store:
        start = threading.Barrier(threads)

        def work(t: int) -> None:
            start.wait(timeout=30)
            _write_many(store, f"t{t}", per_thread, 1, seed=t)

        with ThreadPoolExecutor(max_workers=threads) as pool:
            for future in [pool.submit(work, t) for t in range(threads)]:
                future.result(timeout=CHILD_TIMEOUT_S)
        expected = {f"t{t}-{i}" for t in range(threads) for i in range(per_thread)}
        assert store.count() == len(expected)
        assert {item.id for item in store.get()} == expected


def _child_write(factory: StoreFactory, name: str, prefix: str, n: int) -> int:
    store = factory(name, dim=DIM)
    try:
        _write_many(store, prefix, n, 4, seed=sum(map(ord, prefix)))
        return n
    finally:
        store.close()


def check_concurrent_process_writers(
    factory: StoreFactory, processes: int = 2, per_process: int = 40
) -> None:
    """Shared backends (a server): several processes upserting distinct ids lose nothing."""
    with fresh_store(factory, "conf-processes") as store:
        with _spawn_pool(processes) as pool:
            futures = [
                pool.submit(_child_write, factory, "conf-processes", f"p{p}", per_process)
                for p in range(processes)
            ]
            assert [f.result(CHILD_TIMEOUT_S) for f in futures] == [per_process] * processes
        expected = {f"p{p}-{i}" for p in range(processes) for i in range(per_process)}
        assert store.count() == len(expected)
        assert {item.id for item in store.get()} == expected
