"""Result files of runs through ``server.py`` on the fake ``embodiedbench`` package (see conftest.py and
fake_embodiedbench.py for what is faked): EB's keys, in the order and with the types EB's evaluators write
them (EmbodiedBench b247936), filled from what EB reported."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from envs.bridge import BridgeEnv
from robomem.config import load_config
from robomem.eval import EB_KEYS, EXTRA_KEYS, evaluate
from tests.envs.bridge.conftest import StartServer
from tests.robomem.scripted_env import ScriptedAgent

#: The keys of EB's episode_N_final_res.json, in EB's order (eb_alfred_evaluator.py at b247936).
EB_ALFRED_ORDER = [
    "reward",
    "num_invalid_actions",
    "empty_plan",
    "instruction",
    "task_success",
    "task_progress",
    "num_steps",
    "planner_steps",
    "planner_output_error",
    "num_invalid_action_ratio",
    "episode_elapsed_seconds",
]


def _run(env: BridgeEnv, scripts: Mapping[str, Sequence[str]], run_dir: Path, subset: str) -> None:
    with env:
        cfg = load_config(
            None, ["env.type=eb_bridge", f"eval.subsets=[{subset}]", f"eval.episodes={len(scripts)}"]
        )
        evaluate(cfg, env, ScriptedAgent(scripts), run_dir, progress=False, stream=io.StringIO())


def _result(run_dir: Path, subset: str, n: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (run_dir / subset / "results" / f"episode_{n}_final_res.json").read_text()
    )
    return data


def test_eb_alfred_result_files_carry_eb_keys_order_and_types(eb_server: StartServer, tmp_path: Path) -> None:
    assert list(EB_KEYS) == EB_ALFRED_ORDER
    scripts = {
        # unknown action (reward -1, invalid, no step), then find (-0.1), pick (+1), put (+1, success)
        "eb_alfred/base/0": ("teleport home", "find a Mug", "pick up the Mug", "put down the object in hand"),
        "eb_alfred/base/1": (),  # an empty plan
    }
    _run(eb_server("eb_alfred").client(), scripts, tmp_path / "run", "base")
    first = _result(tmp_path / "run", "base", 1)
    assert list(first) == [*EB_ALFRED_ORDER, *EXTRA_KEYS]
    assert first["reward"] == (-1.0 - 0.1 + 1.0 + 1.0) / 4
    assert (first["num_steps"], first["num_invalid_actions"], first["num_invalid_action_ratio"]) == (
        3,
        1,
        1 / 3,
    )
    assert (first["task_success"], first["task_progress"]) == (1.0, 1.0)
    assert first["empty_plan"] == 0 and type(first["empty_plan"]) is int
    second = _result(tmp_path / "run", "base", 2)
    assert (second["empty_plan"], second["num_steps"], second["reward"]) == (1, 0, None)


def test_eb_habitat_result_files_add_subgoal_reward(eb_server: StartServer, tmp_path: Path) -> None:
    (tmp_path / "eb_root" / "data").mkdir(parents=True)
    server = eb_server("eb_habitat", "--eb-root", str(tmp_path / "eb_root"))
    scripts = {"eb_habitat/base/0": ("place at the table 2", "pick up the apple", "place at the table 2")}
    _run(server.client(profile="habitat"), scripts, tmp_path / "run", "base")
    result = _result(tmp_path / "run", "base", 1)
    habitat_order = [*EB_ALFRED_ORDER]
    habitat_order.insert(habitat_order.index("task_progress") + 1, "subgoal_reward")
    assert list(result) == [*habitat_order, *EXTRA_KEYS]
    assert result["reward"] == (-0.05 + 0.0 + 12.5) / 3
    assert (result["subgoal_reward"], result["task_success"], result["num_steps"]) == (2.5, 1.0, 3)
    # the instruction of the episode EB served first (habitat's order), not dataset.episodes[0]
    assert result["instruction"] == "Move the apple 4 to table 2."
