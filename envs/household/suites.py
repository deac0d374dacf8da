"""Committed task suites: versioned JSON files holding the scenes (initial world states), the six
evaluation subsets and the lifelong sequences of one profile."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from envs.household.catalog import CATALOGS
from envs.household.world import World
from envs.task import LifelongSequence, Task
from robomem.errors import SuiteError

__all__ = ("SUBSETS", "SUITE_FORMAT", "Suite", "load_suite", "suite_path")

SUITE_DIR = Path(__file__).parent / "data"
SUITE_FORMAT = 1
SUBSETS = ("base", "common_sense", "complex_instruction", "spatial", "visual_appearance", "long_horizon")


class Suite(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int = SUITE_FORMAT
    version: str
    profile: str
    seed: int
    scenes: dict[str, dict[str, Any]]
    subsets: dict[str, tuple[Task, ...]] = {}
    lifelong: tuple[LifelongSequence, ...] = ()
    #: Figures the generator proved about the suite (memory suites: the memoryless search cost per subset).
    stats: dict[str, Any] = {}

    def world(self, scene: str) -> World:
        """A fresh copy of a scene's initial state."""
        try:
            data = self.scenes[scene]
        except KeyError:
            raise SuiteError(f"suite {self.profile}/{self.version} has no scene {scene!r}") from None
        return World.from_dict(data, CATALOGS[self.profile])

    def to_json(self) -> str:
        """Canonical text: the same suite always serialises to the same bytes."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        data["format"] = self.format
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def suite_path(profile: str, version: str = "v1") -> Path:
    return SUITE_DIR / f"{profile}_{version}.json"


@lru_cache(maxsize=8)
def _load(path: Path) -> Suite:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SuiteError(
            f"cannot read suite {path}: {exc.strerror}", hint="run 'robomem suites generate'"
        ) from None
    try:
        suite = Suite.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SuiteError(f"suite {path} is malformed at {where}: {first['msg']}") from None
    if suite.format != SUITE_FORMAT:
        raise SuiteError(f"suite {path} has format {suite.format}; this robomem reads format {SUITE_FORMAT}")
    return suite


def load_suite(spec: str, profile: str) -> Suite:
    """``spec`` is a committed version (``v1``) or a path to a suite file."""
    path = Path(spec) if spec.endswith(".json") or "/" in spec else suite_path(profile, spec)
    suite = _load(path.resolve())
    if suite.profile != profile:
        raise SuiteError(f"suite {path} is for profile {suite.profile!r}, not {profile!r}")
    return suite
