from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
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
    with pytest.raises(
        RegistryError,
        match=r"^widget type 'widget' is already registered \(by tests\.robomem\.test_registry\.Widget\)$",
    ):
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


# -- entry points: what `pip install` of a plug-in package puts on sys.path ----------------------------------

PLUGIN = """
from typing import Literal

from pydantic import BaseModel


class Sprocket:
    class Config(BaseModel):
        type: Literal["sprocket"] = "sprocket"
        teeth: int = 12

    def __init__(self, config, **collaborators):
        self.config = config


def make_cog(config, **collaborators):
    return ("cog", config)


class Misnamed:
    class Config(BaseModel):
        type: str = "something_else"

    def __init__(self, config, **collaborators):
        pass
"""


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "widget_plugin.py").write_text(PLUGIN, encoding="utf-8")
    dist = tmp_path / "widget_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: widget-plugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(
        "[robomem.test_widgets]\n"
        "sprocket = widget_plugin:Sprocket\n"
        "cog = widget_plugin:make_cog\n"
        "misnamed = widget_plugin:Misnamed\n"
        "missing = widget_plugin_not_installed:Thing\n",
        encoding="utf-8",
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("widget_plugin", None)


def test_entry_points_are_loaded_on_the_first_unknown_name(installed: Path) -> None:
    registry: Registry[object] = Registry(
        "widget", entry_points="robomem.test_widgets", config_cls=WidgetConfig
    )
    registry.add("widget", Widget, WidgetConfig)
    assert registry.names() == ("widget",)  # nothing is imported until a name is missing
    sprocket = registry.get("sprocket")
    assert sprocket.config_cls.model_fields["teeth"].default == 12  # its own Config
    assert registry.get("cog").config_cls is WidgetConfig  # no Config: the family's
    cog = WidgetConfig.model_construct(type="cog")  # type: ignore[arg-type]
    assert registry.build(cog) == ("cog", cog)
    assert registry.config({"type": "sprocket", "teeth": 3}, section="x", default="widget").model_dump() == {
        "type": "sprocket",
        "teeth": 3,
    }
    assert registry.load_entry_points() == []  # loaded once


def test_broken_entry_points_are_reported_only_when_asked_for(installed: Path) -> None:
    registry: Registry[object] = Registry(
        "widget", entry_points="robomem.test_widgets", config_cls=WidgetConfig
    )
    registry.get("sprocket")  # the good ones still load
    with pytest.raises(
        RegistryError, match=r"'missing' \(widget_plugin_not_installed:Thing\) cannot be imported"
    ):
        registry.get("missing")
    with pytest.raises(RegistryError, match=r"Config\.type defaults to 'something_else', not 'misnamed'"):
        registry.get("misnamed")
    with pytest.raises(RegistryError, match=r"^unknown widget type 'nope'; available: cog, sprocket$"):
        registry.get("nope")


def test_a_name_check_for_pydantic_validators_lists_what_exists(widgets: Registry[Widget]) -> None:
    assert widgets.check_name("widget") == "widget"
    with pytest.raises(ValueError, match=r"^unknown widget type 'nope'; available: widget$"):
        widgets.check_name("nope")


GIZMOS: Registry[Widget] = Registry("gizmo", builtins="gizmo_builtins")


def test_builtins_are_imported_on_the_first_lookup(tmp_path: Path) -> None:
    (tmp_path / "gizmo_builtins.py").write_text(
        "from tests.robomem import test_registry as t\nt.GIZMOS.add('gizmo', t.Widget, t.WidgetConfig)\n",
        encoding="utf-8",
    )
    sys.path.insert(0, str(tmp_path))
    try:
        assert "gizmo_builtins" not in sys.modules
        assert GIZMOS.names() == ("gizmo",)
        assert "gizmo" in GIZMOS and GIZMOS.get("gizmo").factory is Widget
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("gizmo_builtins", None)


# -- every family: the one validator of "plug-in config chosen by type" ------------------------------------


def test_a_vector_store_registered_with_its_own_config_is_chosen_from_the_config() -> None:
    from pydantic import ConfigDict

    from robomem.config import load_config
    from robomem.stores.config import VectorConfig
    from robomem.stores.factory import VECTOR_STORES

    class MineConfig(VectorConfig):
        type: str = "mine"
        path: str = "default"

    class Stray(BaseModel):  # not a VectorConfig: the memory system reads `type` and `namespace`
        model_config = ConfigDict(frozen=True, extra="forbid")
        type: str = "stray"

    VECTOR_STORES.add("mine", Widget, MineConfig)  # type: ignore[arg-type]
    try:
        cfg = load_config(None, ["agent.memory.vector.type=mine", "agent.memory.vector.path=/srv/x"])
        vector = cfg.agent.memory.vector  # type: ignore[attr-defined]
        assert type(vector) is MineConfig and vector.path == "/srv/x"  # its own class, its own field
        with pytest.raises(RegistryError, match=r"config class Stray must subclass robomem\.stores\.config"):
            VECTOR_STORES.add("stray", Widget, Stray)  # type: ignore[arg-type] # said at registration, not as an "unknown key" later
    finally:
        VECTOR_STORES.unregister("mine")


def test_a_key_of_another_type_than_the_default_says_which_type_has_it() -> None:
    from robomem.config import load_config
    from robomem.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        load_config(None, ["agent.thalamus.max_images=2"])
    assert str(err.value) == (
        "agent.thalamus.max_images: unknown key of the default thalamus 'deterministic'; the thalamus type "
        "'llm' has it (set agent.thalamus.type=llm)"
    )
    cfg = load_config(None, ["agent.thalamus.type=llm", "agent.thalamus.max_images=2"])
    assert cfg.agent.thalamus.max_images == 2  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match=r"^env\.nope: unknown key$"):  # a typo stays a plain unknown key
        load_config(None, ["env.nope=1"])


def test_an_llm_client_type_is_a_registry_name() -> None:
    from robomem.config import load_config
    from robomem.errors import ConfigError
    from robomem.llm.config import LLMConfig
    from robomem.llm.factory import LLMS

    class EchoConfig(LLMConfig):
        type: str = "echo"
        voice: str = "low"

    LLMS.add("echo", Widget, EchoConfig)  # type: ignore[arg-type]
    try:
        cfg = load_config(None, ["agent.llm.type=echo", "agent.llm.model=m", "agent.llm.voice=high"])
        assert type(cfg.agent.llm) is EchoConfig and cfg.agent.llm.voice == "high"  # type: ignore[attr-defined]
    finally:
        LLMS.unregister("echo")
    with pytest.raises(ConfigError, match=r"^agent\.llm\.type: unknown llm type 'echo'; available: openai$"):
        load_config(None, ["agent.llm.type=echo", "agent.llm.model=m"])


#: Each registry module and modules of its built-ins.
REGISTRATIONS = {
    "envs.registry": ("envs.household.env", "envs.bridge.client", "envs.ros"),
    "modules.prefrontal.registry": ("modules.prefrontal.builtins",),
    "modules.thalamus.registry": ("modules.thalamus.builtins",),
    "robomem.stores.factory": ("robomem.stores.chroma", "robomem.stores.exact"),
    "robomem.embeddings.factory": ("robomem.embeddings.minilm", "robomem.embeddings.endpoint"),
    "modules.hippocampus.variants": ("modules.hippocampus.temporal", "modules.hippocampus.semantic"),
}


def test_registries_and_their_built_ins_import_each_other_without_a_cycle() -> None:
    # grimp reads every import statement, also the ones inside functions.
    import grimp

    graph = grimp.build_graph("robomem", "modules", "envs")
    for registry, builtins in REGISTRATIONS.items():
        for module in builtins:
            there = graph.find_shortest_chain(importer=registry, imported=module)
            back = graph.find_shortest_chain(importer=module, imported=registry)
            assert there is None or back is None, (there, back)


@pytest.mark.parametrize(
    ("key", "family", "available"),
    [
        ("env.type", "env", "eb_bridge, household, ros"),
        ("agent.type", "agent", "random, robomem"),
        ("agent.planner.type", "planner", "llm, symbolic"),
        ("agent.critic.type", "critic", "deterministic, llm"),
        ("agent.thalamus.type", "thalamus", "deterministic, llm"),
        ("agent.executor.type", "executor", "skill"),
        ("agent.llm.type", "llm", "openai"),
        ("agent.memory.embedder.type", "embedder", "hashing, minilm, openai"),
        ("agent.memory.vector.type", "vector store", "chroma, chroma_http, exact"),
        ("agent.memory.temporal.compressor", "temporal compressor", "deterministic, llm"),
    ],
)
def test_every_family_is_chosen_by_name_and_an_unknown_one_lists_what_exists(
    key: str, family: str, available: str
) -> None:
    from robomem.config import load_config
    from robomem.errors import ConfigError

    extra = ["agent.llm.model=m"] if key == "agent.llm.type" else []
    with pytest.raises(ConfigError) as err:
        load_config(None, [f"{key}=nope", *extra])
    assert str(err.value) == f"{key}: unknown {family} type 'nope'; available: {available}"


def test_an_executor_plug_in_is_chosen_by_its_type() -> None:
    from modules.cerebellum.registry import EXECUTORS, ExecutorConfig
    from robomem.config import load_config

    class PatientConfig(ExecutorConfig):
        type: str = "patient"
        retries: int = 0

    EXECUTORS.add("patient", Widget, PatientConfig)  # type: ignore[arg-type]
    try:
        cfg = load_config(None, ["agent.executor.type=patient", "agent.executor.retries=2"])
        executor = cfg.agent.executor  # type: ignore[attr-defined]
        assert type(executor) is PatientConfig and executor.retries == 2 and executor.timeout_s == 120.0
        assert isinstance(EXECUTORS.build(executor), Widget)
    finally:
        EXECUTORS.unregister("patient")
