"""The offline agent on the memory suites, through the guarded env (it never reads simulator state): with
spatial memory it does the scored tasks within their tight budgets; without memory it cannot (it has to
search, as the suite's memoryless figures predict)."""

from __future__ import annotations

from pathlib import Path

import pytest

from envs.household.suites import load_suite
from modules.prefrontal.critic import DeterministicCritic
from modules.prefrontal.symbolic import SymbolicPlanner
from tests.modules.prefrontal.loop import fast_memory, run_sequence


@pytest.mark.parametrize(("profile", "kind"), [("alfred", "recall"), ("habitat", "moved")])
def test_memory_does_the_scored_tasks_in_budget_and_no_memory_does_not(
    profile: str, kind: str, tmp_path: Path
) -> None:
    suite = load_suite("memory_v1", profile)
    sequence = next(s for s in suite.lifelong if s.sequence_id == f"{profile}-{kind}-01")
    scored = [t.task_id for t in sequence.tasks if t.subset == kind]
    planner, critic = SymbolicPlanner(), DeterministicCritic()
    full = run_sequence(profile, sequence, tmp_path / "full", planner, critic)
    assert all(r.success for r in full), [(r.task.task_id, r.steps) for r in full if not r.success]
    assert all(r.steps <= (r.task.max_steps or 0) for r in full if r.task.task_id in scored)
    blind = run_sequence(
        profile, sequence, tmp_path / "blind", planner, critic, memory_config=fast_memory(())
    )
    assert sum(r.success for r in blind if r.task.task_id in scored) < len(scored) / 2


def test_exploring_for_a_described_receptacle_does_not_go_back_and_forth(tmp_path: Path) -> None:
    # Without memory the agent forgets a room's row once it leaves it; it used to shuttle between the first
    # two cabinets it had seen, for good. Now unvisited candidates come first, and it finds the right one.
    suite = load_suite("memory_v1", "habitat")
    sequence = next(s for s in suite.lifelong if s.sequence_id == "habitat-recall-01")
    setup = next(t for t in sequence.tasks if "the cabinet to the left of the shelf" in t.instruction)
    one = sequence.model_copy(update={"tasks": (setup,)})
    runs = run_sequence("habitat", one, tmp_path, SymbolicPlanner(), None, memory_config=fast_memory(()))
    assert runs[0].success, [a.action for a in runs[0].actions]
