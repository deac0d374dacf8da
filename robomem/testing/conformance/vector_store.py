"""Conformance checks for :class:`robomem.stores.base.VectorStore` implementations.

Every ``check_*`` function takes a :class:`StoreFactory` and raises ``AssertionError`` on a violation. The
factory must open (creating if needed) the store called ``name``; opening the same name again must give the
same data, and a name never opened before must be empty. Each check uses its own name.

The multi-process checks send the factory to child processes (``spawn``), so it must be picklable: a
module-level class such as :class:`RegistryStoreFactory`, not a lambda or closure. Typical use::

    factory = RegistryStoreFactory(VectorConfig(type="exact"), tmp_path)
    run_vector_store_suite(factory, persistent=True)
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from robomem.embeddings.base import Vectors
from robomem.errors import StoreError
from robomem.stores.base import VectorItem, VectorStore
from robomem.stores.config import VectorConfig

__all__ = (
    "ALL_CHECKS",
    "DIM",
    "IN_PROCESS_CHECKS",
    "PERSISTENCE_CHECKS",
    "RegistryStoreFactory",
    "StoreFactory",
    "check_close_is_idempotent",
    "check_concurrent_process_writers",
    "check_concurrent_thread_writers",
    "check_delete_and_count",
    "check_get_with_vectors",
    "check_persistence_in_new_process",
    "check_query_order_and_scores",
    "check_rejects_bad_input",
    "check_reopen_round_trip",
    "check_replace_same_id",
    "check_upsert_and_get",
    "check_where_filters",
    "run_vector_store_suite",
)

#: Vector dimension used by every check.
DIM = 8
#: Scores may differ from exact cosine by float32 rounding (and an index's distance arithmetic).
SCORE_TOL = 1e-4
#: Bound on each child process (spawn start-up imports numpy and the backend).
CHILD_TIMEOUT_S = 180.0


class StoreFactory(Protocol):
    def __call__(self, name: str, *, dim: int) -> VectorStore: ...


@dataclass(frozen=True)
class RegistryStoreFactory:
    """Opens stores through :func:`robomem.stores.factory.open_vector_store`; picklable."""

    config: VectorConfig
    memory_dir: Path
    embedder_name: str = "conformance-unit-vectors"

    def __call__(self, name: str, *, dim: int) -> VectorStore:
        from robomem.stores.factory import open_vector_store

        return open_vector_store(
            self.config, memory_dir=self.memory_dir, name=name, embedder_name=self.embedder_name, dim=dim
        )


# -- helpers --------------------------------------------------------------------------------------------


def _at(degrees: float, dim: int = DIM) -> Vectors:
    """A unit vector at ``degrees`` from e0 in the e0-e1 plane: its cosine with e0 is cos(degrees)."""
    vector = np.zeros((1, dim), dtype=np.float32)
    vector[0, 0], vector[0, 1] = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return vector


def _stack(degrees: Sequence[float]) -> Vectors:
    return np.concatenate([_at(d) for d in degrees]) if degrees else np.zeros((0, DIM), np.float32)


def _random_unit(rng: np.random.Generator, n: int) -> Vectors:
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    unit: Vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    return unit


@contextlib.contextmanager
def _fresh(factory: StoreFactory, name: str) -> Iterator[VectorStore]:
    store = factory(name, dim=DIM)
    try:
        assert store.count() == 0, f"store {name!r} is not empty: the factory must isolate fresh names"
        yield store
    finally:
        store.close()


def _same_items(got: Sequence[VectorItem], expected: Sequence[VectorItem]) -> None:
    assert [i.id for i in got] == [i.id for i in expected], (got, expected)
    for g, e in zip(got, expected, strict=True):
        assert g.text == e.text, (g, e)
        assert g.metadata == e.metadata, (g, e)
        for key, value in e.metadata.items():
            assert type(g.metadata[key]) is type(value), f"{g.id}.{key}: {g.metadata[key]!r} vs {value!r}"


def _by_id(items: Sequence[VectorItem]) -> list[VectorItem]:
    return sorted(items, key=lambda item: item.id)


def _spawn_pool(workers: int) -> ProcessPoolExecutor:
    # spawn, not fork: forking a process that holds database handles or client threads is unsafe.
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


# -- checks ---------------------------------------------------------------------------------------------

_ITEMS = (
    VectorItem("a", "apple in the fridge", {"room": "kitchen", "step": 3, "weight": 0.5, "done": False}),
    VectorItem("b", "café ☕ — ünïcode", {}),
    VectorItem("c", "", {"room": "hall"}),
)


def check_upsert_and_get(factory: StoreFactory) -> None:
    with _fresh(factory, "conf-upsert") as store:
        store.upsert([], np.zeros((0, DIM), np.float32))
        assert store.count() == 0
        store.upsert(_ITEMS, _stack([0, 40, 80]))
        assert store.count() == 3
        _same_items(store.get(["c", "a", "missing"]), [_ITEMS[2], _ITEMS[0]])
        _same_items(_by_id(store.get()), list(_ITEMS))
        assert store.get([]) == []


def check_query_order_and_scores(factory: StoreFactory) -> None:
    with _fresh(factory, "conf-query") as store:
        assert store.query(_at(0), 3) == [[]], "an empty store answers with no hits"
        angles = {"q75": 75, "q0": 0, "q45": 45, "q120": 120, "q15": 15, "q30": 30, "q60": 60}
        items = [VectorItem(i, f"text {i}") for i in angles]
        store.upsert(items, _stack(list(angles.values())))
        by_angle = sorted(angles, key=lambda i: angles[i])

        [hits] = store.query(_at(0), 3)
        assert [h.item.id for h in hits] == by_angle[:3]
        for hit in hits:
            assert abs(hit.score - math.cos(math.radians(angles[hit.item.id]))) < SCORE_TOL, hit
            assert hit.item.text == f"text {hit.item.id}"
        [everything] = store.query(_at(0), 50)
        assert [h.item.id for h in everything] == by_angle, "k beyond the count returns every item"
        assert everything[-1].score < -0.4, "scores are cosine similarities, negative when opposed"
        scores = [h.score for h in everything]
        assert scores == sorted(scores, reverse=True)
        assert all(-1.0 <= s <= 1.0 for s in scores)

        near0, near120 = store.query(np.concatenate([_at(0), _at(120)]), 2)
        assert [h.item.id for h in near0] == ["q0", "q15"]
        assert [h.item.id for h in near120] == ["q120", "q75"]
        assert store.query(_at(0), 0) == [[]]
        assert store.query(np.zeros((0, DIM), np.float32), 3) == []


def check_where_filters(factory: StoreFactory) -> None:
    with _fresh(factory, "conf-where") as store:
        specs: list[tuple[str, float, dict[str, str | int | float | bool]]] = [
            ("k1", 0, {"room": "kitchen", "kind": "action", "step": 1, "ok": True}),
            ("k2", 20, {"room": "kitchen", "kind": "observation", "step": 2, "ok": False}),
            ("h1", 10, {"room": "hall", "kind": "action", "step": 1, "ok": True}),
            ("k3", 30, {"room": "kitchen", "kind": "action", "step": 3, "ok": True}),
            ("n1", 5, {}),
        ]
        store.upsert([VectorItem(i, i, m) for i, _, m in specs], _stack([a for _, a, _ in specs]))

        def ids(where: dict[str, str | int | float | bool], k: int = 10) -> list[str]:
            return [h.item.id for h in store.query(_at(0), k, where)[0]]

        assert ids({"room": "kitchen"}) == ["k1", "k2", "k3"]
        assert ids({"room": "kitchen"}, k=2) == ["k1", "k2"]
        assert ids({"room": "kitchen", "kind": "action"}) == ["k1", "k3"]
        assert ids({"ok": True}) == ["k1", "h1", "k3"]
        assert ids({"ok": False}) == ["k2"]
        assert ids({"step": 1}) == ["k1", "h1"]
        assert ids({"room": "garage"}) == []
        assert ids({}) == ["k1", "n1", "h1", "k2", "k3"], "an empty filter matches everything"
        assert sorted(i.id for i in store.get(where={"kind": "action"})) == ["h1", "k1", "k3"]
        assert [i.id for i in store.get(["k3", "h1", "k2"], where={"kind": "action"})] == ["k3", "h1"]
        assert store.get(where={"room": "nowhere"}) == []


def check_get_with_vectors(factory: StoreFactory) -> None:
    """The optional ``get_with_vectors``: a backend without it must raise ``NotImplementedError`` (and
    nothing else); one with it returns the filtered items and their unit vectors, row for row."""
    with _fresh(factory, "conf-vectors") as store:
        store.upsert(
            [VectorItem("v1", "one", {"room": "kitchen"}), VectorItem("v2", "two", {"room": "hall"})],
            np.concatenate([_at(0) * 3.0, _at(60)]),  # not unit length: stores normalise
        )
        try:
            items, vectors = store.get_with_vectors({"room": "kitchen"})
        except NotImplementedError:
            return
        _same_items(items, [VectorItem("v1", "one", {"room": "kitchen"})])
        assert np.allclose(vectors, _at(0), atol=SCORE_TOL), vectors
        items, vectors = store.get_with_vectors()
        assert sorted(i.id for i in items) == ["v1", "v2"]
        for item, vector in zip(items, vectors, strict=True):
            assert np.allclose(vector, _at(0 if item.id == "v1" else 60)[0], atol=SCORE_TOL), item
        items, vectors = store.get_with_vectors({"room": "garage"})
        assert items == []
        assert vectors.shape == (0, DIM)


def check_delete_and_count(factory: StoreFactory) -> None:
    with _fresh(factory, "conf-delete") as store:
        names = [f"d{i}" for i in range(5)]
        store.upsert([VectorItem(n, n) for n in names], _stack([0, 10, 20, 30, 40]))
        store.delete(["d0", "d3", "never-existed"])
        assert store.count() == 3
        assert store.get(["d0", "d3"]) == []
        assert [h.item.id for h in store.query(_at(0), 10)[0]] == ["d1", "d2", "d4"]
        store.delete([])
        assert store.count() == 3
        store.delete(["d1", "d2", "d4"])
        assert store.count() == 0
        assert store.get() == []
        assert store.query(_at(0), 5) == [[]]


def check_replace_same_id(factory: StoreFactory) -> None:
    with _fresh(factory, "conf-replace") as store:
        store.upsert([VectorItem("r", "old", {"x": 1, "keep": "no"})], _at(0))
        store.upsert([VectorItem("r", "new", {"y": "z"})], _at(60))
        assert store.count() == 1
        _same_items(store.get(["r"]), [VectorItem("r", "new", {"y": "z"})])
        [[hit]] = store.query(_at(60), 5)
        assert hit.item.text == "new"
        assert abs(hit.score - 1.0) < SCORE_TOL
        [[hit]] = store.query(_at(0), 5)
        assert abs(hit.score - 0.5) < SCORE_TOL, "the old vector is gone"
        # A batch mixing replacements and new ids.
        store.upsert([VectorItem("s", "s"), VectorItem("r", "newer", {})], _stack([10, 20]))
        assert store.count() == 2
        _same_items(store.get(["r", "s"]), [VectorItem("r", "newer"), VectorItem("s", "s")])


def check_rejects_bad_input(factory: StoreFactory) -> None:
    """Invalid input raises :class:`robomem.errors.StoreError` and stores nothing."""
    with _fresh(factory, "conf-invalid") as store:
        bad: list[tuple[Callable[[], object], str]] = [
            (lambda: store.upsert([VectorItem("x", "x")], np.zeros((1, DIM + 1), np.float32)), "wrong dim"),
            (lambda: store.upsert([VectorItem("x", "x")], _stack([0, 10])), "count mismatch"),
            (lambda: store.upsert([VectorItem("x", "x"), VectorItem("x", "y")], _stack([0, 5])), "dup ids"),
            (lambda: store.upsert([VectorItem("x", "x", {"l": [1]})], _at(0)), "list metadata"),  # type: ignore[dict-item]
            (lambda: store.upsert([VectorItem("x", "x", {"n": None})], _at(0)), "None metadata"),  # type: ignore[dict-item]
            (lambda: store.upsert([VectorItem("", "x")], _at(0)), "empty id"),
            (lambda: store.query(np.zeros((1, DIM + 2), np.float32), 1), "query dim"),
            (lambda: store.query(_at(0), -1), "negative k"),
        ]
        for call, what in bad:
            try:
                call()
            except StoreError:
                continue
            raise AssertionError(f"{what}: expected StoreError")
        assert store.count() == 0


def check_close_is_idempotent(factory: StoreFactory) -> None:
    store = factory("conf-close", dim=DIM)
    store.close()
    store.close()


def _write_reference(store: VectorStore) -> list[VectorItem]:
    items = [VectorItem(f"p{i}", f"item {i} ✓", {"i": i, "even": i % 2 == 0, "f": i / 4}) for i in range(12)]
    store.upsert(items, _stack([i * 7.5 for i in range(12)]))
    return items


def _query_snapshot(store: VectorStore) -> list[tuple[str, float]]:
    return [(h.item.id, h.score) for h in store.query(_at(0), 5)[0]]


def _assert_reference(items: list[VectorItem], got: list[VectorItem], hits: list[tuple[str, float]]) -> None:
    _same_items(_by_id(got), _by_id(items))
    assert [i for i, _ in hits] == [f"p{i}" for i in range(5)]
    for (_, score), i in zip(hits, range(5), strict=True):
        assert abs(score - math.cos(math.radians(i * 7.5))) < SCORE_TOL


def check_reopen_round_trip(factory: StoreFactory) -> None:
    """Persistent backends: closing and reopening in the same process keeps everything."""
    with _fresh(factory, "conf-reopen") as store:
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
        store.upsert([VectorItem("from-child", "written by the child", {"pid": 1})], _at(3))
        return snapshot
    finally:
        store.close()


def check_persistence_in_new_process(factory: StoreFactory) -> None:
    """Persistent backends: a new process reads back exactly what this one wrote, and vice versa."""
    with _fresh(factory, "conf-process") as store:
        items = _write_reference(store)
    with _spawn_pool(1) as pool:
        got, hits = pool.submit(_child_snapshot_and_add, factory, "conf-process").result(CHILD_TIMEOUT_S)
    _assert_reference(items, got, hits)
    store = factory("conf-process", dim=DIM)
    try:
        _same_items(store.get(["from-child"]), [VectorItem("from-child", "written by the child", {"pid": 1})])
        assert store.count() == len(items) + 1
    finally:
        store.close()


def _write_many(store: VectorStore, prefix: str, n: int, batch: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for start in range(0, n, batch):
        ids = [f"{prefix}-{i}" for i in range(start, min(n, start + batch))]
        vectors = _random_unit(rng, len(ids))
        store.upsert([VectorItem(i, i, {"writer": prefix}) for i in ids], vectors)
        store.query(vectors[:1], 3)  # interleave reads with the other writers' upserts


def check_concurrent_thread_writers(factory: StoreFactory, threads: int = 4, per_thread: int = 25) -> None:
    """Several threads upserting distinct ids into one store object lose nothing."""
    with _fresh(factory, "conf-threads") as store:
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
    with _fresh(factory, "conf-processes") as store:
        with _spawn_pool(processes) as pool:
            futures = [
                pool.submit(_child_write, factory, "conf-processes", f"p{p}", per_process)
                for p in range(processes)
            ]
            assert [f.result(CHILD_TIMEOUT_S) for f in futures] == [per_process] * processes
        expected = {f"p{p}-{i}" for p in range(processes) for i in range(per_process)}
        assert store.count() == len(expected)
        assert {item.id for item in store.get()} == expected


#: Checks every store must pass, in one process.
IN_PROCESS_CHECKS: tuple[Callable[[StoreFactory], None], ...] = (
    check_upsert_and_get,
    check_query_order_and_scores,
    check_where_filters,
    check_get_with_vectors,
    check_delete_and_count,
    check_replace_same_id,
    check_rejects_bad_input,
    check_close_is_idempotent,
    check_concurrent_thread_writers,
)
#: For stores that persist: survive close/reopen and a new process.
PERSISTENCE_CHECKS: tuple[Callable[[StoreFactory], None], ...] = (
    check_reopen_round_trip,
    check_persistence_in_new_process,
)
ALL_CHECKS = (*IN_PROCESS_CHECKS, *PERSISTENCE_CHECKS, check_concurrent_process_writers)


def run_vector_store_suite(
    factory: StoreFactory, *, persistent: bool = True, multiprocess_writers: bool = False
) -> None:
    """Run the in-process checks, plus persistence (``persistent``) and several writer processes
    (``multiprocess_writers``, for backends made for sharing, such as a server)."""
    checks = list(IN_PROCESS_CHECKS)
    if persistent:
        checks += PERSISTENCE_CHECKS
    if multiprocess_writers:
        checks.append(check_concurrent_process_writers)
    for check in checks:
        check(factory)
