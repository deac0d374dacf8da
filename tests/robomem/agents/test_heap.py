"""The heap keeper: what survives an episode is frozen (the collector's full collections stay out of the
steps), a frozen heap grown by a quarter is collected in full between episodes (garbage cycles frozen on the
way are reclaimed: memory stays bounded), and the run's end gives everything back to the collector."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from envs.registry import ENVS
from robomem.agents.heap import GROWTH, HeapKeeper
from robomem.agents.robomemory import RoboMemoryAgent
from robomem.agents.robomemory_config import RoboMemoryAgentConfig
from robomem.config import load_config
from robomem.eval.harness import evaluate


class _Node:
    """A reference cycle: freed only by the cyclic collector."""

    def __init__(self) -> None:
        self.me = self


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_the_survivors_of_an_episode_are_frozen_and_a_grown_heap_is_collected_in_full() -> None:
    keeper = HeapKeeper()
    keeper.collect()
    baseline = gc.get_freeze_count()
    assert baseline > 0
    kept = [_Node() for _ in range(10)]
    dead = weakref.ref(kept[0])
    keeper.episode_ended()
    assert gc.get_freeze_count() >= baseline + 10
    del kept  # a garbage cycle now, but frozen: an ordinary collection does not see it
    gc.collect()
    assert dead() is not None
    # The heap grows by more than a quarter: the keeper collects in full, and the frozen garbage goes.
    grown = [[i] for i in range(int(baseline * GROWTH) + 100)]
    keeper.episode_ended()
    assert dead() is None
    assert gc.get_freeze_count() >= len(grown)
    keeper.release()
    assert gc.get_freeze_count() == 0


def test_a_young_garbage_cycle_is_collected_before_freezing() -> None:
    keeper = HeapKeeper()
    keeper.collect()
    node = _Node()
    dead = weakref.ref(node)
    del node
    keeper.episode_ended()
    assert dead() is None, "an episode's garbage is not frozen"
    keeper.release()


@pytest.mark.parametrize("freeze", [True, False])
def test_the_agent_freezes_the_heap_during_a_run_only(tmp_path: Path, freeze: bool) -> None:
    cfg = load_config(
        None, ["agent.type=robomem", "eval.subsets=[base]", "eval.episodes=1", f"agent.freeze_heap={freeze}"]
    )
    assert isinstance(cfg.agent, RoboMemoryAgentConfig)
    frozen: list[int] = []

    class Watching(RoboMemoryAgent):
        def end_run(self) -> None:
            frozen.append(gc.get_freeze_count())
            super().end_run()

    agent = Watching(cfg.agent)
    with ENVS.build(cfg.env) as env:
        evaluate(cfg, env, agent, tmp_path / "run", progress=False)
    assert (frozen[0] > 0) is freeze
    assert gc.get_freeze_count() == 0, "the run's end gives the heap back to the collector"
