"""The run's progress line: done/total, running SR, elapsed time and ETA, the current step of each running
episode; redrawn on a terminal (also by its own ticker while an episode is silent), plain periodic lines
elsewhere; safe to call from several worker threads. Times come from an injected clock, never measured."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

from robomem.eval._progress import RunProgress, format_duration


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_line_tells_sr_elapsed_eta_and_the_current_step() -> None:
    clock = _Clock()
    progress = RunProgress(4, stream=io.StringIO(), clock=clock)
    assert progress.status().endswith("0/4 SR - | 0:00:00 elapsed, ETA ?")
    progress.episode_finished("base/1", success=True, skipped=True)  # done before a resume: not in the ETA
    progress.episode_started("base/2", "base task_7")
    progress.step("base/2", 3)
    clock.now += 20
    assert progress.status().endswith("1/4 SR 100.0% | 0:00:20 elapsed, ETA ? | base task_7 step 3")
    progress.episode_finished("base/2", success=False)
    # One episode ran in 20 s; two are left.
    assert progress.status().endswith("2/4 SR 50.0% | 0:00:20 elapsed, ETA 0:00:40")
    for n in (3, 4):
        progress.episode_started(f"base/{n}")
        progress.episode_finished(f"base/{n}", success=True)
    assert "4/4 SR 75.0%" in progress.status() and progress.status().endswith("elapsed, done")
    assert format_duration(3725.9) == "1:02:05"


def test_off_a_terminal_a_plain_line_at_most_every_interval() -> None:
    clock = _Clock()
    out = io.StringIO()
    progress = RunProgress(3, stream=out, clock=clock, interval_s=60)
    progress.episode_started("a/1")
    progress.step("a/1", 1)
    assert out.getvalue() == ""
    clock.now += 61
    progress.step("a/1", 2)
    progress.step("a/1", 3)
    lines = out.getvalue().splitlines()
    assert lines == [f"robomem: [{'.' * 20}] 0/3 SR - | 0:01:01 elapsed, ETA ? | a/1 step 2"]
    assert "\r" not in out.getvalue()
    progress.log("a verbose line")
    progress.finish("robomem: 3 episodes")
    assert out.getvalue().splitlines()[-2:] == ["a verbose line", "robomem: 3 episodes"]


def test_on_a_terminal_the_line_is_redrawn_and_messages_go_above_it() -> None:
    out = _Tty()
    progress = RunProgress(2, stream=out, refresh_s=0)
    progress.episode_started("a/1")
    progress.step("a/1", 5)
    assert out.getvalue().startswith("\r[") and out.getvalue().endswith("a/1 step 5")
    progress.log("step 5 of a/1")
    # The line is wiped, the message printed on its own line, the line drawn again.
    assert "\rstep 5 of a/1\n\r[" in out.getvalue()
    progress.finish("robomem: done")
    assert out.getvalue().endswith("\rrobomem: done\n")


def _drawn(out: _Tty, text: str) -> bool:
    """Whether ``text`` appears on ``out`` within ~10 s (a bounded wait, no timing check)."""
    for _ in range(1000):
        if text in out.getvalue():
            return True
        threading.Event().wait(0.01)
    return False


def test_the_ticker_moves_the_clock_while_an_episode_is_silent() -> None:
    clock = _Clock()
    out = _Tty()
    progress = RunProgress(1, stream=out, clock=clock, refresh_s=0.01)
    progress.episode_started("a/1")
    clock.now += 125  # no event from the episode: only the ticker can show this
    ticked = _drawn(out, "0:02:05 elapsed")
    progress.close()
    assert ticked
    assert progress._ticker is not None and not progress._ticker.is_alive()


def test_worker_threads_share_one_progress() -> None:
    out = _Tty()
    workers, episodes = 4, 150
    progress = RunProgress(workers * episodes, stream=out, refresh_s=0.001)
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            for n in range(episodes):
                key = f"w{w}/{n}"
                progress.episode_started(key)
                for step in range(1, 4):
                    progress.step(key, step)
                progress.log(f"{key} done")
                progress.episode_finished(key, success=n % 2 == 0)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    progress.finish("end")
    assert errors == []
    assert progress.status().startswith(f"[{'#' * 20}] 600/600 SR 50.0%")
    assert progress.status().endswith("done")  # no episode left running
    text = out.getvalue()
    assert all(f"w{w}/{n} done\n" in text for w in range(workers) for n in range(episodes))


def test_robomem_eval_on_a_real_terminal(tmp_path: Path) -> None:
    """A real ``robomem eval`` process whose stderr is a pseudo-terminal draws the line."""
    import pty

    main, child = pty.openpty()
    command = [sys.executable, "-m", "robomem", "eval", "--subset", "base", "--episodes", "2"]
    command += ["--run-dir", str(tmp_path / "run")]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=child, cwd=Path(__file__).parents[3])
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    stdout, _ = process.communicate(timeout=300)
    os.close(main)
    text = b"".join(chunks).decode()
    assert process.returncode == 0, text
    assert "\r[" in text and "elapsed" in text and "ETA" in text
    assert re.search(r"\| base [\w-]+ step [1-9]", text), text  # the current step of the running episode
    assert "robomem: 2 episodes in " in text
    assert stdout.decode().startswith("base")


def test_paused_stops_the_ticker_for_the_block_and_starts_it_again() -> None:
    # Parallel workers fork inside the block: a process forked while the ticker ran would inherit the locks it
    # holds (robomem/eval/parallel.py).
    clock = _Clock()
    out = _Tty()
    progress = RunProgress(1, stream=out, clock=clock, refresh_s=0.01)
    first = progress._ticker
    with progress.paused():
        assert first is not None and not first.is_alive()
        assert progress._ticker is first  # none other started
    clock.now += 125
    ticked = _drawn(out, "0:02:05 elapsed")
    progress.close()
    assert ticked and progress._ticker is not first
    with progress.paused():  # a closed line stays closed
        assert not progress._ticker.is_alive()
    assert not progress._ticker.is_alive()
