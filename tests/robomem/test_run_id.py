"""Two runs never share an id in memory (robomem/run_id.py): memory skips an episode it already holds as a
replay, so runs told apart only by their folder's name lost every episode of the second run — two robots
started with the same ``--run-dir`` on one shared memory, or a run folder deleted and made again. Through real
``robomem`` processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from robomem.errors import StoreError
from robomem.run_id import RUN_ID_FILE, create_run_id, read_run_id

ROBOMEM = Path(sys.executable).with_name("robomem")
CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _eval(run_dir: Path, memory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(ROBOMEM), "eval", "--config", str(CONFIGS / "demo.yaml"), "--subset", "base", "--episodes", "2",
        "--no-progress", "--run-dir", str(run_dir), f"agent.memory.dir={memory}",
        "agent.memory.embedder.type=hashing", *extra,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def _logged(memory: Path) -> list[str]:
    lines = (memory / "episodes.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["episode_id"] for line in lines]


def test_two_runs_with_one_folder_name_both_reach_shared_memory(tmp_path: Path) -> None:
    memory = tmp_path / "memory"
    for robot in ("robot_a", "robot_b"):  # the same --run-dir name on two robots (here: two parent folders)
        done = _eval(tmp_path / robot / "run", memory)
        assert done.returncode == 0, done.stderr
    ids = _logged(memory)
    assert len(ids) == 4, ids  # the old ids ("run/base/1") made robot_b's two episodes replays: 2 logged
    assert len(set(ids)) == 4
    for robot in ("robot_a", "robot_b"):
        run_id = read_run_id(tmp_path / robot / "run")
        assert run_id.startswith("run~")
        own = sorted(i for i in ids if i.startswith(f"{run_id}/"))
        assert own == [f"{run_id}/base/1", f"{run_id}/base/2"]


def test_resume_keeps_the_run_id(tmp_path: Path) -> None:
    memory, run = tmp_path / "memory", tmp_path / "run"
    assert _eval(run, memory).returncode == 0
    run_id = read_run_id(run)
    done = subprocess.run(
        [str(ROBOMEM), "eval", "--resume", str(run), "--no-progress"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert read_run_id(run) == run_id
    assert _logged(memory) == [f"{run_id}/base/1", f"{run_id}/base/2"]  # nothing learnt twice


def test_a_folder_without_run_json_is_known_by_its_name(tmp_path: Path) -> None:
    # Run folders made before run ids: a resume keeps the ids their checkpoints and memory already use.
    assert read_run_id(tmp_path) == tmp_path.name
    made = create_run_id(tmp_path)
    assert read_run_id(tmp_path) == made
    again = tmp_path / "again" / tmp_path.name  # the same name made again: another id
    again.mkdir(parents=True)
    assert create_run_id(again) != made


@pytest.mark.parametrize("text", ["{", "[]", '{"run_id": 3}', '{"run_id": "a/b"}', '{"run_id": " "}'])
def test_a_damaged_run_json_is_a_clear_error(tmp_path: Path, text: str) -> None:
    (tmp_path / RUN_ID_FILE).write_text(text, encoding="utf-8")
    with pytest.raises(StoreError, match="run id file"):
        read_run_id(tmp_path)


def test_run_id_can_be_given(tmp_path: Path) -> None:
    memory = tmp_path / "memory"
    assert _eval(tmp_path / "run", memory, "run.id=robot_a").returncode == 0
    assert read_run_id(tmp_path / "run") == "robot_a"
    assert _logged(memory) == ["robot_a/base/1", "robot_a/base/2"]
    bad = _eval(tmp_path / "bad", memory, "run.id=a/b")
    assert bad.returncode == 2 and "run.id" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "bad").exists()
