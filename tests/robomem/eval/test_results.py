"""EB-format episode records: EB's types, and files written before ``reward`` existed still load (resume)."""

from __future__ import annotations

import json

from robomem.eval.results import EB_KEYS, EXTRA_KEYS, EpisodeRecord

OLD_FILE = {  # as robomem wrote it before issue #10: no reward, empty_plan a bool, another key order
    "instruction": "put a mug in the cabinet",
    "task_success": 0.0,
    "task_progress": 0.5,
    "num_steps": 4,
    "planner_steps": 2,
    "planner_output_error": 0,
    "num_invalid_actions": 1,
    "num_invalid_action_ratio": 0.25,
    "episode_elapsed_seconds": 1.5,
    "empty_plan": True,
    "task_id": "base_1",
    "subset": "base",
    "task_type": "simple",
    "scene": "house_1",
    "gold_plan_length": 2,
}


def test_an_old_result_file_loads_and_is_rewritten_in_eb_form() -> None:
    record = EpisodeRecord.model_validate_json(json.dumps(OLD_FILE))
    data = record.to_json()
    assert list(data) == [*EB_KEYS, *EXTRA_KEYS]
    assert data["empty_plan"] == 1 and type(data["empty_plan"]) is int
    assert data["reward"] is None


def test_subgoal_reward_follows_task_progress_only_when_reported() -> None:
    record = EpisodeRecord.model_validate({**OLD_FILE, "reward": 0.5, "subgoal_reward": 2.5})
    keys = list(record.to_json())
    assert keys[keys.index("task_progress") + 1] == "subgoal_reward"
    assert "subgoal_reward" not in EpisodeRecord.model_validate(OLD_FILE).to_json()
