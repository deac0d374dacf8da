"""The paper's locality claim, as counts: the edges an update touches stay flat while the site's graph grows
from ~100 to ~10,000 vertices (App. B2: "around 10 edges per iteration" while the total keeps growing)."""

from __future__ import annotations

import statistics
from pathlib import Path

from tests.modules.hippocampus.spatial.building import Building
from tests.modules.hippocampus.spatial.helpers import Driver, make_memory


def test_touched_edges_per_update_do_not_grow_with_the_graph(tmp_path: Path) -> None:
    memory = make_memory(tmp_path, max_nodes=50_000, forget_after_episodes=None)
    try:
        driver = Driver(memory, site="building")
        building = Building(seed=7)

        def probe() -> tuple[list[int], list[int], int]:
            """The same workload in a fresh room: enter, visit every place, carry three things around."""
            stats = list(building.tour(driver, building.new_room(), moves=3))
            recalled = [len(memory.retrieve([q]).data.beliefs) for q in ("mug", "where is the apple", "key")]
            return [s.touched for s in stats], recalled, len(memory.graph())

        for _ in building.tour(driver, building.new_room(), moves=0):
            pass
        small, small_recall, small_size = probe()
        while len(memory.graph()) < 10_000:
            for _ in building.tour(driver, building.new_room(), moves=0):
                pass
        large, large_recall, large_size = probe()
        assert small_size < 200 and large_size >= 10_000
        graph_edges = memory.graph().number_of_edges()
        # Flat, not growing: a global resolver would touch all ~12,000 edges at the large size.
        assert statistics.median(large) <= 1.25 * statistics.median(small) + 5, (small, large)
        assert max(large) <= 2 * max(small), (small, large)
        assert max(large) < graph_edges / 50
        assert max(large_recall) <= 2 * max(small_recall) + 10
        print(
            f"\ntouched/update: ~{small_size} nodes median {statistics.median(small)} max {max(small)}; "
            f"~{large_size} nodes median {statistics.median(large)} max {max(large)} (of {graph_edges} edges)"
        )
    finally:
        memory.close()
