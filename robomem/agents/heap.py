"""Keeps Python's cyclic garbage collector out of the agent's steps.

A run holds a large, long-lived heap (the site's spatial graph, pinned long-term partitions, the models'
sessions): a full (generation-2) collection walks all of it and stopped the whole process for 50 ms of CPU
(0.1-0.4 s of wall time on a busy machine) on whichever step it happened to fall (``bench.step_overhead``,
1e5 + 1e5). :class:`HeapKeeper` moves that work to the episode boundaries instead, where the agent waits for
consolidation anyway: the heap that survived an episode is frozen (``gc.freeze``: the collector no longer
walks it, so a step's collections walk only the step's new objects), and once the frozen heap has grown by a
quarter since the last full collection — the rule CPython itself uses to schedule full collections — it is
unfrozen and collected in full between two episodes. Cycles that became garbage while frozen are reclaimed
then, so memory stays bounded as with the default collector; objects without cycles are freed by reference
counting as always. The collector is process-wide: in a process that runs several agents on threads, one
agent's full collection may still land on another's step.
"""

from __future__ import annotations

import gc
import threading

__all__ = ("HeapKeeper",)

#: Full collection once the frozen heap has grown by this fraction (CPython: long-lived pending > 25%).
GROWTH = 0.25


class HeapKeeper:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: Objects frozen by the last full collection.
        self._baseline = 0

    def collect(self) -> None:
        """A full collection now (the run starts: memory is open), then everything left is frozen."""
        with self._lock:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._baseline = gc.get_freeze_count()

    def episode_ended(self) -> None:
        """Between two episodes: the young generations are collected (cheap: only what is new), the rest
        is frozen; a full collection when the frozen heap has grown past :data:`GROWTH`."""
        with self._lock:
            gc.collect(1)
            gc.freeze()
            due = gc.get_freeze_count() > (1 + GROWTH) * self._baseline
        if due:
            self.collect()

    def release(self) -> None:
        """The run is over: the frozen heap goes back to the collector (what the run leaves is garbage)."""
        with self._lock:
            gc.unfreeze()
            self._baseline = 0
