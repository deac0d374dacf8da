"""Configuration of the bridge client (``env.type: eb_bridge``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ("BridgeConfig",)


class BridgeConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["eb_bridge"] = "eb_bridge"
    #: Where ``envs/bridge/server.py`` (or ``python -m envs.bridge.household_server``) listens.
    host: str = "127.0.0.1"
    port: int = Field(default=7860, ge=1, le=65535)
    #: The action grammar the agent plans in; checked against the server's ``hello``.
    profile: Literal["alfred", "habitat"] = "alfred"
    #: Subsets to offer (``None``: every subset the server has). ``eval.subsets`` then selects among them.
    subsets: tuple[str, ...] | None = None
    connect_timeout_s: float = Field(default=10.0, gt=0)
    #: Longest a step may take when the caller gives no ``timeout_s``.
    step_timeout_s: float = Field(default=120.0, gt=0)
    #: Longest a reset or a task listing may take: building an EmbodiedBench env starts its simulator.
    setup_timeout_s: float = Field(default=600.0, gt=0)
