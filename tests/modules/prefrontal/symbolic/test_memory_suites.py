"""The offline agent on the memory suites, through the guarded env (it never reads simulator state): with
spatial memory it does the scored tasks within their tight budgets; without memory it cannot (it has to
search, as the suite's memoryless figures predict)."""

from __future__ import annotations

from pathlib import Path

import pytest

from envs.household.suites import load_suite
from modules.prefrontal.critic import DeterministicCritic
from modules.prefrontal.symbolic import SymbolicPlanner
from tests.modules.prefrontal.symbolic.loop import fast_memory, run_sequence


@pytest.mark.parametrize(
    ("profile", "kind", "number", "without"),
    [
        ("alfred", "recall", 1, ()),
        ("habitat", "moved", 1, ()),
        # Each scored lesson task follows a re-staging: only semantic memory knows where the house keeps it.
        ("alfred", "lesson", 2, ("temporal", "spatial", "episodic")),
        ("habitat", "lesson", 1, ("temporal", "spatial", "episodic")),
    ],
)
def test_memory_does_the_scored_tasks_in_budget_and_no_memory_does_not(
    profile: str, kind: str, number: int, without: tuple[str, ...], tmp_path: Path
) -> None:
    suite = load_suite("memory_v2", profile)
    sequence = next(s for s in suite.lifelong if s.sequence_id == f"{profile}-{kind}-{number:02d}")
    scored = [t.task_id for t in sequence.tasks if t.subset == kind]
    planner, critic = SymbolicPlanner(), DeterministicCritic()
    full = run_sequence(profile, sequence, tmp_path / "full", planner, critic, suite="memory_v2")
    assert all(r.success for r in full), [(r.task.task_id, r.steps) for r in full if not r.success]
    assert all(r.steps <= (r.task.max_steps or 0) for r in full if r.task.task_id in scored)
    blind = run_sequence(
        profile,
        sequence,
        tmp_path / "blind",
        planner,
        critic,
        memory_config=fast_memory(without),
        suite="memory_v2",
    )
    assert sum(r.success for r in blind if r.task.task_id in scored) < len(scored) / 2


@pytest.mark.parametrize(("profile", "number"), [("alfred", 1), ("habitat", 1)])
def test_putting_back_needs_episodic_memory(profile: str, number: int, tmp_path: Path) -> None:
    # "Put the red mug back where it was before you used it": only the trajectory of the episode that used
    # it tells where (memory_v3's return subset), read from episodic memory's retrieved episodes.
    suite = load_suite("memory_v3", profile)
    sequence = next(s for s in suite.lifelong if s.sequence_id == f"{profile}-return-{number:02d}")
    scored = [t.task_id for t in sequence.tasks if t.subset == "return"]
    planner, critic = SymbolicPlanner(), DeterministicCritic()
    full = run_sequence(profile, sequence, tmp_path / "full", planner, critic, suite="memory_v3")
    assert all(r.success for r in full), [(r.task.task_id, r.steps) for r in full if not r.success]
    assert all(r.steps <= (r.task.max_steps or 0) for r in full if r.task.task_id in scored)
    without = fast_memory(("temporal", "spatial", "semantic"))
    blind = run_sequence(
        profile, sequence, tmp_path / "blind", planner, critic, memory_config=without, suite="memory_v3"
    )
    assert not any(r.success for r in blind if r.task.task_id in scored)
    assert all(r.success for r in blind if r.task.task_id not in scored)  # the uses need no episodic memory


def test_exploring_for_a_described_receptacle_does_not_go_back_and_forth(tmp_path: Path) -> None:
    # Without memory the agent forgets a room's row once it leaves it; it used to shuttle between the first
    # two cabinets it had seen, for good. Now unvisited candidates come first, and it finds the right one.
    suite = load_suite("memory_v1", "habitat")
    sequence = next(s for s in suite.lifelong if s.sequence_id == "habitat-recall-01")
    setup = next(t for t in sequence.tasks if "the cabinet to the left of the shelf" in t.instruction)
    one = sequence.model_copy(update={"tasks": (setup,)})
    runs = run_sequence("habitat", one, tmp_path, SymbolicPlanner(), None, memory_config=fast_memory(()))
    assert runs[0].success, [a.action for a in runs[0].actions]


@pytest.mark.parametrize(("profile", "number"), [("alfred", 1), ("habitat", 2)])
def test_the_critic_vetoes_what_memory_says_will_fail(profile: str, number: int, tmp_path: Path) -> None:
    # memory_v4's jammed subset: setups try the room's jammed drawers (and fail, by design); the scored
    # tasks put things away in "a drawer". The planner never reads those failures: the critic, reading
    # episodic memory's retrieved trajectories, vetoes the jammed ones before a step is spent on them.
    suite = load_suite("memory_v4", profile)
    sequence = next(s for s in suite.lifelong if s.sequence_id == f"{profile}-jammed-{number:02d}")
    scored = [t.task_id for t in sequence.tasks if t.subset == "jammed"]
    planner = SymbolicPlanner()
    full = run_sequence(
        profile, sequence, tmp_path / "full", planner, DeterministicCritic(), suite="memory_v4"
    )
    done = {r.task.task_id: r for r in full}
    assert all(done[t].success and done[t].steps <= (done[t].task.max_steps or 0) for t in scored), [
        (t, done[t].steps, [a.action for a in done[t].actions]) for t in scored
    ]
    assert not any(r.success for r in full if r.task.task_id not in scored)  # a jammed setup cannot succeed
    assert all(r.invalid == 0 for r in full if r.task.task_id in scored)  # no failed open at all
    blind = run_sequence(profile, sequence, tmp_path / "blind", planner, None, suite="memory_v4")
    failed_opens = [a.action for r in blind if r.task.task_id in scored for a in r.actions if not a.success]
    assert failed_opens and all(a.startswith("open ") for a in failed_opens)
    assert sum(r.steps for r in blind if r.task.task_id in scored) > sum(done[t].steps for t in scored)
