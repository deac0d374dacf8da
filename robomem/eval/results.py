"""EmbodiedBench-compatible result files, written atomically.

Layout under a run directory (EB's per-eval-set layout): ``<subset>/results/episode_N_final_res.json``
(N from 1) and ``<subset>/results/summary.json``. Each episode file has exactly EB's keys, in EB's order,
then robomem's extras, so robomem runs and EB runs can be compared file for file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = (
    "EB_KEYS",
    "EXTRA_KEYS",
    "EpisodeRecord",
    "episode_result_path",
)

EB_KEYS = (
    "instruction",
    "task_success",
    "task_progress",
    "num_steps",
    "planner_steps",
    "planner_output_error",
    "num_invalid_actions",
    "num_invalid_action_ratio",
    "episode_elapsed_seconds",
    "empty_plan",
)
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
    empty_plan: bool
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

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        optional = {key: data[key] for key in _OPTIONAL_KEYS if data[key] is not None}
        return {**{key: data[key] for key in (*EB_KEYS, *EXTRA_KEYS)}, **optional}


def episode_result_path(run_dir: Path, subset: str, n: int) -> Path:
    return run_dir / subset / "results" / f"episode_{n}_final_res.json"
