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

import math
from collections.abc import Callable

import numpy as np

from robomem.errors import StoreError
from robomem.stores.base import VectorItem
from robomem.testing.conformance._support import (
    DIM,
    SCORE_TOL,
    RegistryStoreFactory,
    StoreFactory,
    assert_same_items,
    by_id,
    fresh_store,
    stack_at,
    unit_at,
)
from robomem.testing.conformance.vector_store_durability import (
    check_concurrent_process_writers,
    check_concurrent_thread_writers,
    check_persistence_in_new_process,
    check_reopen_round_trip,
)

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

# -- checks ---------------------------------------------------------------------------------------------

_ITEMS = (
    VectorItem("a", "apple in the fridge", {"room": "kitchen", "step": 3, "weight": 0.5, "done": False}),
    VectorItem("b", "café ☕ — ünïcode", {}),
    VectorItem("c", "", {"room": "hall"}),
)


def check_upsert_and_get(factory: StoreFactory) -> None:
    with fresh_store(factory, "conf-upsert") as store:
        store.upsert([], np.zeros((0, DIM), np.float32))
        assert store.count() == 0
        store.upsert(_ITEMS, stack_at([0, 40, 80]))
        assert store.count() == 3
        assert_same_items(store.get(["c", "a", "missing"]), [_ITEMS[2], _ITEMS[0]])
        assert_same_items(by_id(store.get()), list(_ITEMS))
        assert store.get([]) == []


def check_query_order_and_scores(factory: StoreFactory) -> None:
    with fresh_store(factory, "conf-query") as store:
        assert store.query(unit_at(0), 3) == [[]], "an empty store answers with no hits"
        angles = {"q75": 75, "q0": 0, "q45": 45, "q120": 120, "q15": 15, "q30": 30, "q60": 60}
        items = [VectorItem(i, f"text {i}") for i in angles]
        store.upsert(items, stack_at(list(angles.values())))
        by_angle = sorted(angles, key=lambda i: angles[i])

        [hits] = store.query(unit_at(0), 3)
        assert [h.item.id for h in hits] == by_angle[:3]
        for hit in hits:
            assert abs(hit.score - math.cos(math.radians(angles[hit.item.id]))) < SCORE_TOL, hit
            assert hit.item.text == f"text {hit.item.id}"
        [everything] = store.query(unit_at(0), 50)
        assert [h.item.id for h in everything] == by_angle, "k beyond the count returns every item"
        assert everything[-1].score < -0.4, "scores are cosine similarities, negative when opposed"
        scores = [h.score for h in everything]
        assert scores == sorted(scores, reverse=True)
        assert all(-1.0 <= s <= 1.0 for s in scores)

        near0, near120 = store.query(np.concatenate([unit_at(0), unit_at(120)]), 2)
        assert [h.item.id for h in near0] == ["q0", "q15"]
        assert [h.item.id for h in near120] == ["q120", "q75"]
        assert store.query(unit_at(0), 0) == [[]]
        assert store.query(np.zeros((0, DIM), np.float32), 3) == []


def check_where_filters(factory: StoreFactory) -> None:
    with fresh_store(factory, "conf-where") as store:
        specs: list[tuple[str, float, dict[str, str | int | float | bool]]] = [
            ("k1", 0, {"room": "kitchen", "kind": "action", "step": 1, "ok": True}),
            ("k2", 20, {"room": "kitchen", "kind": "observation", "step": 2, "ok": False}),
            ("h1", 10, {"room": "hall", "kind": "action", "step": 1, "ok": True}),
            ("k3", 30, {"room": "kitchen", "kind": "action", "step": 3, "ok": True}),
            ("n1", 5, {}),
        ]
        store.upsert([VectorItem(i, i, m) for i, _, m in specs], stack_at([a for _, a, _ in specs]))

        def ids(where: dict[str, str | int | float | bool], k: int = 10) -> list[str]:
            return [h.item.id for h in store.query(unit_at(0), k, where)[0]]

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
    with fresh_store(factory, "conf-vectors") as store:
        store.upsert(
            [VectorItem("v1", "one", {"room": "kitchen"}), VectorItem("v2", "two", {"room": "hall"})],
            np.concatenate([unit_at(0) * 3.0, unit_at(60)]),  # not unit length: stores normalise
        )
        try:
            items, vectors = store.get_with_vectors({"room": "kitchen"})
        except NotImplementedError:
            return
        assert_same_items(items, [VectorItem("v1", "one", {"room": "kitchen"})])
        assert np.allclose(vectors, unit_at(0), atol=SCORE_TOL), vectors
        items, vectors = store.get_with_vectors()
        assert sorted(i.id for i in items) == ["v1", "v2"]
        for item, vector in zip(items, vectors, strict=True):
            assert np.allclose(vector, unit_at(0 if item.id == "v1" else 60)[0], atol=SCORE_TOL), item
        items, vectors = store.get_with_vectors({"room": "garage"})
        assert items == []
        assert vectors.shape == (0, DIM)


def check_delete_and_count(factory: StoreFactory) -> None:
    with fresh_store(factory, "conf-delete") as store:
        names = [f"d{i}" for i in range(5)]
        store.upsert([VectorItem(n, n) for n in names], stack_at([0, 10, 20, 30, 40]))
        store.delete(["d0", "d3", "never-existed"])
        assert store.count() == 3
        assert store.get(["d0", "d3"]) == []
        assert [h.item.id for h in store.query(unit_at(0), 10)[0]] == ["d1", "d2", "d4"]
        store.delete([])
        assert store.count() == 3
        store.delete(["d1", "d2", "d4"])
        assert store.count() == 0
        assert store.get() == []
        assert store.query(unit_at(0), 5) == [[]]


def check_replace_same_id(factory: StoreFactory) -> None:
    with fresh_store(factory, "conf-replace") as store:
        store.upsert([VectorItem("r", "old", {"x": 1, "keep": "no"})], unit_at(0))
        store.upsert([VectorItem("r", "new", {"y": "z"})], unit_at(60))
        assert store.count() == 1
        assert_same_items(store.get(["r"]), [VectorItem("r", "new", {"y": "z"})])
        [[hit]] = store.query(unit_at(60), 5)
        assert hit.item.text == "new"
        assert abs(hit.score - 1.0) < SCORE_TOL
        [[hit]] = store.query(unit_at(0), 5)
        assert abs(hit.score - 0.5) < SCORE_TOL, "the old vector is gone"
        # A batch mixing replacements and new ids.
        store.upsert([VectorItem("s", "s"), VectorItem("r", "newer", {})], stack_at([10, 20]))
        assert store.count() == 2
        assert_same_items(store.get(["r", "s"]), [VectorItem("r", "newer"), VectorItem("s", "s")])


def check_rejects_bad_input(factory: StoreFactory) -> None:
    """Invalid input raises :class:`robomem.errors.StoreError` and stores nothing."""
    with fresh_store(factory, "conf-invalid") as store:
        bad: list[tuple[Callable[[], object], str]] = [
            (lambda: store.upsert([VectorItem("x", "x")], np.zeros((1, DIM + 1), np.float32)), "wrong dim"),
            (lambda: store.upsert([VectorItem("x", "x")], stack_at([0, 10])), "count mismatch"),
            (lambda: store.upsert([VectorItem("x", "x"), VectorItem("x", "y")], stack_at([0, 5])), "dup ids"),
            (lambda: store.upsert([VectorItem("x", "x", {"l": [1]})], unit_at(0)), "list metadata"),  # type: ignore[dict-item]
            (lambda: store.upsert([VectorItem("x", "x", {"n": None})], unit_at(0)), "None metadata"),  # type: ignore[dict-item]
            (lambda: store.upsert([VectorItem("", "x")], unit_at(0)), "empty id"),
            (lambda: store.query(np.zeros((1, DIM + 2), np.float32), 1), "query dim"),
            (lambda: store.query(unit_at(0), -1), "negative k"),
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
