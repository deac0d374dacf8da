"""The single registry mechanism: plug-ins keyed by their config ``type``.

A duplicate name raises, an unknown name raises and lists what exists. Environments, agents, LLM backends,
embedders, stores, the thalamus and every memory-operation variant use it.

Third-party packages add entries through an entry-point group (``entry_points=``): the entry point names a
factory ``(config, **collaborators)`` — a function or a class — whose config class is its ``Config``
attribute, or the registry's ``config_cls`` when it has none. It may instead name anything in a module
whose import registers the entry itself (with :meth:`Registry.register`). Entry points are loaded the first
time an unknown name is asked for; a broken one is reported only when its name is asked for, so one broken
package does not disable the others.
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

__all__ = ("Entry", "Registry")

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    factory: Callable[..., T]
    config_cls: type[BaseModel]


class Registry(Generic[T]):
    """A named family of plug-ins. ``factory(config, **collaborators)`` builds one from its config.

    ``entry_points``: the entry-point group third-party packages register in. ``builtins``: a module whose
    import registers the built-in entries, imported on the first lookup (so a config class can check names
    without importing the implementations when it is itself imported). ``config_cls``: the config class of
    an entry-point factory that has no ``Config`` of its own.
    """

    def __init__(
        self,
        family: str,
        *,
        entry_points: str | None = None,
        builtins: str | None = None,
        config_cls: type[BaseModel] | None = None,
    ) -> None:
        self.family = family
        self.entry_point_group = entry_points
        self._builtins = builtins
        self._default_config = config_cls
        self._entries: dict[str, Entry[T]] = {}
        #: Installed entry points that cannot be used, by name, with the reason.
        self.broken: dict[str, str] = {}
        self._loading = threading.RLock()

    def register(
        self, name: str, config_cls: type[BaseModel]
    ) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator registering ``factory`` under ``name`` with the config class it accepts."""

        def decorate(factory: Callable[..., T]) -> Callable[..., T]:
            self.add(name, factory, config_cls)
            return factory

        return decorate

    def add(self, name: str, factory: Callable[..., T], config_cls: type[BaseModel]) -> None:
        if name in self._entries:
            raise RegistryError(f"{self.family} type {name!r} is already registered")
        self._entries[name] = Entry(name, factory, config_cls)

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
        if self._builtins is not None:
            with self._loading:
                module, self._builtins = self._builtins, None
                importlib.import_module(module)

    def load_entry_points(self) -> list[str]:
        """Register every installed entry point of the group not registered yet; returns their names."""
        if self.entry_point_group is None:
            return []
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
            return "is not a factory with a pydantic `Config`"
        field = config_cls.model_fields.get("type") if own is not None else None
        if field is not None and field.default != name:
            return f"names a class whose Config.type defaults to {field.default!r}, not {name!r}"
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

    def dispatch(self, value: object, *, base: type[BaseModel], section: str, default: str) -> object:
        """For a field typed ``base`` whose ``type`` may select a subclass of it (a plug-in's own config):
        the value validated as that subclass, else the value unchanged, for pydantic to validate as ``base``
        (which then names the nested key of any error, and checks ``type`` itself)."""
        name = value.get("type", default) if isinstance(value, Mapping) else getattr(value, "type", None)
        if not isinstance(name, str) or isinstance(value, BaseModel):
            return value
        try:
            config_cls = self.get(name).config_cls
        except RegistryError:
            return value
        if config_cls is base or not issubclass(config_cls, base):
            return value
        return self.config(value, section=section, default=default)

    def config(self, value: object, *, section: str, default: str) -> BaseModel:
        """Validate a plug-in section (a mapping, or an already built config) with the config class its
        ``type`` (``default`` when absent) selects. Errors are :class:`ConfigError` naming the dotted key
        under ``section`` (pydantic lets them through unchanged)."""
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
            raise ConfigError(str(err), key=f"{section}.type") from None
        if isinstance(value, BaseModel):
            if isinstance(value, config_cls):
                return value
            value = value.model_dump()
        try:
            return config_cls.model_validate({**value, "type": name})
        except ValidationError as err:
            first = err.errors()[0]
            key = ".".join((section, *(str(p) for p in first["loc"])))
            message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
            raise ConfigError(" ".join(message.removeprefix("Value error, ").split()), key=key) from None
