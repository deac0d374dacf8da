"""Random ``kill -9``: real ``robomem eval`` processes are SIGKILLed again and again at seeded points, each
time resumed with ``--resume``, until the run finishes; then its result files *and its memory* (spatial
graph and history, episodic and semantic items with their counts and episode lists, raw and archive logs,
leftover per-episode files) must equal those of an uninterrupted run.

A kill point is "the n-th LLM request of this process" (any role, or only the roles of an episode's
consolidation), killed on arrival — the process waits for the reply, mid-perception, mid-update or
mid-consolidation — or a few milliseconds after it, so the kill lands between file and checkpoint writes.
The seed fixes every n and delay; which store's request is the n-th can vary with thread scheduling (the
four stores work in parallel), what is checked never does. Three runs share the kills: episodic mode in a
folder whose name has a comma, lifelong mode (the house persists, finished episodes are fast-forwarded),
and stores consolidating one after another (``memory.parallel=false``, no background consolidation)."""

from __future__ import annotations

import random
import signal
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from robomem.testing.scripted_llm import ScriptedLLMServer
from tests.robomem.agents import resume_helpers as rh

pytestmark = pytest.mark.slow

SEED = 20250110
LIFELONG = str(Path(__file__).resolve().parents[3] / "configs" / "lifelong.yaml")


@dataclass(frozen=True)
class Scenario:
    name: str
    folder: str
    args: tuple[str, ...]
    kills: int


SCENARIOS = (
    Scenario("episodic", "run,1", ("--subset", "base", "--episodes", "3", "env.max_steps=12"), kills=10),
    Scenario(
        "lifelong",
        "life",
        ("--config", LIFELONG, "--episodes", "1", "eval.lifelong_repeats=1", "env.max_steps=12"),
        kills=16,
    ),
    Scenario(
        "serial",
        "serial",
        ("--subset", "common_sense", "--episodes", "3", "env.max_steps=12", "agent.memory.parallel=false"),
        kills=8,
    ),
)


@pytest.fixture(scope="module")
def llm() -> Iterator[tuple[ScriptedLLMServer, rh.KillSwitch]]:
    switch = rh.KillSwitch()
    with ScriptedLLMServer(default_reply=switch.reply) as server:
        yield server, switch


def _trigger(rng: random.Random, gap: int) -> rh.Trigger:
    kind = rng.random()
    if kind < 0.3:  # during an episode's consolidation
        return rh.Trigger(
            nth=rng.randint(1, 3), roles=rh.CONSOLIDATION_ROLES, delay_s=rng.choice((0.0, 0.005))
        )
    delay = 0.0 if kind < 0.65 else rng.uniform(0.001, 0.03)
    return rh.Trigger(nth=rng.randint(1, gap), delay_s=delay)


def _kill_and_resume(
    scenario: Scenario, root: Path, server: ScriptedLLMServer, switch: rh.KillSwitch
) -> tuple[Path, Path, Counter[str]]:
    reference = root / "reference" / scenario.folder
    before = sum(switch.roles.values())
    rh.run(rh.eval_command(reference, server.base_url, *scenario.args), switch)
    requests = sum(switch.roles.values()) - before
    # Kills are spread over the run: each process gets at most a share of the requests it makes.
    gap = max(2, requests // (2 * scenario.kills))
    rng = random.Random(f"{SEED}:{scenario.name}")
    killed = root / "killed" / scenario.folder
    command = rh.eval_command(killed, server.base_url, *scenario.args)
    fired_on: Counter[str] = Counter()
    for _ in range(scenario.kills):
        code = rh.run(command, switch, _trigger(rng, gap))
        if not switch.fired:
            break  # the run finished before this kill point
        assert code == -signal.SIGKILL
        fired_on[switch.fired_role] += 1
        command = rh.resume_command(killed)
    rh.run(command, switch)
    return reference, killed, fired_on


def test_random_kills_then_resume_leave_the_memory_of_an_uninterrupted_run(
    tmp_path: Path, llm: tuple[ScriptedLLMServer, rh.KillSwitch]
) -> None:
    fired_on: Counter[str] = Counter()
    for scenario in SCENARIOS:
        reference, killed, kills = _kill_and_resume(scenario, tmp_path / scenario.name, *llm)
        fired_on += kills
        assert rh.results(killed) == rh.results(reference), scenario.name
        mine, theirs = rh.memory(killed / "memory"), rh.memory(reference / "memory")
        assert mine == theirs, f"{scenario.name}: {rh.first_difference(mine, theirs)}"
        assert mine["leftovers"] == []
        # The step trace neither repeats nor loses a step, and only the unfinished episode kept checkpoints.
        mine_trace, their_trace = rh.traces(killed), rh.traces(reference)
        assert mine_trace == their_trace, f"{scenario.name}: {rh.first_difference(mine_trace, their_trace)}"
        assert len(rh.traces(reference)) == len(list(reference.glob("*/steps/*.json"))) > 0
        # Every episode is saved: every trace is gzipped, the resumed run's too.
        for run in (killed, reference):
            assert not list(run.glob("*/trace/*.jsonl")), scenario.name
        assert rh.checkpoint_threads(killed) == rh.checkpoint_threads(reference) == []
    assert sum(fired_on.values()) >= 30, fired_on
    assert sum(fired_on[role] for role in rh.CONSOLIDATION_ROLES) >= 5, fired_on
