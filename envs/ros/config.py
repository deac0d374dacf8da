"""Configuration of the ROS 2 robot adapter (``env.type: ros``). Importing it never imports rclpy."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ("RosConfig",)


class RosConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["ros"] = "ros"
    #: ROS namespace of the skill server's topics (deploy/ros2/CONTRACT.md).
    namespace: str = "/robomem"
    #: ROS domain id; ``None`` uses ``$ROS_DOMAIN_ID`` (or 0), like every ROS 2 node.
    domain_id: int | None = Field(default=None, ge=0, le=232)
    #: Action grammar; ``None`` takes the one the skill server announces on ``describe``.
    profile: str | None = None
    #: A YAML/JSON task file (instructions + scene ids) for robots that carry no task suites.
    tasks_file: str | None = None
    #: Longest wait for the skill server to be discovered when the env is built.
    connect_timeout_s: float = Field(default=20.0, gt=0)
    #: Longest a non-skill request (reset, tasks, perturb) may take.
    request_timeout_s: float = Field(default=30.0, gt=0)
    #: Skill timeout when the caller gives none (the cerebellum passes its own).
    step_timeout_s: float = Field(default=120.0, gt=0)
    #: After a timeout: how long the server has to confirm it stopped the skill before it counts as dead.
    cancel_timeout_s: float = Field(default=5.0, gt=0)
    #: No heartbeat for this long means the skill server is dead.
    liveness_timeout_s: float = Field(default=3.0, gt=0)
    #: Longest wait for the perception that follows a finished skill.
    perception_timeout_s: float = Field(default=5.0, gt=0)
    #: Episode limits, enforced here because a real robot's server does not know about episodes.
    max_steps: int = Field(default=30, ge=1)
    max_invalid_actions: int = Field(default=10, ge=1)
    #: Attach the latest camera frame (``camera/compressed``) to every observation.
    images: bool = False

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        name = "/" + value.strip("/")
        parts = name[1:].split("/") if name != "/" else []
        if not all(p and (p[0].isalpha() or p[0] == "_") and p.replace("_", "").isalnum() for p in parts):
            raise ValueError(f"{value!r} is not a ROS namespace (letters, digits, '_' and '/')")
        return name
