"""Parallel evaluation (``eval.workers``): real worker processes and threads running the offline RoboMemory
agent on the household simulator; a real ``robomem eval`` process group SIGKILLed mid-run, then resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from envs.task import Task
from robomem.cli.main import main
from robomem.eval.harness import PlannedEpisode, number_episodes
from robomem.eval.parallel import _check_workers_file, deal
from tests.robomem.agents import resume_helpers as rh

#: Offline and light: the full agent, all four stores, hashed embeddings and the exact vector store.
LIGHT = ("agent.memory.embedder.type=hashing", "agent.memory.vector.type=exact", "env.max_steps=15")
EPISODIC = ("--subset", "base", "--subset", "spatial", "--subset", "common_sense", "--episodes", "3")


def _eval(run_dir: Path, *args: str) -> None:
    assert main(["eval", "--no-progress", "--run-dir", str(run_dir), *LIGHT, *args]) == 0


def _task(task_id: str, subset: str = "base") -> Task:
    return Task(
        task_id=task_id, instruction=task_id, subset=subset, scene="s", profile="alfred", task_type="t"
    )


def test_lifelong_sequences_stay_whole_and_in_order_on_one_worker() -> None:
    plan = tuple(
        PlannedEpisode(task=_task(f"{seq}{pos}"), subset="base", sequence_id=seq, sequence_position=pos)
        for seq in ("a", "b", "c")
        for pos in (1, 2, 3)
    )
    lanes = deal(number_episodes(plan), 2)
    assert lanes == [(0, 1, 2, 6, 7, 8), (3, 4, 5)]
    episodic = tuple(PlannedEpisode(task=_task(str(i)), subset="base") for i in range(5))
    assert deal(number_episodes(episodic), 8) == [(0,), (1,), (2,), (3,), (4,)]
    assert deal(number_episodes(episodic), 2) == [(0, 2, 4), (1, 3)]  # equal units: round-robin


def _sequences(*lengths: int) -> tuple[PlannedEpisode, ...]:
    return tuple(
        PlannedEpisode(task=_task(f"{seq}{pos}"), subset="base", sequence_id=str(seq), sequence_position=pos)
        for seq, length in enumerate(lengths)
        for pos in range(1, length + 1)
    )


def test_the_longest_sequences_are_dealt_first_to_the_least_loaded_worker(tmp_path: Path) -> None:
    # Round-robin gave worker 1 sequences 0 and 2 (5 episodes) and worker 2 sequence 1 (1): worker 2 then
    # sat idle for most of the run. Longest first: 4 against 2.
    numbered = number_episodes(_sequences(1, 1, 4))
    assert deal(numbered, 2) == [(2, 3, 4, 5), (0, 1)]
    assert deal(numbered, 2, longest_first=False) == [(0, 2, 3, 4, 5), (1,)]
    assert deal(number_episodes(_sequences(3, 5, 2, 4)), 2) == [
        (3, 4, 5, 6, 7, 8, 9),
        (0, 1, 2, 10, 11, 12, 13),
    ]
    # A run begun round-robin (its workers.json names no deal) resumes round-robin: its workers' checkpoints
    # and memory are where that deal put them.
    (tmp_path / "workers.json").write_text('{"workers": 2}', encoding="utf-8")
    assert _check_workers_file(tmp_path, 2, resume=True) is False
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert _check_workers_file(fresh, 2, resume=False) is True
    assert _check_workers_file(fresh, 2, resume=True) is True


_START_METHODS = """
import sys, threading, types
from robomem.eval.parallel import _process_context

print(_process_context().get_start_method())
release = threading.Event()
server = threading.Thread(target=release.wait)  # e.g. a benchmark's LLM server
server.start()
print(_process_context().get_start_method())
release.set()
server.join()
print(_process_context().get_start_method())
sys.modules["onnxruntime"] = types.ModuleType("onnxruntime")  # as if the parent had loaded it
print(_process_context().get_start_method())
"""


def test_worker_processes_fork_from_the_evaluating_process_unless_threads_run() -> None:
    # A fork server imports robomem again before the first worker starts (seconds of serial start-up, a
    # tenth of the offline demo's 2-worker run); a forked worker starts with the parent's imports at once.
    # Fork is for a parent without other threads only: Python's, or those of a loaded Chroma / onnxruntime.
    # In a fresh interpreter: this one's threads and imports depend on the tests run before.
    done = subprocess.run(
        [sys.executable, "-c", _START_METHODS], capture_output=True, text=True, timeout=rh.PROCESS_TIMEOUT_S
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["fork", "forkserver", "fork", "forkserver"]


_LIVE_BAR_RUN = """
import io, json, sys
from pathlib import Path

from envs.registry import ENVS
from robomem.agents import AGENTS
from robomem.config import load_config
from robomem.eval import parallel
from robomem.eval._progress import RunProgress
from robomem.eval.harness import evaluate

chosen = []
choose = parallel._process_context


def spy():
    ctx = choose()
    chosen.append(ctx.get_start_method())
    return ctx


parallel._process_context = spy


class Terminal(io.StringIO):
    def isatty(self):
        return True


run_dir = Path(sys.argv[1])
cfg = load_config(None, [*json.loads(sys.argv[2]), f"run.dir={json.dumps(str(run_dir))}"])
bar = RunProgress(2, stream=Terminal(), refresh_s=0.001)  # redrawn by its own thread, as on a terminal
with ENVS.build(cfg.env) as env:
    summary = evaluate(cfg, env, AGENTS.build(cfg.agent), run_dir, progress=bar)
print(summary.overall.n, *chosen)
"""


def test_workers_fork_while_the_progress_line_is_redrawn_on_a_terminal(tmp_path: Path) -> None:
    # On a terminal the progress line has a thread of its own, which made every run typed by a user start
    # its workers from a fork server; the thread pauses while the workers fork.
    overrides = [*LIGHT, 'eval.subsets=["base"]', "eval.episodes=2", "eval.workers=2"]
    done = subprocess.run(
        [sys.executable, "-c", _LIVE_BAR_RUN, str(tmp_path / "run"), json.dumps(overrides)],
        capture_output=True,
        text=True,
        timeout=rh.PROCESS_TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["2", "fork"]


@pytest.mark.parametrize("executor", ["processes", "threads"])
def test_a_parallel_run_equals_the_sequential_run_episode_for_episode(tmp_path: Path, executor: str) -> None:
    # Episodic mode, each worker with its own memory: the offline agent's episodes do not depend on what
    # other episodes taught, so every result and step file must be the sequential run's.
    _eval(tmp_path / "seq", *EPISODIC)
    _eval(tmp_path / "par", *EPISODIC, "--workers", "3", f"eval.executor={executor}")
    sequential, parallel = rh.results(tmp_path / "seq"), rh.results(tmp_path / "par")
    assert len([k for k in sequential if "final_res" in k]) == 9
    assert parallel == sequential, rh.first_difference(parallel, sequential)
    assert json.loads((tmp_path / "par" / "workers.json").read_text(encoding="utf-8")) == {
        "workers": 3,
        "deal": "longest_first",
    }
    for k in (1, 2, 3):  # each worker wrote its three episodes to its own memory, once
        logged = (tmp_path / "par" / "workers" / str(k) / "memory" / "episodes.jsonl").read_text()
        assert len(logged.splitlines()) == 3


def test_resume_with_another_worker_count_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    _eval(run, "--subset", "base", "--episodes", "2", "--workers", "2", "eval.executor=threads")
    config = (run / "config.yaml").read_bytes()
    assert main(["eval", "--resume", str(run), "--no-progress", "eval.workers=3"]) == 2
    assert "was run with 2 worker(s); resume it with eval.workers=2" in capsys.readouterr().err
    # Nor one after another: its checkpoints and memory are in the workers' folders.
    assert main(["eval", "--resume", str(run), "--no-progress", "eval.workers=1"]) == 2
    assert "was run with 2 worker(s); resume it with eval.workers=2" in capsys.readouterr().err
    # A refused resume changes nothing: the run's config still says how to resume it.
    assert (run / "config.yaml").read_bytes() == config and not (run / "config.part1.yaml").exists()
    sequential = tmp_path / "seq"
    _eval(sequential, "--subset", "base", "--episodes", "2")
    assert main(["eval", "--resume", str(sequential), "--no-progress", "eval.workers=2"]) == 2
    assert "was run with 1 worker(s); resume it with eval.workers=1" in capsys.readouterr().err


def _command(run_dir: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "robomem",
        "eval",
        "--no-progress",
        "--run-dir",
        str(run_dir),
        f"run.id={run_dir.name}",  # the killed run's memory is compared with the reference run's
        *LIGHT,
        *args,
    ]


def _finished(run_dir: Path) -> int:
    return len(list(run_dir.glob("*/results/episode_*_final_res.json")))


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=rh.PROCESS_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-2000:]


LIFELONG = (
    "--config",
    str(Path(__file__).resolve().parents[3] / "configs" / "lifelong.yaml"),
    "--episodes",
    "3",
    "eval.lifelong_repeats=1",
)


def test_a_parallel_lifelong_run_equals_the_sequential_run(tmp_path: Path) -> None:
    # Three sequences of ten tasks, each whole and in order on one worker; its house persists there.
    _eval(tmp_path / "seq", *LIFELONG)
    _eval(tmp_path / "par", *LIFELONG, "--workers", "2")
    sequential, parallel = rh.results(tmp_path / "seq"), rh.results(tmp_path / "par")
    assert len([k for k in sequential if "final_res" in k]) == 30
    assert parallel == sequential, rh.first_difference(parallel, sequential)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "episodes", "per_worker"),
    [
        (("--subset", "base", "--subset", "spatial", "--episodes", "8"), 16, (8, 8)),
        (LIFELONG, 30, (20, 10)),  # sequences 1 and 3 on worker 1, 2 on worker 2
    ],
    ids=["episodic", "lifelong"],
)
def test_kill_9_of_a_parallel_run_then_resume_completes_every_episode_once(
    tmp_path: Path, args: tuple[str, ...], episodes: int, per_worker: tuple[int, int]
) -> None:
    args = (*args, "--workers", "2")
    # The same folder name: episode ids in memory start with it.
    reference, killed = tmp_path / "reference" / "run", tmp_path / "killed" / "run"
    _run(_command(reference, *args))
    # Its own session, so the kill takes the parent, the fork server and both workers at once.
    process = subprocess.Popen(
        _command(killed, *args), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + rh.PROCESS_TIMEOUT_S
        while _finished(killed) < 3 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    interrupted_at = _finished(killed)
    assert 3 <= interrupted_at < episodes, interrupted_at  # killed mid-run, not before or after it
    _run([sys.executable, "-m", "robomem", "eval", "--resume", str(killed), "--no-progress"])
    assert rh.results(killed) == rh.results(reference), rh.first_difference(
        rh.results(killed), rh.results(reference)
    )
    for k in (1, 2):  # every episode in its worker's memory once, as in the uninterrupted run
        mine = rh.memory(killed / "workers" / str(k) / "memory")
        theirs = rh.memory(reference / "workers" / str(k) / "memory")
        assert mine == theirs, f"worker {k}: {rh.first_difference(mine, theirs)}"
        assert mine["leftovers"] == []
        ids = [
            json.loads(line)["episode_id"]
            for line in (killed / "workers" / str(k) / "memory" / "episodes.jsonl").read_text().splitlines()
        ]
        assert len(ids) == len(set(ids)) == per_worker[k - 1]
