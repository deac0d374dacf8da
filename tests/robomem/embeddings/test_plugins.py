"""A third-party package adds an embedder, a temporal compressor and a thalamus through entry points — a real
distribution's metadata on ``sys.path``, as ``pip install`` leaves it — and a whole evaluation uses them."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from modules.hippocampus.config import MemoryConfig
from modules.hippocampus.variants import TEMPORAL_COMPRESSORS
from modules.thalamus.registry import THALAMI
from robomem.cli.main import main
from robomem.config import load_config
from robomem.embeddings.factory import EMBEDDERS
from robomem.errors import ConfigError

PLUGIN = textwrap.dedent(
    '''
    from typing import Literal

    import numpy as np

    from robomem.embeddings.config import EmbedderConfig

    CALLS = {"compress": 0, "perceive": 0}


    class LetterEmbedder:
        """Letter counts: a toy, but a real embedder."""

        class Config(EmbedderConfig):
            type: Literal["letters"] = "letters"
            alphabet: str = "abcdefghijklmnopqrstuvwxyz"

        def __init__(self, config, *, accounting=None):
            self.alphabet = config.alphabet
            self.name = f"letters-{len(self.alphabet)}"
            self.dim = len(self.alphabet)

        def embed(self, texts):
            counts = [[t.lower().count(c) for c in self.alphabet] for t in texts]
            out = np.array(counts, dtype=np.float32) + 1e-3
            return out / np.linalg.norm(out, axis=1, keepdims=True)


    class Shouting:
        def compress(self, entries, instruction):
            CALLS["compress"] += 1
            return " / ".join(e.text for e in entries).upper()


    def shouting_compressor(config, *, llm, fallback):
        return Shouting()


    class CountingThalamus:
        def __init__(self, config, *, llm, fallback):
            self.fallback = fallback

        def perceive(self, *args, **kwargs):
            CALLS["perceive"] += 1
            return self.fallback.perceive(*args, **kwargs)
    '''
)
ENTRY_POINTS = """\
[robomem.embedders]
letters = toy_memory_plugin:LetterEmbedder

[robomem.memory.temporal_compressors]
shouting = toy_memory_plugin:shouting_compressor

[robomem.thalamus]
counting = toy_memory_plugin:CountingThalamus
"""


@pytest.fixture
def installed(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / "toy_memory_plugin.py").write_text(PLUGIN, encoding="utf-8")
    dist = tmp_path / "toy_memory_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: toy-memory-plugin\nVersion: 0.1\n", encoding="utf-8"
    )
    (dist / "entry_points.txt").write_text(ENTRY_POINTS, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("toy_memory_plugin", None)
        for registry, name in (
            (EMBEDDERS, "letters"),
            (TEMPORAL_COMPRESSORS, "shouting"),
            (THALAMI, "counting"),
        ):
            if name in registry:
                registry.unregister(name)


def test_plug_in_sections_validate_with_their_own_fields(installed: Path) -> None:
    memory = MemoryConfig.model_validate(
        {"embedder": {"type": "letters", "alphabet": "abc"}, "temporal": {"compressor": "shouting"}}
    )
    assert memory.embedder.model_dump() == {
        "type": "letters",
        "cache_size": 50000,
        "batch_size": 32,
        "alphabet": "abc",
    }
    assert memory.may_use_llm() and not memory.needs_llm()  # a plug-in gets the client if there is one
    with pytest.raises(ConfigError, match=r"^agent\.memory\.embedder\.colour: unknown key$"):
        MemoryConfig.model_validate({"embedder": {"type": "letters", "colour": "red"}})


def test_an_evaluation_runs_on_the_plug_ins(installed: Path, tmp_path: Path) -> None:
    overrides = [
        "agent.type=robomem",
        "agent.memory.vector.type=exact",
        "agent.memory.embedder.type=letters",
        "agent.memory.embedder.alphabet=aeiou",
        "agent.memory.temporal.compressor=shouting",
        "agent.thalamus.type=counting",
    ]
    assert type(load_config(None, overrides).agent.thalamus).__name__ == "ThalamusConfig"  # type: ignore[attr-defined]
    run = tmp_path / "run"
    args = ["eval", "--subset", "base", "--episodes", "1", "--no-progress", "--run-dir", str(run)]
    assert main([*args, *overrides]) == 0
    calls = sys.modules["toy_memory_plugin"].CALLS
    assert calls["compress"] >= 1 and calls["perceive"] >= 2
    manifest = json.loads((run / "memory" / "manifest.json").read_text())
    assert (manifest["embedder_type"], manifest["embedder"], manifest["dim"]) == ("letters", "letters-5", 5)
    saved = (run / "config.yaml").read_text()
    assert "alphabet: aeiou" in saved and "compressor: shouting" in saved and "type: counting" in saved


def test_an_unknown_variant_lists_the_known_ones_and_the_installed_plug_ins(installed: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(None, ["agent.type=robomem", "agent.memory.temporal.compressor=whisper"])
    assert str(err.value) == (
        "agent.memory.temporal.compressor: unknown temporal compressor type 'whisper'; "
        "available: deterministic, llm, shouting"
    )
