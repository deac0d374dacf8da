"""The done-when test of plug-ins: pip installs the example package (examples/robomem_example_plugins), which
adds an environment, a vector store, an embedder and a thalamus through entry points only, selects each from
its YAML preset and runs episodes on them; then runs robomem's public conformance suites on its env and its
store. The package is installed into a folder of its own (``pip install --target``) put on ``sys.path``:
what pip leaves, without changing the test venv for other tests."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from envs.registry import ENVS
from modules.thalamus.registry import THALAMI
from robomem.cli.main import main
from robomem.config import load_config
from robomem.embeddings.factory import EMBEDDERS
from robomem.stores.factory import VECTOR_STORES
from robomem.testing.conformance import RegistryStoreFactory, run_env_suite, run_vector_store_suite

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "robomem_example_plugins"
PRESET = EXAMPLE / "pantry.yaml"
PLUGINS = ((ENVS, "pantry"), (VECTOR_STORES, "jsonfile"), (EMBEDDERS, "letters"), (THALAMI, "tagging"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    work = tmp_path_factory.mktemp("example")
    source, target = work / "src", work / "site"
    shutil.copytree(EXAMPLE, source)  # pip builds in the source folder: not in the repository
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--no-build-isolation", "--no-index", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (target / "robomem_example_plugins").is_dir()
    for registry, name in PLUGINS:
        assert name not in registry  # nothing of it before the install
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    try:
        yield target
    finally:
        sys.path.remove(str(target))
        for registry, name in PLUGINS:
            if name in registry:
                registry.unregister(name)
        for module in [m for m in sys.modules if m.startswith("robomem_example_plugins")]:
            del sys.modules[module]


def test_the_preset_selects_each_plug_in_from_its_package(installed: Path) -> None:
    cfg = load_config(PRESET)
    agent = cfg.agent
    chosen = {
        "env": type(cfg.env),
        "thalamus": type(agent.thalamus),  # type: ignore[attr-defined]
        "embedder": type(agent.memory.embedder),  # type: ignore[attr-defined]
        "vector": type(agent.memory.vector),  # type: ignore[attr-defined]
    }
    assert {k: (v.__module__, v.__name__) for k, v in chosen.items()} == {
        "env": ("robomem_example_plugins.pantry", "PantryConfig"),
        "thalamus": ("robomem_example_plugins.thalamus", "TaggingConfig"),
        "embedder": ("robomem_example_plugins.embedder", "LetterEmbedderConfig"),
        "vector": ("robomem_example_plugins.store", "JsonFileConfig"),
    }
    assert str(installed) in sys.modules["robomem_example_plugins"].__file__  # type: ignore[operator]


def test_an_evaluation_runs_on_the_plug_ins(installed: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    args = ["eval", "--config", str(PRESET), "--no-progress", "--run-dir", str(run)]
    assert main(args) == 0
    saved = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
    assert saved["env"]["items"] == ["Apple", "Bread", "Mug", "Kettle"]
    base = json.loads((run / "summary.json").read_text(encoding="utf-8"))["subsets"]["base"]
    # One episode per item; the symbolic planner speaks the pantry's grammar: find it, pick it up.
    assert (base["n"], base["successes"], base["mean_steps"], base["errors"]) == (4, 4, 2.0, 0)
    thalamus = sys.modules["robomem_example_plugins.thalamus"].TaggingThalamus
    assert thalamus.perceived >= 4 * 3  # the initial observation and two steps per episode
    manifest = json.loads((run / "memory" / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["embedder_type"], manifest["embedder"], manifest["dim"]) == ("letters", "letters-10", 10)
    assert manifest["vector_backend"] == "jsonfile"
    episodic = json.loads((run / "memory" / "jsonfile" / "robomem_episodic.json").read_text(encoding="utf-8"))
    assert episodic["embedder"] == "letters-10"
    assert len(episodic["items"]) == 4, "episodic memory lives in the plug-in store's file"


def test_the_plug_ins_pass_robomem_conformance_suites(installed: Path, tmp_path: Path) -> None:
    cfg = load_config(PRESET)
    with ENVS.build(cfg.env) as env:
        run_env_suite(env, env.tasks("base")[0])
    vector = cfg.agent.memory.vector  # type: ignore[attr-defined]
    run_vector_store_suite(RegistryStoreFactory(vector, tmp_path), persistent=True)
