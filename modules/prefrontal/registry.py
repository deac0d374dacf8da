"""Planner and critic plug-ins, keyed by config ``type``.

Built-ins: planners ``symbolic`` (offline default) and ``llm``; critics ``deterministic`` and ``llm``.
Third-party planners register through the entry-point group ``robomem.planners``: the entry point names a
class with a ``Config`` attribute (a pydantic model whose ``type`` field defaults to the entry point's name)
and a constructor ``(config, *, llm)``. They are loaded the first time an unknown type is asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pydantic import BaseModel, ValidationError

from modules.prefrontal.base import Critic, Planner
from robomem.errors import ConfigError, RegistryError
from robomem.registry import Registry

__all__ = (
    "BROKEN_ENTRY_POINTS",
    "CRITICS",
    "ENTRY_POINT_GROUP",
    "PLANNERS",
    "load_planner_entry_points",
    "plugin_config",
)

ENTRY_POINT_GROUP = "robomem.planners"
PLANNERS: Registry[Planner] = Registry("planner")
CRITICS: Registry[Critic] = Registry("critic")


#: Installed entry points that cannot be used, by name, with the reason: reported only when asked for, so
#: one broken package does not disable the others.
BROKEN_ENTRY_POINTS: dict[str, str] = {}


def load_planner_entry_points() -> list[str]:
    """Register every installed ``robomem.planners`` entry point not registered yet; returns their names.
    Broken ones are skipped and kept in :data:`BROKEN_ENTRY_POINTS`."""
    loaded = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if point.name in PLANNERS:
            continue
        found = _planner_class(point)
        if isinstance(found, str):
            BROKEN_ENTRY_POINTS[point.name] = f"planner entry point {point.name!r} ({point.value}) {found}"
            continue
        cls, config_cls = found
        PLANNERS.add(point.name, _factory(cls), config_cls)
        loaded.append(point.name)
    return loaded


def _planner_class(point: EntryPoint) -> tuple[Any, type[BaseModel]] | str:
    """The entry point's class and its ``Config``, or what is wrong with it."""
    try:
        cls = point.load()
    except Exception as err:  # whatever the plug-in's import raises
        return f"cannot be imported ({type(err).__name__}: {err})"
    config_cls = getattr(cls, "Config", None)
    if not (isinstance(config_cls, type) and issubclass(config_cls, BaseModel)):
        return "has no pydantic `Config`"
    field = config_cls.model_fields.get("type")
    default = field.default if field is not None else None
    if default != point.name:
        return f"names a class whose Config.type defaults to {default!r}, not {point.name!r}"
    return cls, config_cls


def _factory(cls: Any) -> Any:
    def build(config: BaseModel, *, llm: object = None) -> Planner:
        planner: Planner = cls(config, llm=llm)
        return planner

    return build


def plugin_config(
    registry: Registry[Any], value: object, *, section: str = "agent.planner", default: str | None = None
) -> BaseModel:
    """Validate a plug-in section with the config class its ``type`` selects (loading entry points once on a
    miss). A section without ``type`` is the ``default`` plug-in's (``agent.planner.x=1`` on the command line
    sets ``x`` of the default planner). Errors become :class:`ConfigError` naming the dotted key."""
    if isinstance(value, BaseModel):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(f"should be a mapping, got {type(value).__name__}", key=section)
    defaulted = "type" not in value and default is not None
    name = default if defaulted else value.get("type")
    if not isinstance(name, str):
        raise ConfigError("is required (e.g. type: symbolic)", key=f"{section}.type")
    if name not in registry and registry is PLANNERS:
        load_planner_entry_points()
        if name in BROKEN_ENTRY_POINTS:
            raise RegistryError(BROKEN_ENTRY_POINTS[name])
    try:
        config_cls = registry.get(name).config_cls
    except RegistryError as err:
        raise ConfigError(str(err), key=f"{section}.type") from None
    try:
        return config_cls.model_validate({**value, "type": name})
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join((section, *(str(p) for p in first["loc"])))
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        if defaulted and first["type"] == "extra_forbidden":
            message += f" of the default {registry.family} {name!r} (set {section}.type to choose another)"
        raise ConfigError(message, key=key) from None


# Registration side effect: the built-in planners and critics are always available.
import modules.prefrontal.builtins  # noqa: E402, F401
