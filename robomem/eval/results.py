"""EmbodiedBench-compatible result files, written atomically.

Layout under a run directory (EB's per-eval-set layout): ``<subset>/results/episode_N_final_res.json``
(N from 1) and ``<subset>/results/summary.json``. Each episode file has EB's keys in the order EB's
evaluators write them (EmbodiedBench b247936, ``eb_alfred_evaluator.py`` / ``eb_habitat_evaluator.py``),
then robomem's extras. The keys mean what they mean in EB, with these differences (EB's own quirks that
robomem does not copy, and values robomem's environments do not have):

* ``reward``: the mean of the per-step rewards the environment reported (EB's own through the bridge; an
  action outside the skill list counts -1, as in EB's evaluator). ``null`` when the environment reports
  no reward (robomem's simulator, ROS) or no step was taken (EB writes NaN there, which is not JSON).
* ``subgoal_reward`` (after ``task_progress``): only when the environment reports it (EB-Habitat through
  the bridge), its value after the last step.
* ``task_success`` / ``task_progress``: those after the last step. EB writes 0 for both when the
  planner's last output was an empty plan or an unusable action, even after progress was made.
* ``episode_elapsed_seconds``: robomem's wall time for the episode, always a number (EB-Habitat's files
  carry a one-element list).
* ``num_steps``: the environment's steps (``env_step``), as in EB: an action outside the skill list is an
  invalid action but no step.
* ``num_invalid_actions``: invalid actions the environment saw. A planner reply robomem cannot use counts
  in ``planner_output_error`` only; EB's evaluator also books it as an invalid action with reward -1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = (
    "EB_KEYS",
    "EXTRA_KEYS",
    "HABITAT_KEY",
    "EpisodeRecord",
    "episode_result_path",
)

EB_KEYS = (
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
)
#: EB-Habitat's extra key, written after ``task_progress`` when the environment reports it.
HABITAT_KEY = "subgoal_reward"
#: Always written after EB's keys.
EXTRA_KEYS = ("task_id", "subset", "task_type", "scene", "gold_plan_length")
#: Written only when set: lifelong bookkeeping and the error of an episode the environment aborted.
_OPTIONAL_KEYS = ("attempt", "sequence_id", "sequence_position", "perturbations", "error")


class EpisodeRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    instruction: str
    task_success: float
    task_progress: float
    num_steps: int
    planner_steps: int
    planner_output_error: int
    num_invalid_actions: int
    num_invalid_action_ratio: float
    episode_elapsed_seconds: float
    #: 1 when the episode ended on an empty plan, else 0 (an int, as EB writes it).
    empty_plan: int
    task_id: str
    subset: str
    task_type: str
    scene: str
    gold_plan_length: int | None
    attempt: int | None = None
    sequence_id: str | None = None
    #: 1-based position of the task in its lifelong sequence.
    sequence_position: int | None = None
    #: Descriptions of the objects moved by "someone else" just before this episode.
    perturbations: tuple[str, ...] | None = None
    error: str | None = None
    #: ``None`` when the environment reports no reward (files written before these keys existed too).
    reward: float | None = None
    subgoal_reward: float | None = None

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        eb_keys: list[str] = list(EB_KEYS)
        if data[HABITAT_KEY] is not None:
            eb_keys.insert(eb_keys.index("task_progress") + 1, HABITAT_KEY)
        optional = {key: data[key] for key in _OPTIONAL_KEYS if data[key] is not None}
        return {**{key: data[key] for key in (*eb_keys, *EXTRA_KEYS)}, **optional}


def episode_result_path(run_dir: Path, subset: str, n: int) -> Path:
    return run_dir / subset / "results" / f"episode_{n}_final_res.json"
