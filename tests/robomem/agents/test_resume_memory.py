"""An interrupted run, resumed, must leave the *memory* an uninterrupted run leaves — not only the same result
files. One test per way it went wrong (issue #10, items 3-6): each interrupts a real ``robomem eval`` process
at a precise point (a SIGKILL or an HTTP 500 on a chosen LLM request, see :mod:`resume_helpers`), resumes it
with ``--resume``, and compares every store with the reference run's."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from robomem.testing.scripted_llm import ScriptedLLMServer
from tests.robomem.agents import resume_helpers as rh

EPISODES = ("--subset", "base", "--episodes", "2", "env.max_steps=12")


@pytest.fixture(scope="module")
def llm() -> Iterator[tuple[ScriptedLLMServer, rh.KillSwitch]]:
    switch = rh.KillSwitch()
    with ScriptedLLMServer(default_reply=switch.reply) as server:
        yield server, switch


def _reference(root: Path, name: str, server: ScriptedLLMServer, switch: rh.KillSwitch, *extra: str) -> Path:
    # Same folder name as the interrupted run: the name is part of every episode id in memory.
    run_dir = root / "reference" / name
    rh.run(rh.eval_command(run_dir, server.base_url, *EPISODES, *extra), switch)
    return run_dir


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, llm: tuple[ScriptedLLMServer, rh.KillSwitch]) -> Path:
    """The uninterrupted run the tests with the default settings compare with."""
    return _reference(tmp_path_factory.mktemp("shared"), "run", *llm)


def _interrupt_and_resume(
    root: Path, name: str, server: ScriptedLLMServer, switch: rh.KillSwitch, trigger: rh.Trigger, *extra: str
) -> Path:
    run_dir = root / "interrupted" / name
    code = rh.run(rh.eval_command(run_dir, server.base_url, *EPISODES, *extra), switch, trigger)
    assert switch.fired, "the interruption point was never reached"
    assert code == (2 if trigger.fail else -signal.SIGKILL)
    assert not (run_dir / "summary.json").exists()
    rh.run(rh.resume_command(run_dir), switch)
    return run_dir


def _assert_same(resumed: Path, reference: Path) -> None:
    assert rh.results(resumed) == rh.results(reference)
    mine, theirs = rh.memory(resumed / "memory"), rh.memory(reference / "memory")
    assert mine == theirs, rh.first_difference(mine, theirs)


def _steps(run_dir: Path, n: int) -> int:
    return len(json.loads((run_dir / "base" / "steps" / f"episode_{n}_steps.json").read_text()))


def test_a_kill_during_consolidation_keeps_the_episodes_lessons(
    tmp_path: Path, llm: tuple[ScriptedLLMServer, rh.KillSwitch], reference: Path
) -> None:
    # Item 3: the lesson-creation request comes right after the semantic store used to clear its buffer.
    server, switch = llm
    assert rh.memory(reference / "memory")["semantic"], "the episodes teach lessons"
    trigger = rh.Trigger(nth=1, roles=frozenset({"memory.lessons"}))
    _assert_same(_interrupt_and_resume(tmp_path, "run", server, switch, trigger), reference)


def test_a_kill_after_the_last_action_still_applies_its_memory_update(
    tmp_path: Path, llm: tuple[ScriptedLLMServer, rh.KillSwitch], reference: Path
) -> None:
    # Item 4: the thalamus is asked about step 0 and then after every action; the request after episode 1's
    # last action comes after its checkpoint says `done` and before that step reaches memory.
    server, switch = llm
    last = _steps(reference, 1)
    trigger = rh.Trigger(nth=last + 1, roles=frozenset({"thalamus.summary"}))
    resumed = _interrupt_and_resume(tmp_path, "run", server, switch, trigger)
    # The last action put the egg down: the graph knows where it now is.
    edges = rh.memory(resumed / "memory")["spatial"]["edges"]
    assert set(rh.memory(reference / "memory")["spatial"]["edges"]) - set(edges) == set()
    _assert_same(resumed, reference)


def test_an_llm_error_mid_episode_leaves_no_partial_episode_in_memory(
    tmp_path: Path, llm: tuple[ScriptedLLMServer, rh.KillSwitch], reference: Path
) -> None:
    # Item 5: an HTTP 500 on the thalamus request of episode 2's third step stops the run (no retries).
    server, switch = llm
    trigger = rh.Trigger(nth=_steps(reference, 1) + 1 + 3, roles=frozenset({"thalamus.summary"}), fail=True)
    resumed = _interrupt_and_resume(tmp_path, "run", server, switch, trigger)
    keys = [item["metadata"]["key"] for item in rh.memory(resumed / "memory")["episodic"]]
    assert not [k for k in keys if k.startswith("episode:fail:")]
    _assert_same(resumed, reference)


def test_a_run_folder_with_a_comma_resumes_without_counting_an_episode_twice(
    tmp_path: Path, llm: tuple[ScriptedLLMServer, rh.KillSwitch]
) -> None:
    # Item 6: stores consolidate one after another, so a kill on the first lesson request lands after
    # episodic memory has written episode 1; the resumed process must recognise it as written.
    server, switch = llm
    name, serial = "run,with comma", "agent.memory.parallel=false"
    reference = _reference(tmp_path, name, server, switch, serial)
    trigger = rh.Trigger(nth=1, roles=frozenset({"memory.lessons"}))
    resumed = _interrupt_and_resume(tmp_path, name, server, switch, trigger, serial)
    counts = [item["metadata"]["count"] for item in rh.memory(resumed / "memory")["episodic"]]
    assert counts == [1, 1]
    _assert_same(resumed, reference)
