"""Faults a user meets at the command line (issue #10, items 15-16), each through a real ``robomem`` process:
a damaged or unusable memory or run folder is one error line and exit 2, with the files left as they were;
defaults and flags do what their help says."""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from robomem.run_id import read_run_id

ROBOMEM = Path(sys.executable).with_name("robomem")
CONFIGS = Path(__file__).resolve().parents[3] / "configs"
#: The hashing embedder keeps these tests free of the MiniLM load; vectors stay in Chroma on disk.
FAST = ["agent.memory.embedder.type=hashing"]


def robomem(*args: str, cwd: Path, read_only: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROBOMEM), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=_drop_write_override if read_only else None,
    )


def _drop_write_override() -> None:
    """In the child: lose the capabilities that let root write where the file modes say no (a no-op for other
    users), so a folder made read-only with chmod is read-only to the child, as it is to any user."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2, 3):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP: gone from the capabilities exec grants


def error_line(done: subprocess.CompletedProcess[str], code: str) -> str:
    """The one line of a clean failure (exit 2, no traceback), without its ``robomem: error [code]: ``."""
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    prefix = f"robomem: error [{code}]: "
    assert lines[0].startswith(prefix), lines[0]
    return lines[0].removeprefix(prefix)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by content (SQLite's -wal/-shm companions aside: opening creates them)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith(("-wal", "-shm"))
    }


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished two-episode run of the RoboMemory agent with its memory in ``memory``: copy, don't edit."""
    root = tmp_path_factory.mktemp("finished")
    done = robomem(
        "eval", "--config", str(CONFIGS / "demo.yaml"), "--subset", "base", "--episodes", "2",
        "--no-progress", "--run-dir", "run", "agent.memory.dir=memory", *FAST, cwd=root,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def memory(finished: Path, tmp_path: Path) -> Path:
    shutil.copytree(finished / "memory", tmp_path / "memory")
    return tmp_path / "memory"


@pytest.fixture
def run(finished: Path, tmp_path: Path) -> Path:
    shutil.copytree(finished / "run", tmp_path / "run")
    return tmp_path / "run"


def eval_with(memory: Path, *extra: str, read_only: bool = False) -> subprocess.CompletedProcess[str]:
    return robomem(
        "eval", "--config", str(CONFIGS / "demo.yaml"), "--subset", "base", "--episodes", "1",
        "--no-progress", "--run-dir", "new_run", f"agent.memory.dir={memory}", *FAST, *extra,
        cwd=memory.parent, read_only=read_only,
    )  # fmt: skip


# -- item 15: damaged or unusable memory -----------------------------------------------------------------


@pytest.mark.parametrize("keep", [1000, 50_000, -2048])
def test_a_truncated_spatial_store_is_one_error_for_eval_and_show(memory: Path, keep: int) -> None:
    path = memory / "spatial.sqlite"
    with path.open("r+b") as handle:
        handle.truncate(keep if keep > 0 else path.stat().st_size + keep)
    before = snapshot(memory)
    for done in (
        eval_with(memory),
        robomem("memory", "show", "--memory-dir", str(memory), cwd=memory.parent),
    ):
        line = error_line(done, "store")
        assert line.startswith(f"the graph store {path} cannot be used: "), line
        assert snapshot(memory) == before


def test_a_torn_manifest_is_one_error_for_eval_and_export(memory: Path) -> None:
    manifest = memory / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:20])
    before = snapshot(memory)
    export = robomem("memory", "export", "--memory-dir", str(memory), "--out", "x", cwd=memory.parent)
    for done in (eval_with(memory), export):
        line = error_line(done, "store")
        assert line.startswith(f"the memory manifest {manifest} is damaged (not valid JSON: "), line
        assert snapshot(memory) == before
    assert not (memory.parent / "x").exists()


def test_a_memory_dir_that_is_a_file_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine\n", encoding="utf-8")
    line = error_line(eval_with(tmp_path / "notes.txt"), "store")
    assert line == f"the memory folder '{tmp_path / 'notes.txt'}' is a file, not a folder (memory.dir)"
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine\n"


@pytest.fixture
def read_only(memory: Path) -> Iterator[Path]:
    for path in [memory, *memory.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    probe = subprocess.run(
        [sys.executable, "-c", f"open({str(memory / 'probe')!r}, 'w')"],
        capture_output=True,
        check=False,
        preexec_fn=_drop_write_override,
    )
    assert probe.returncode != 0, "the folder must be read-only to the child processes"
    yield memory
    for path in [memory, *memory.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def test_a_read_only_memory_is_refused_by_eval_and_read_by_show_and_export(read_only: Path) -> None:
    before = snapshot(read_only)
    line = error_line(eval_with(read_only, read_only=True), "store")
    assert line.startswith(f"the memory folder '{read_only}' is read-only"), line
    shown = robomem("memory", "show", "--memory-dir", str(read_only), cwd=read_only.parent, read_only=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"memory: {read_only}\nspatial [")
    assert "episodic: 2 items" in shown.stdout and "raw episode log: 2 episodes" in shown.stdout
    out = read_only.parent / "export"
    exported = robomem(
        "memory", "export", "--memory-dir", str(read_only), "--out", str(out), cwd=read_only.parent,
        read_only=True,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert len((out / "episodic.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    # Its default destination is inside the read-only memory: one line that says to choose another.
    line = error_line(
        robomem("memory", "export", "--memory-dir", str(read_only), cwd=read_only.parent, read_only=True),
        "store",
    )
    assert line == (
        f"cannot write the export to {read_only / 'export'}: {read_only} is not a writable folder "
        "(choose another --out)"
    )
    assert snapshot(read_only) == before


def test_garbage_in_the_episode_log_is_reported_and_refused(memory: Path) -> None:
    log = memory / "episodes.jsonl"
    with log.open("a", encoding="utf-8") as handle:
        handle.write('garbage{\n[1, 2]\n{"not": "a record"}\n')
    shown = robomem("memory", "show", "--memory-dir", str(memory), cwd=memory.parent)
    assert shown.returncode == 0, shown.stderr
    assert "raw episode log: 2 episodes\n" in shown.stdout  # neither `[1, 2]` nor `{"not": ...}` is one
    assert f"WARNING: {log}: 3 line(s) are not JSON records (line 3, 4, 5)" in shown.stdout
    before = snapshot(memory)
    line = error_line(eval_with(memory), "store")
    assert line == f"{log}: 3 line(s) are not JSON records (line 3, 4, 5) (fix or remove those lines)"
    assert snapshot(memory) == before


def test_an_episode_logged_after_a_torn_last_line_is_kept(memory: Path) -> None:
    # A process killed mid-append leaves a line without its newline; the next record must not be glued to it.
    log = memory / "episodes.jsonl"
    log.write_bytes(log.read_bytes() + b'{"episode_id": "killed/1", "te')
    done = eval_with(memory)
    assert done.returncode == 0, done.stderr
    text = log.read_text(encoding="utf-8")
    assert text.endswith("\n")
    records = [json.loads(line) for line in text.splitlines()]  # every line whole: the torn one is gone
    assert [r["episode_id"] for r in records][-1] == f"{read_run_id(memory.parent / 'new_run')}/base/1"
    assert len(records) == 3


# -- item 15: resume ---------------------------------------------------------------------------------------


def test_resume_with_a_truncated_checkpoint_file_is_one_error(run: Path) -> None:
    checkpoints = run / "checkpoints.sqlite"
    with checkpoints.open("r+b") as handle:
        handle.truncate(5000)
    (run / "base" / "results" / "episode_2_final_res.json").unlink()
    before = snapshot(run)
    line = error_line(robomem("eval", "--resume", str(run), "--no-progress", cwd=run.parent), "store")
    assert line.startswith(f"cannot resume '{run}': {checkpoints} is damaged ("), line
    assert snapshot(run) == before


def test_resume_with_an_emptied_checkpoint_file_is_one_error(run: Path) -> None:
    # An empty file is a valid SQLite database, with every checkpoint gone: the unfinished episode would start
    # over on top of what it had already written to memory (an outside check found memory then differed).
    (run / "checkpoints.sqlite").write_bytes(b"")
    (run / "base" / "results" / "episode_2_final_res.json").unlink()
    before = snapshot(run)
    line = error_line(robomem("eval", "--resume", str(run), "--no-progress", cwd=run.parent), "store")
    assert line.startswith(f"cannot resume '{run}': {run / 'checkpoints.sqlite'} is damaged (it is empty)"), (
        line
    )
    assert snapshot(run) == before


def test_resume_with_a_torn_result_file_is_one_error(run: Path) -> None:
    result = run / "base" / "results" / "episode_2_final_res.json"
    result.write_bytes(result.read_bytes()[:30])
    before = snapshot(run)
    line = error_line(robomem("eval", "--resume", str(run), "--no-progress", cwd=run.parent), "store")
    assert line.startswith(f"cannot resume '{run}': {result} is damaged (not a result file: "), line
    assert snapshot(run) == before


def test_overrides_given_with_resume_are_recorded_in_config_yaml(run: Path) -> None:
    original = (run / "config.yaml").read_bytes()
    (run / "base" / "results" / "episode_2_final_res.json").unlink()
    done = robomem("eval", "--resume", str(run), "--no-progress", "env.max_steps=25", cwd=run.parent)
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))["env"]["max_steps"] == 25
    assert (run / "config.part1.yaml").read_bytes() == original
    # A second resume without overrides runs with (and keeps) what config.yaml says now.
    (run / "base" / "results" / "episode_2_final_res.json").unlink()
    assert robomem("eval", "--resume", str(run), "--no-progress", cwd=run.parent).returncode == 0
    assert not (run / "config.part2.yaml").exists()


# -- item 16: surprises for a new user ---------------------------------------------------------------------


def test_eval_without_a_preset_runs_the_robomemory_agent(tmp_path: Path) -> None:
    args = ["eval", "--subset", "base", "--episodes", "1", "--no-progress", "--run-dir", "run", *FAST]
    done = robomem(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    agent = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text(encoding="utf-8"))["agent"]
    assert (agent["type"], agent["planner"]["type"]) == ("robomem", "symbolic")
    assert (tmp_path / "run" / "memory" / "spatial.sqlite").is_file()


def test_the_seed_reaches_the_agent(tmp_path: Path) -> None:
    steps: list[list[str]] = []
    for seed in ("1", "2", "1"):
        run_dir = f"run_{len(steps)}"
        done = robomem(
            "eval", "--config", str(CONFIGS / "random_baseline.yaml"), "--subset", "base", "--episodes", "2",
            "--seed", seed, "--no-progress", "--run-dir", run_dir, cwd=tmp_path,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        steps.append(
            [(tmp_path / run_dir / "base" / "steps" / f"episode_{n}_steps.json").read_text() for n in (1, 2)]
        )
    assert steps[0] != steps[1]
    assert steps[0] == steps[2]


def test_a_nested_override_merges_into_the_default_plugin(tmp_path: Path) -> None:
    args = ["eval", "--config", str(CONFIGS / "demo.yaml"), "--subset", "base", "--episodes", "1"]
    done = robomem(
        *args, "--no-progress", "--run-dir", "run", "agent.planner.max_plan_len=5", *FAST, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    agent = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text(encoding="utf-8"))["agent"]
    assert agent["planner"] == {"type": "symbolic", "max_plan_len": 5, "commonsense_priors": True}
    assert error_line(robomem(*args, "agent.critic.strictness=1", cwd=tmp_path), "config") == (
        "agent.critic.strictness: unknown key"
    )
    # A key another type has names it.
    assert error_line(robomem(*args, "agent.critic.max_images=1", cwd=tmp_path), "config") == (
        "agent.critic.max_images: unknown key of the default critic 'deterministic'; the critic type 'llm' "
        "has it (set agent.critic.type=llm)"
    )


def test_lifelong_mode_says_what_episodes_counts(tmp_path: Path) -> None:
    help_text = robomem("eval", "--help", cwd=tmp_path).stdout
    assert "lifelong mode: the first N task sequences" in " ".join(help_text.split())
    done = robomem(
        "eval", "--config", str(CONFIGS / "lifelong.yaml"), "agent.type=random", "--episodes", "1",
        "--no-progress", "--run-dir", "run", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    n = json.loads((tmp_path / "run" / "summary.json").read_text(encoding="utf-8"))["overall"]["n"]
    assert done.stderr.splitlines()[0] == (
        f"robomem: lifelong mode: {n} episodes = 1 task sequences (eval.episodes counts sequences), "
        "each task attempted 2x"
    )


def test_more_episodes_than_tasks_is_said(tmp_path: Path) -> None:
    done = robomem(
        "eval", "--config", str(CONFIGS / "random_baseline.yaml"), "--subset", "base", "--episodes", "100000",
        "--no-progress", "--run-dir", "run", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[0] == (
        "robomem: eval.episodes=100000, but fewer tasks exist (base 50); running all 50 episodes"
    )
    assert os.path.isfile(tmp_path / "run" / "base" / "results" / "episode_50_final_res.json")
