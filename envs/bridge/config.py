"""Configuration of the bridge client (``env.type: eb_bridge``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ("BridgeConfig",)


class BridgeConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["eb_bridge"] = "eb_bridge"
    #: Where ``envs/bridge/server.py`` (or ``python -m envs.bridge.household_server``) listens.
    host: str = "127.0.0.1"
    port: int = Field(default=7860, ge=1, le=65535)
    #: A pool of servers (``["127.0.0.1:7860", "gpu2:7860"]``), used instead of host and port: each serves one
    #: episode at a time (a server has one client), so N servers serve N workers (``eval.workers``). A dead
    #: one leaves the pool and its running episode moves to another (envs/bridge/pool.py).
    endpoints: tuple[str, ...] | None = Field(default=None, min_length=1)
    #: With a pool: how long a server may take to answer ``hello`` before it counts as busy with another
    #: client and the next one is tried.
    busy_timeout_s: float = Field(default=2.0, gt=0)
    #: The action grammar the agent plans in; checked against the server's ``hello``.
    profile: Literal["alfred", "habitat"] = "alfred"
    #: Subsets to offer (``None``: every subset the server has). ``eval.subsets`` then selects among them.
    subsets: tuple[str, ...] | None = None
    connect_timeout_s: float = Field(default=10.0, gt=0)
    #: Longest a step may take when the caller gives no ``timeout_s``.
    step_timeout_s: float = Field(default=120.0, gt=0)
    #: Longest a reset or a task listing may take: building an EmbodiedBench env starts its simulator.
    setup_timeout_s: float = Field(default=600.0, gt=0)

    @field_validator("endpoints")
    @classmethod
    def _endpoints(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        for item in value:
            host, _, port = item.rpartition(":")
            if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
                raise ValueError(f"an endpoint is host:port, got {item!r}")
        if len(set(value)) != len(value):
            raise ValueError("endpoints must be distinct")
        return value

    def addresses(self) -> tuple[tuple[str, int], ...]:
        """``(host, port)`` of every server: the pool, or the one ``host``/``port``."""
        if self.endpoints is None:
            return ((self.host, self.port),)
        return tuple((host, int(port)) for host, _, port in (e.rpartition(":") for e in self.endpoints))
