from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel

from envs.registry import ENVS
from robomem.agents import AGENTS, RandomAgent, RandomAgentConfig
from robomem.errors import RegistryError
from robomem.registry import Registry


class WidgetConfig(BaseModel):
    type: Literal["widget"] = "widget"
    size: int = 1


class Widget:
    def __init__(self, config: WidgetConfig, **collaborators: object) -> None:
        self.config = config
        self.collaborators = collaborators


@pytest.fixture
def widgets() -> Registry[Widget]:
    registry: Registry[Widget] = Registry("widget")
    registry.add("widget", Widget, WidgetConfig)
    return registry


def test_build_dispatches_on_type_and_passes_collaborators(widgets: Registry[Widget]) -> None:
    built = widgets.build(WidgetConfig(size=3), clock="fake")
    assert isinstance(built, Widget)
    assert built.config.size == 3
    assert built.collaborators == {"clock": "fake"}
    assert widgets.get("widget").config_cls is WidgetConfig


def test_duplicate_name_raises(widgets: Registry[Widget]) -> None:
    with pytest.raises(RegistryError, match="widget type 'widget' is already registered"):
        widgets.add("widget", Widget, WidgetConfig)


def test_register_decorator(widgets: Registry[Widget]) -> None:
    @widgets.register("gadget", WidgetConfig)
    def make_gadget(config: WidgetConfig) -> Widget:
        return Widget(config)

    assert widgets.names() == ("gadget", "widget")
    with pytest.raises(RegistryError, match="already registered"):
        widgets.register("gadget", WidgetConfig)(make_gadget)


def test_unknown_name_lists_what_exists(widgets: Registry[Widget]) -> None:
    with pytest.raises(RegistryError, match=r"^unknown widget type 'nope'; available: widget$"):
        widgets.get("nope")
    with pytest.raises(RegistryError, match="available: none"):
        Registry[Widget]("empty").get("nope")


def test_build_without_type_raises(widgets: Registry[Widget]) -> None:
    class Untyped(BaseModel):
        size: int = 1

    with pytest.raises(RegistryError, match="has no 'type'"):
        widgets.build(Untyped())


def test_unregister_and_clear(widgets: Registry[Widget]) -> None:
    widgets.unregister("widget")
    assert "widget" not in widgets
    with pytest.raises(RegistryError, match="unknown widget type"):
        widgets.unregister("widget")
    widgets.add("widget", Widget, WidgetConfig)
    widgets.clear()
    assert list(widgets) == []


def test_built_in_plug_ins_are_registered() -> None:
    assert "household" in ENVS
    assert AGENTS.get("random").config_cls is RandomAgentConfig
    assert isinstance(AGENTS.build(RandomAgentConfig(seed=3)), RandomAgent)
