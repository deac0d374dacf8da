"""``envs/bridge/server.py``'s EmbodiedBench backends, run as the real standalone script in a subprocess and
reached through the real client over loopback, with a *fake* ``embodiedbench`` package on the server's
PYTHONPATH.

Faked: EmbodiedBench itself (``EBAlfEnv`` / ``EBHabEnv``), because AI2-THOR, Habitat-Sim and EB's data cannot
run here and EB's code may not be vendored; the fakes mirror only the documented constructor, ``reset`` /
``step`` signatures and info quirks of commit b247936 (details in ``fake_embodiedbench.py``). Everything
else (the server script, its CLI, sockets, the client) is real.
"""

from __future__ import annotations

import base64
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

from envs.bridge import BridgeEnv
from robomem.errors import EnvAdapterError
from tests.envs.bridge.conftest import SERVER_PY, ServerProcess, env_with_pythonpath


def _calls(environ: dict[str, str], event: str | None = None) -> list[dict[str, Any]]:
    path = Path(environ["FAKE_EB_LOG"])
    records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [r for r in records if event is None or r["event"] == event]


def _png_pixels(b64: str) -> tuple[int, int, bytes]:
    """Width, height and raw RGB rows of an unfiltered 8-bit PNG (what the server writes)."""
    data = base64.b64decode(b64)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, color = struct.unpack(">IIBB", data[16:26])
    assert (depth, color) == (8, 2)
    idat_len = struct.unpack(">I", data[33:37])[0]
    assert data[37:41] == b"IDAT"
    raw = zlib.decompress(data[41 : 41 + idat_len])
    rows = [raw[y * (1 + 3 * width) : (y + 1) * (1 + 3 * width)] for y in range(height)]
    assert all(row[0] == 0 for row in rows)
    return width, height, b"".join(row[1:] for row in rows)


def test_eb_alfred_episode_selection_skills_and_steps(eb_server: Any, fake_eb: dict[str, str]) -> None:
    server = eb_server("eb_alfred")
    env: BridgeEnv
    with server.client(profile="alfred") as env:
        assert env.subsets() == (
            "base",
            "common_sense",
            "complex_instruction",
            "spatial",
            "visual_appearance",
            "long_horizon",
        )
        tasks = env.tasks("spatial")
        assert [t.episode_index for t in tasks] == [0, 1, 2, 3]
        assert tasks[1].task_id == "eb_alfred/spatial/1"
        assert tasks[1].instruction == "spatial: put mug 1 in a cabinet"
        assert (tasks[1].scene, tasks[1].task_type) == ("FloorPlan11", "pick_and_place_simple")
        assert len(_calls(fake_eb, "construct")) == 1  # listing built the env once...

        observation = env.reset(tasks[0])
        assert len(_calls(fake_eb, "construct")) == 1  # ...and episode 0 reuses it
        assert observation.instruction == "spatial: put mug 0 in a cabinet"
        assert observation.perception is None
        assert _png_pixels(observation.images[0]) == (5, 4, bytes([10]) * 60)
        assert env.skills[-1] == "find a Cabinet_2"

        unknown = env.step("teleport home")
        assert unknown.info["last_action_success"] is False
        assert unknown.info["action_id"] == -1
        assert not [c for c in _calls(fake_eb, "step") if c["action"] == "teleport home"]  # never sent
        assert unknown.observation.images == observation.images  # the frame is still the last one
        by_id = env.step(1)
        assert by_id.info["action_description"] == "pick up the Mug"
        assert by_id.info["last_action_success"] is True and by_id.info["task_progress"] == 0.5
        assert _calls(fake_eb, "step")[-1]["action"] == "pick up the Mug"  # EBAlfEnv gets the text
        done = env.step("put down the object in hand")
        assert done.done and done.info["task_success"] == 1.0
        assert done.info["action_id"] == 2  # EB echoes the string; the bridge reports the id
        # The unknown action was no EB step (EB's evaluator counts it as invalid only), but it cost reward -1.
        assert done.info["env_step"] == 2 and done.info["num_invalid_actions"] == 1
        assert [unknown.info.get("reward"), by_id.info.get("reward"), done.info.get("reward")] == [
            -1.0,
            1.0,
            1.0,
        ]
        assert "subgoal_reward" not in done.info  # EB-Habitat's only
        assert env.last_raw_info is not None
        assert env.last_raw_info["action_id"] == "put down the object in hand"
        assert env.last_raw_info["object_states"] == {"visible_objs": ["Mug"], "heated_objects": []}
        with pytest.raises(EnvAdapterError, match="episode_over"):
            env.step(0)

        env.reset(tasks[1])  # the next in order: same Unity process
        assert len(_calls(fake_eb, "construct")) == 1
        assert env.skills[-1] == "find a Cabinet_3"  # re-read, not the previous episode's list

        env.reset(tasks[3])  # a jump: rebuilt, positioned by selected_indexes
        constructs = _calls(fake_eb, "construct")
        assert constructs[-1]["selected_indexes"] == [3] and constructs[-1]["eval_set"] == "spatial"
        assert len(_calls(fake_eb, "close")) == 1  # the old one was closed first
        assert env.reset(tasks[0]).instruction == "spatial: put mug 0 in a cabinet"
        assert _calls(fake_eb, "construct")[-1]["selected_indexes"] == []

        with pytest.raises(EnvAdapterError, match="keep_world is not supported"):
            env.reset(tasks[1], keep_world=True)
        with pytest.raises(EnvAdapterError, match="unknown subset 'spatial_relationship'"):
            env.tasks("spatial_relationship")
    assert len(_calls(fake_eb, "close")) == len(_calls(fake_eb, "construct"))  # close released it


def test_eb_alfred_passes_its_options_through(eb_server: Any, fake_eb: dict[str, str]) -> None:
    server = eb_server("eb_alfred", "--down-sample-ratio", "0.5", "--resolution", "300", "--no-images")
    with server.client() as env:
        tasks = env.tasks("base")
        assert [t.instruction for t in tasks] == [
            "base: put mug 0 in a cabinet",
            "base: put mug 2 in a cabinet",
        ]
        assert env.reset(tasks[0]).images == ()
    assert _calls(fake_eb, "construct")[0]["down_sample_ratio"] == 0.5
    assert _calls(fake_eb, "construct")[0]["resolution"] == 300


def test_eb_habitat_sends_ints_only(eb_server: Any, fake_eb: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "eb_root" / "data").mkdir(parents=True)
    server = eb_server("eb_habitat", "--eb-root", str(tmp_path / "eb_root"))
    with server.client(profile="habitat") as env:
        assert "spatial_relationship" in env.subsets()
        tasks = env.tasks("spatial_relationship")
        # habitat serves episode 7 third (shuffled with seed 100, grouped by scene), so that is task 2.
        assert [t.instruction for t in tasks][2] == "Move the apple 7 to table 2."
        assert tasks[2].scene == "v3_sc1_staging_00.scene_instance.json"
        env.reset(tasks[0])
        assert env.skills == (
            "navigate to the table 1",
            "pick up the apple",
            "place at the table 2",
            "open the refrigerator",
        )
        place = env.step("place at the table 2")  # text in, int to EBHabEnv (which raises on anything else)
        assert place.info["last_action_success"] is False and place.info["num_invalid_actions"] == 1
        assert (place.info.get("reward"), place.info.get("subgoal_reward")) == (-0.05, 0.0)
        env.step("pick up the apple")
        result = env.step(2)
        assert result.done and result.info["task_success"] == 1.0 and result.info["task_progress"] == 1.0
        assert (result.info.get("reward"), result.info.get("subgoal_reward")) == (12.5, 2.5)
        assert [c["action"] for c in _calls(fake_eb, "step")] == [2, 1, 2]
        assert env.last_raw_info is not None
        assert env.last_raw_info["episode_elapsed_seconds"] == [0.5]  # EB's 1-tuple quirk, kept raw

        env.reset(tasks[2])
        assert _calls(fake_eb, "construct")[-1]["start_epi_index"] == 2
        assert env.reset(tasks[2]).instruction == "Move the apple 7 to table 2."  # again: rebuilt


def test_eb_habitat_links_the_data_folder_like_eb_does(
    eb_server: Any, fake_eb: dict[str, str], tmp_path: Path
) -> None:
    bundled = Path(fake_eb["PYTHONPATH"]) / "embodiedbench" / "envs" / "eb_habitat" / "data"
    bundled.mkdir()
    server = eb_server("eb_habitat")  # working directory tmp_path, which has no data/
    with server.client(profile="habitat") as env:
        env.reset(env.tasks("base")[0])
    assert (tmp_path / "data").resolve() == bundled.resolve()
    assert "linked" in server.log_text()


def test_eb_habitat_without_data_says_what_is_missing(tmp_path: Path, fake_eb: dict[str, str]) -> None:
    command = [sys.executable, str(SERVER_PY), "--backend", "eb_habitat", "--port", "0"]
    done = subprocess.run(command, cwd=tmp_path, env=fake_eb, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "EB-Habitat's data is missing: no data/ in" in done.stderr
    assert "--eb-root" in done.stderr


def test_a_missing_eb_root_is_one_line(tmp_path: Path, fake_eb: dict[str, str]) -> None:
    missing = tmp_path / "nowhere"
    command = [
        sys.executable,
        str(SERVER_PY),
        "--backend",
        "eb_alfred",
        "--port",
        "0",
        "--eb-root",
        str(missing),
    ]
    done = subprocess.run(command, cwd=tmp_path, env=fake_eb, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"--eb-root '{missing}' is not a directory" in done.stderr
    assert "Traceback" not in done.stderr


def test_without_embodiedbench_the_server_says_where_to_run(tmp_path: Path) -> None:
    command = [sys.executable, str(SERVER_PY), "--backend", "eb_alfred", "--port", "0"]
    done = subprocess.run(
        command, cwd=tmp_path, env=env_with_pythonpath(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "cannot import EmbodiedBench" in done.stderr and "conda activate" in done.stderr


# ---- issue #10, items 7-9: what EB really serves, how many episodes, which steps count -------------------
def _habitat(eb_server: Any, tmp_path: Path, *extra: str) -> ServerProcess:
    (tmp_path / "eb_root" / "data").mkdir(parents=True, exist_ok=True)
    return eb_server("eb_habitat", "--eb-root", str(tmp_path / "eb_root"), *extra)  # type: ignore[no-any-return]


def test_eb_habitat_lists_episodes_in_the_order_eb_serves_them(
    eb_server: Any, fake_eb: dict[str, str], tmp_path: Path
) -> None:
    # habitat-lab's iterator shuffles (seed 100) and groups by scene: EB's i-th reset is not
    # `dataset.episodes[i]`. Every listed task must be the one EB then resets to.
    with _habitat(eb_server, tmp_path).client(profile="habitat") as env:
        tasks = env.tasks("base")
        assert len(tasks) == 10
        for task in tasks:
            observation = env.reset(task)
            served = _calls(fake_eb, "reset")[-1]
            assert (
                observation.instruction
                == task.instruction
                == f"Move the apple {served['episode_id']} to table 2."
            )
            assert task.scene == Path(served["scene_id"]).name
        assert len(_calls(fake_eb, "construct")) == 1  # all in order, in one env
        served_ids = [r["episode_id"] for r in _calls(fake_eb, "reset")]
        assert served_ids != [str(i) for i in range(10)]  # the fake really serves another order
        scenes = [t.scene for t in tasks]
        assert scenes == sorted(scenes, key=scenes.index)  # grouped by scene, as habitat serves them

        env.reset(tasks[7])  # a jump: rebuilt with start_epi_index=7, still the listed episode
        assert _calls(fake_eb, "construct")[-1]["start_epi_index"] == 7
        assert tasks[7].instruction.startswith(
            f"Move the apple {_calls(fake_eb, 'reset')[-1]['episode_id']} "
        )


def test_eb_habitat_a_listed_served_mismatch_is_an_error(
    eb_server: Any, fake_eb: dict[str, str], tmp_path: Path
) -> None:
    # Without the iterator the server can only list the dataset's order, which is not what EB serves:
    # running the wrong instruction and scoring it must not happen silently.
    fake_eb["FAKE_EB_HIDE_ITERATOR"] = "1"
    server = _habitat(eb_server, tmp_path)
    with server.client(profile="habitat") as env:
        tasks = env.tasks("base")
        with pytest.raises(EnvAdapterError, match=r"episode_mismatch.*EB reset to episode 1\b"):
            env.reset(tasks[1])
        with pytest.raises(EnvAdapterError, match="no_episode"):
            env.step(0)  # the mismatched episode is not playable
    assert "cannot read habitat's episode iterator" in server.log_text()


def test_eb_habitat_episode_count_rounds_up_like_eb(
    eb_server: Any, fake_eb: dict[str, str], tmp_path: Path
) -> None:
    # EB's evaluator runs while `episode_num < number_of_episodes` with number_of_episodes = 10 * 0.25 = 2.5:
    # episodes 0, 1 and 2.
    with _habitat(eb_server, tmp_path, "--down-sample-ratio", "0.25").client(profile="habitat") as env:
        tasks = env.tasks("long_horizon")
        assert len(tasks) == 3
        for task in tasks:
            assert env.reset(task).instruction == task.instruction
    assert _calls(fake_eb, "construct")[0]["down_sample_ratio"] == 0.25


def test_actions_outside_the_skill_list_count_only_as_invalid(
    eb_server: Any, fake_eb: dict[str, str]
) -> None:
    # EB's evaluator counts an action it cannot map (-1) against the 10 invalid actions, not the 30 steps.
    with eb_server("eb_alfred").client() as env:
        env.reset(env.tasks("base")[0])
        for n in range(1, 10):
            result = env.step("teleport home")
            assert (result.info["env_step"], result.info["num_invalid_actions"], result.done) == (0, n, False)
        for n in range(1, 30):
            result = env.step("find a Mug")
            assert (result.info["env_step"], result.done) == (n, False)
        last = env.step("find a Mug")
        assert (last.info["env_step"], last.info["num_invalid_actions"], last.done) == (30, 9, True)
    assert len(_calls(fake_eb, "step")) == 30  # the unknown actions never reached EB


def test_the_tenth_invalid_action_ends_the_episode_even_if_unknown(
    eb_server: Any, fake_eb: dict[str, str]
) -> None:
    with eb_server("eb_alfred").client() as env:
        env.reset(env.tasks("base")[0])
        results = [env.step("teleport home") for _ in range(10)]
        assert [r.done for r in results] == [False] * 9 + [True]
        assert results[-1].info["env_step"] == 0
