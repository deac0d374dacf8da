"""Configuration of the household simulator (``env.type: household``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ("HouseholdConfig",)


class HouseholdConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["household"] = "household"
    #: Action grammar and feedback: EB-ALFRED (``alfred``) or EB-Habitat (``habitat``).
    profile: Literal["alfred", "habitat"] = "alfred"
    max_steps: int = Field(default=30, ge=1)
    max_invalid_actions: int = Field(default=10, ge=1)
    #: A committed suite version (e.g. ``v1``) or a path to a suite JSON file.
    suite: str = "v1"
    #: Lifelong runs: objects moved by "someone else" between tasks; ``None`` keeps each sequence's own.
    perturb_k: int | None = Field(default=None, ge=0)
