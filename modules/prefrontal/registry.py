"""Planner and critic plug-ins, keyed by config ``type``.

Built-ins: planners ``symbolic`` (offline default) and ``llm``; critics ``deterministic`` and ``llm``.
Third-party planners register through the entry-point group ``robomem.planners``: the entry point names a
class with a ``Config`` attribute (a pydantic model whose ``type`` field defaults to the entry point's name)
and a constructor ``(config, *, llm)``. They are loaded the first time an unknown type is asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, ValidationError

from modules.prefrontal.base import Critic, Planner
from robomem.errors import ConfigError, RegistryError
from robomem.registry import Registry

__all__ = ("CRITICS", "ENTRY_POINT_GROUP", "PLANNERS", "load_planner_entry_points", "plugin_config")

ENTRY_POINT_GROUP = "robomem.planners"
PLANNERS: Registry[Planner] = Registry("planner")
CRITICS: Registry[Critic] = Registry("critic")


def load_planner_entry_points() -> list[str]:
    """Register every installed ``robomem.planners`` entry point not registered yet; returns their names."""
    loaded = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name in PLANNERS:
            continue
        cls = point.load()
        config_cls = getattr(cls, "Config", None)
        if not (isinstance(config_cls, type) and issubclass(config_cls, BaseModel)):
            raise RegistryError(
                f"planner entry point {point.name!r} ({point.value}) has no pydantic `Config`"
            )
        PLANNERS.add(point.name, _factory(cls), config_cls)
        loaded.append(point.name)
    return loaded


def _factory(cls: Any) -> Any:
    def build(config: BaseModel, *, llm: object = None) -> Planner:
        planner: Planner = cls(config, llm=llm)
        return planner

    return build


def plugin_config(registry: Registry[Any], value: object, *, section: str = "agent.planner") -> BaseModel:
    """Validate a plug-in section with the config class its ``type`` selects (loading entry points once on a
    miss). Errors become :class:`ConfigError` naming the dotted key."""
    if isinstance(value, BaseModel):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(f"should be a mapping, got {type(value).__name__}", key=section)
    name = value.get("type")
    if not isinstance(name, str):
        raise ConfigError("is required (e.g. type: symbolic)", key=f"{section}.type")
    if name not in registry and registry is PLANNERS:
        load_planner_entry_points()
    try:
        config_cls = registry.get(name).config_cls
    except RegistryError as err:
        raise ConfigError(str(err), key=f"{section}.type") from None
    try:
        return config_cls.model_validate(dict(value))
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join((section, *(str(p) for p in first["loc"])))
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ConfigError(message, key=key) from None


# Registration side effect: the built-in planners and critics are always available.
import modules.prefrontal.builtins  # noqa: E402, F401
