"""Open a whole memory system from its config: one memory directory holds everything.

Layout of ``<memory_dir>``: ``manifest.json`` (format and embedder — vectors of two models must never mix),
``spatial.sqlite`` (knowledge graphs per site), ``chroma/`` or ``vectors/`` (episodic and semantic
collections, unless they live on a Chroma server), ``temporal/`` (the running episode's buffer),
``episodes.jsonl`` and ``*_archive.jsonl`` (raw and retired experience, append-only).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from modules.hippocampus.base import MemoryStore
from modules.hippocampus.config import MemoryConfig
from modules.hippocampus.episodic import EpisodicMemory
from modules.hippocampus.semantic import SemanticMemory
from modules.hippocampus.spatial.memory import SpatialMemory
from modules.hippocampus.system import MemorySystem
from modules.hippocampus.temporal import TemporalMemory
from robomem.embeddings.base import Embedder
from robomem.embeddings.factory import make_embedder
from robomem.errors import ConfigError, StoreError
from robomem.llm.base import LLMClient
from robomem.storage import write_json_atomic
from robomem.stores.base import VectorStore
from robomem.stores.factory import open_vector_store

__all__ = ("MEMORY_FORMAT", "open_memory", "wipe_memory")

MEMORY_FORMAT = 1


def _check_manifest(memory_dir: Path, config: MemoryConfig, embedder: Embedder) -> None:
    path = memory_dir / "manifest.json"
    wanted = {"format": MEMORY_FORMAT, "embedder": embedder.name, "dim": embedder.dim}
    if path.exists():
        found = json.loads(path.read_text(encoding="utf-8"))
        if found.get("format") != MEMORY_FORMAT:
            raise StoreError(
                f"memory at {memory_dir} has format {found.get('format')}; this robomem reads {MEMORY_FORMAT}"
            )
        if (found.get("embedder"), found.get("dim")) != (embedder.name, embedder.dim):
            raise StoreError(
                f"memory at {memory_dir} was built with embedder {found.get('embedder')!r}, "
                f"not {embedder.name!r}",
                hint="use the same memory.embedder, or another memory.dir",
            )
        return
    memory_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, {**wanted, "created": time.time(), "vector_backend": config.vector.type})


def wipe_memory(config: MemoryConfig, memory_dir: Path, *, embedder: Embedder | None = None) -> None:
    """Delete everything the memory holds — only ever on explicit request (``--fresh-memory``)."""
    if config.vector.type == "chroma_http":
        # The collections live on the shared server, not in the folder: empty them there.
        embedder = embedder or make_embedder(config.embedder)
        for name in ("episodic", "semantic"):
            store = open_vector_store(
                config.vector, memory_dir=memory_dir, name=name, embedder_name=embedder.name, dim=embedder.dim
            )
            try:
                store.delete([item.id for item in store.get()])
            finally:
                store.close()
    if memory_dir.exists():
        for child in memory_dir.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()


def open_memory(
    config: MemoryConfig,
    memory_dir: Path,
    *,
    llm: LLMClient | None = None,
    embedder: Embedder | None = None,
    fresh: bool = False,
) -> MemorySystem:
    """The configured stores over ``memory_dir`` (created if needed). ``fresh`` wipes it first."""
    if config.needs_llm() and llm is None:
        raise ConfigError("an LLM memory operation is configured but no LLM is available", key="memory")
    embedder = embedder or make_embedder(config.embedder)
    if fresh:
        wipe_memory(config, memory_dir, embedder=embedder)
    _check_manifest(memory_dir, config, embedder)
    stores: list[MemoryStore] = []
    opened: list[VectorStore] = []

    def vectors(name: str) -> VectorStore:
        store = open_vector_store(
            config.vector, memory_dir=memory_dir, name=name, embedder_name=embedder.name, dim=embedder.dim
        )
        opened.append(store)
        return store

    try:
        for name in config.stores:
            if name == "temporal":
                stores.append(TemporalMemory(config.temporal, memory_dir=memory_dir, llm=llm))
            elif name == "spatial":
                stores.append(
                    SpatialMemory(config.spatial, memory_dir=memory_dir, embedder=embedder, llm=llm)
                )
            elif name == "episodic":
                stores.append(
                    EpisodicMemory(
                        config.episodic,
                        store=vectors("episodic"),
                        embedder=embedder,
                        memory_dir=memory_dir,
                        llm=llm,
                    )
                )
            else:
                stores.append(
                    SemanticMemory(
                        config.semantic,
                        store=vectors("semantic"),
                        embedder=embedder,
                        memory_dir=memory_dir,
                        llm=llm,
                    )
                )
    except BaseException:
        for store in opened:
            store.close()
        raise
    return MemorySystem(stores, parallel=config.parallel)
