"""The single registry mechanism: plug-ins keyed by their config ``type``.

A duplicate name raises, an unknown name raises and lists what exists. Environments, agents and (later)
LLM backends, stores and module variants all use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from robomem.errors import RegistryError

__all__ = ("Entry", "Registry")

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    factory: Callable[..., T]
    config_cls: type[BaseModel]


class Registry(Generic[T]):
    """A named family of plug-ins. ``factory(config, **collaborators)`` builds one from its config."""

    def __init__(self, family: str) -> None:
        self.family = family
        self._entries: dict[str, Entry[T]] = {}

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
        try:
            return self._entries[name]
        except KeyError:
            raise RegistryError(
                f"unknown {self.family} type {name!r}; available: {', '.join(self.names()) or 'none'}"
            ) from None

    def build(self, config: BaseModel, **collaborators: object) -> T:
        name = getattr(config, "type", None)
        if not isinstance(name, str):
            raise RegistryError(f"{self.family} config has no 'type'")
        return self.get(name).factory(config, **collaborators)

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._entries))

    def unregister(self, name: str) -> None:
        self.get(name)
        del self._entries[name]

    def clear(self) -> None:
        self._entries.clear()

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
