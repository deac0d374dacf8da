"""An episode's long-term decisions are independent (each is judged against the store before any is applied),
so they run at the same time: model calls overlap; consolidation costs one decision latency."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from modules.hippocampus.longterm import Candidate, Decision, decide_all
from robomem.stores.base import VectorHit


class _MeetingDecider:
    """Each decision waits until all of them are being made at once; one after another, the barrier breaks."""

    def __init__(self, parties: int) -> None:
        self.barrier = threading.Barrier(parties, timeout=10.0)

    def decide(self, candidate: Candidate, similar: Sequence[VectorHit]) -> Decision:
        self.barrier.wait()
        return Decision("ADD", reason=candidate.text)


def test_decisions_run_together_and_come_back_in_order() -> None:
    candidates = [Candidate(f"lesson {i}", {}) for i in range(3)]
    decisions = decide_all(_MeetingDecider(3), [(c, []) for c in candidates])
    assert [d.reason for d in decisions] == ["lesson 0", "lesson 1", "lesson 2"]


def test_a_retraction_with_nothing_stored_is_still_settled_without_asking() -> None:
    retract = Candidate("retract failure", {"retract": True}, key="k")
    (decision,) = decide_all(_MeetingDecider(2), [(retract, [])])  # would wait for a partner if asked
    assert decision.op == "NOOP"
