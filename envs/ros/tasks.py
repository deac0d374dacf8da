"""Task files for robots without built-in suites (``env.tasks_file``).

A YAML or JSON file::

    subsets:
      kitchen:
        - task_id: kitchen_1
          instruction: Put a washed apple in the fridge.
          scene: flat_3          # the site: spatial memory is kept per scene
          task_type: pick_and_place   # optional, default "custom"

A real robot cannot score itself, so these tasks carry no goal conditions; whatever ``task_success`` the
skill server reports is what the results show (0 when it reports none).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from envs.task import Task
from robomem.errors import ConfigError

__all__ = ("TaskEntry", "TaskFile", "load_task_file")


class TaskEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    task_id: str = Field(min_length=1)
    instruction: str = Field(min_length=1)
    scene: str = Field(min_length=1)
    task_type: str = "custom"


class TaskFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    subsets: dict[str, tuple[TaskEntry, ...]] = Field(min_length=1)

    def subset_names(self) -> tuple[str, ...]:
        return tuple(self.subsets)

    def tasks(self, subset: str, profile: str) -> tuple[Task, ...]:
        if subset not in self.subsets:
            raise ConfigError(f"unknown subset {subset!r}; the task file has: {', '.join(self.subsets)}")
        return tuple(
            Task(
                task_id=e.task_id,
                profile=profile,
                subset=subset,
                task_type=e.task_type,
                instruction=e.instruction,
                scene=e.scene,
            )
            for e in self.subsets[subset]
        )


def load_task_file(path: str | Path) -> TaskFile:
    path = Path(path)
    key = "env.tasks_file"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read task file {str(path)!r}: {err}", key=key) from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise ConfigError(
            f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'} ({err})", key=key
        ) from None
    try:
        return TaskFile.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise ConfigError(f"{path}: {where}: {first['msg']}", key=key) from None
