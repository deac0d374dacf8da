"""The single registry mechanism: plug-ins keyed by their config ``type``, and the one validator of a
"plug-in config chosen by ``type``" section.

Every plug-in family — environments, agents, planners, critics, the thalamus, LLM clients, embedders, vector
stores and each memory-operation variant — is a :class:`Registry`. An implementation registers its own config
class next to its code (``@PLANNERS.register("mine", MineConfig)`` on a factory ``(config,
**collaborators)``); a duplicate name raises, an unknown name raises and lists what exists. A registry module
holds only the registry: it names the modules whose import registers the built-ins (``builtins=``), imported
on the first lookup, so a registry never imports an implementation at import time (no import cycles).

Third-party packages add entries through the family's entry-point group (``entry_points=``): the entry point
names a factory — a function or a class — whose config class is its ``Config`` attribute, or the registry's
``config_cls`` when it has none. It may instead name anything in a module whose import registers the entry
itself (with :meth:`Registry.register`). Entry points are loaded the first time an unknown name is asked for;
a broken one is reported only when its name is asked for, so one broken package does not disable the others.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from robomem.errors import ConfigError, RegistryError

__all__ = ("Entry", "Registry", "validation_error")

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    factory: Callable[..., T]
    config_cls: type[BaseModel]


class Registry(Generic[T]):
    """A named family of plug-ins. ``factory(config, **collaborators)`` builds one from its config.

    ``entry_points``: the entry-point group third-party packages register in. ``builtins``: modules whose
    import registers the built-in entries, imported on the first lookup. ``base``: the family's base config
    class, when the code around the plug-ins reads its fields: every entry's config class must subclass it.
    ``config_cls``: the config class of an entry-point factory without a ``Config`` of its own (default:
    ``base``).
    """

    def __init__(
        self,
        family: str,
        *,
        entry_points: str | None = None,
        builtins: str | tuple[str, ...] = (),
        base: type[BaseModel] | None = None,
        config_cls: type[BaseModel] | None = None,
    ) -> None:
        self.family = family
        self.entry_point_group = entry_points
        self._builtins = (builtins,) if isinstance(builtins, str) else tuple(builtins)
        self._base = base
        self._default_config = config_cls or base
        self._entries: dict[str, Entry[T]] = {}
        #: Installed entry points that cannot be used, by name, with the reason.
        self.broken: dict[str, str] = {}
        self._loading = threading.RLock()
        self._builtins_loaded = not self._builtins
        self._importing = False

    def register(self, name: str, config_cls: type[BaseModel]) -> Callable[[F], F]:
        """Decorator registering ``factory`` (a function or a class) under ``name`` with the config class it
        accepts; the factory is returned unchanged."""

        def decorate(factory: F) -> F:
            self.add(name, factory, config_cls)
            return factory

        return decorate

    def add(self, name: str, factory: Callable[..., T], config_cls: type[BaseModel]) -> None:
        if name in self._entries:
            taken = self._entries[name].factory
            where = f"{getattr(taken, '__module__', '?')}.{getattr(taken, '__qualname__', repr(taken))}"
            raise RegistryError(f"{self.family} type {name!r} is already registered (by {where})")
        problem = self._config_problem(config_cls)
        if problem:
            raise RegistryError(f"{self.family} type {name!r}: {problem}")
        self._entries[name] = Entry(name, factory, config_cls)

    def _config_problem(self, config_cls: object) -> str | None:
        if not (isinstance(config_cls, type) and issubclass(config_cls, BaseModel)):
            return "its config class is not a pydantic model"
        base = self._base
        if base is not None and not issubclass(config_cls, base):
            return (
                f"its config class {config_cls.__name__} must subclass {base.__module__}.{base.__name__}"
                f" (the {self.family}'s common fields)"
            )
        return None

    def get(self, name: str) -> Entry[T]:
        self._load_builtins()
        entry = self._entries.get(name)
        if entry is None and self.entry_point_group is not None:
            self.load_entry_points()
            entry = self._entries.get(name)
        if entry is not None:
            return entry
        if name in self.broken:
            raise RegistryError(self.broken[name])
        raise RegistryError(
            f"unknown {self.family} type {name!r}; available: {', '.join(self.names()) or 'none'}"
        )

    def build(self, config: BaseModel, **collaborators: object) -> T:
        name = getattr(config, "type", None)
        if not isinstance(name, str):
            raise RegistryError(f"{self.family} config has no 'type'")
        return self.get(name).factory(config, **collaborators)

    def names(self) -> tuple[str, ...]:
        self._load_builtins()
        return tuple(sorted(self._entries))

    def unregister(self, name: str) -> None:
        self.get(name)
        del self._entries[name]

    def clear(self) -> None:
        self._entries.clear()

    def __contains__(self, name: object) -> bool:
        self._load_builtins()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    # -- plug-ins ------------------------------------------------------------------------------------------

    def _load_builtins(self) -> None:
        if self._builtins_loaded:
            return
        with self._loading:  # another thread asking meanwhile waits for the built-ins
            if self._builtins_loaded or self._importing:  # `_importing`: a lookup by a built-in's import
                return
            self._importing = True
            try:
                for module in self._builtins:
                    importlib.import_module(module)
            finally:
                self._importing = False
            self._builtins_loaded = True

    def load_entry_points(self) -> list[str]:
        """Register every installed entry point of the group not registered yet; returns their names."""
        if self.entry_point_group is None:
            return []
        self._load_builtins()
        loaded: list[str] = []
        with self._loading:
            for point in entry_points(group=self.entry_point_group):
                if point.name in self._entries or point.name in self.broken:
                    continue
                where = f"{self.family} entry point {point.name!r} ({point.value})"
                try:
                    found = point.load()
                except Exception as err:  # whatever the plug-in's import raises
                    self.broken[point.name] = f"{where} cannot be imported ({type(err).__name__}: {err})"
                    continue
                if point.name not in self._entries:  # else its import registered it
                    problem = self._add_loaded(point.name, found)
                    if problem:
                        self.broken[point.name] = f"{where} {problem}"
                        continue
                loaded.append(point.name)
        return loaded

    def _add_loaded(self, name: str, found: Any) -> str | None:
        own = getattr(found, "Config", None)
        config_cls = own if own is not None else self._default_config
        if not callable(found) or not (isinstance(config_cls, type) and issubclass(config_cls, BaseModel)):
            return (
                "has no pydantic `Config`" if callable(found) else "is not a factory with a pydantic `Config`"
            )
        field = config_cls.model_fields.get("type") if own is not None else None
        if field is not None and field.default != name:
            return f"names a class whose Config.type defaults to {field.default!r}, not {name!r}"
        problem = self._config_problem(config_cls)
        if problem:
            return problem
        self.add(name, found, config_cls)
        return None

    # -- validation ----------------------------------------------------------------------------------------

    def check_name(self, name: str) -> str:
        """``name`` if registered (loading entry points on a miss); else a ``ValueError`` listing the known
        names, for pydantic validators (which then name the config key)."""
        try:
            self.get(name)
        except RegistryError as err:
            raise ValueError(str(err)) from None
        return name

    def config(self, value: object, *, section: str, default: str) -> BaseModel:
        """The one validator of a plug-in section: ``value`` (a mapping, or an already built config)
        validated with the config class its ``type`` selects — ``default`` when it has none, so
        ``agent.planner.x=1`` on the command line sets ``x`` of the default planner.

        Errors are one :class:`ConfigError` naming the dotted key under ``section`` (pydantic lets it through
        unchanged, so a field validator may return this); a broken installed plug-in is a
        :class:`RegistryError`."""
        if isinstance(value, BaseModel):
            name = getattr(value, "type", None)
        elif isinstance(value, Mapping):
            name = value.get("type", default)
        else:
            raise ConfigError(f"should be a mapping, got {type(value).__name__}", key=section)
        if not isinstance(name, str):
            raise ConfigError(f"should be a string, got {type(name).__name__}", key=f"{section}.type")
        try:
            config_cls = self.get(name).config_cls
        except RegistryError as err:
            if name in self.broken:
                raise
            raise ConfigError(str(err), key=f"{section}.type") from None
        if isinstance(value, BaseModel):
            if isinstance(value, config_cls):
                return value
            value = value.model_dump()
        try:
            return config_cls.model_validate({**value, "type": name})
        except ValidationError as err:
            first = err.errors()[0]
            if "type" not in value and first["type"] == "extra_forbidden" and len(first["loc"]) == 1:
                hint = self._other_types_hint(str(first["loc"][0]), name, section)
                if hint:
                    raise ConfigError(hint, key=f"{section}.{first['loc'][0]}") from None
            raise validation_error(err, section) from None

    def _other_types_hint(self, field: str, name: str, section: str) -> str | None:
        """For a key the default plug-in lacks but other types have: the message saying which."""
        having = [n for n, e in sorted(self._entries.items()) if field in e.config_cls.model_fields]
        if not having:
            return None
        which = (
            f"type {having[0]!r} has" if len(having) == 1 else f"types {', '.join(map(repr, having))} have"
        )
        return (
            f"unknown key of the default {self.family} {name!r}; the {self.family} {which} it "
            f"(set {section}.type={having[0]})"
        )


def validation_error(err: ValidationError, *prefix: str) -> ConfigError:
    """The first validation failure as one :class:`ConfigError` naming its dotted key (under ``prefix``)."""
    errors = err.errors()
    first = errors[0]
    key = ".".join((*prefix, *(str(part) for part in first["loc"])))
    message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
    message = message.removeprefix("Value error, ")  # pydantic's prefix for our own validators' messages
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    return ConfigError(" ".join(message.split()), key=key or None)
