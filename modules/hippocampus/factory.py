"""Open a whole memory system from its config: one memory directory holds everything.

Layout of ``<memory_dir>``: ``manifest.json`` (format and embedder — vectors of two models must never mix),
``spatial.sqlite`` (knowledge graphs per site), ``chroma/`` or ``exact/`` (episodic and semantic
collections, unless they live on a Chroma server), ``temporal/`` and ``pending/`` (the running episode's
buffers), ``episodes.jsonl`` and ``*_archive.jsonl`` (raw and retired experience, append-only). Wiping
deletes exactly these (:data:`OWN_ENTRIES`), and only in a folder whose manifest says it is a memory.
"""

from __future__ import annotations

import json
import logging
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

log = logging.getLogger(__name__)

__all__ = ("MEMORY_FORMAT", "OWN_ENTRIES", "check_wipeable", "open_memory", "wipe_memory")

MEMORY_FORMAT = 1

#: Everything robomem keeps in a memory directory: all a wipe deletes (anything else there is left alone).
OWN_ENTRIES = frozenset(
    {
        "manifest.json",
        "spatial.sqlite",
        "spatial.sqlite-wal",
        "spatial.sqlite-shm",
        "spatial.sqlite-journal",
        "episodes.jsonl",
        "episodic_archive.jsonl",
        "semantic_archive.jsonl",
        "chroma",
        "exact",
        "temporal",
        "pending",
    }
)


def _own(name: str) -> bool:
    # Or the temp file of an atomic write to one of them (`.<name>.<random>.tmp`), left by a kill.
    return name in OWN_ENTRIES or any(
        name.startswith(f".{own}.") and name.endswith(".tmp") for own in OWN_ENTRIES
    )


def check_wipeable(memory_dir: Path, *, key: str = "memory.dir") -> None:
    """Refuse to wipe a folder that is not a robomem memory (``--fresh-memory`` pointed at the wrong
    folder): a new or empty folder is fine, anything else needs robomem's manifest."""
    if not memory_dir.exists():
        return
    if not memory_dir.is_dir():
        raise ConfigError(f"{str(memory_dir)!r} is not a folder", key=key)
    if not any(memory_dir.iterdir()):
        return
    try:
        manifest = json.loads((memory_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or not {"format", "embedder"} <= manifest.keys():
        raise ConfigError(
            f"{str(memory_dir)!r} is not a robomem memory directory (no valid manifest.json) and is not "
            "empty: refusing to wipe it",
            key=key,
            hint="point it at a robomem memory, or at a new or empty folder",
        )


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


def _embedder_identity(config: MemoryConfig, memory_dir: Path, embedder: Embedder | None) -> tuple[str, int]:
    """The embedder the memory was built with: from the caller, else the manifest (loading no model)."""
    if embedder is not None:
        return embedder.name, embedder.dim
    path = memory_dir / "manifest.json"
    if path.exists():
        found = json.loads(path.read_text(encoding="utf-8"))
        return str(found["embedder"]), int(found["dim"])
    embedder = make_embedder(config.embedder)
    return embedder.name, embedder.dim


def wipe_memory(
    config: MemoryConfig, memory_dir: Path, *, embedder: Embedder | None = None, shared: bool = False
) -> None:
    """Delete everything the memory holds — only ever on explicit request (``--fresh-memory``,
    ``robomem memory wipe``). Long-term collections on a Chroma server belong to every robot of the
    namespace: they are emptied only with ``shared=True``, otherwise left alone (and the log says so).
    Files robomem did not write are kept; a folder that is not a memory is refused
    (:func:`check_wipeable`)."""
    check_wipeable(memory_dir)
    if config.vector.type == "chroma_http":
        vector = config.vector
        where = f"{vector.host}:{vector.port}, namespace {vector.namespace!r}"
        if not shared:
            log.warning(
                "the shared episodic and semantic memory on %s was kept (other robots use it); "
                "`robomem memory wipe --memory-dir %s --shared --yes memory.vector.host=%s "
                "memory.vector.port=%s memory.vector.namespace=%s` empties it, for every robot",
                where,
                memory_dir,
                vector.host,
                vector.port,
                vector.namespace,
            )
        else:
            # The collections live on the shared server, not in the folder: empty them there.
            model, dim = _embedder_identity(config, memory_dir, embedder)
            for name in ("episodic", "semantic"):
                store = open_vector_store(
                    vector, memory_dir=memory_dir, name=name, embedder_name=model, dim=dim
                )
                try:
                    store.delete([item.id for item in store.get()])
                finally:
                    store.close()
            log.warning("emptied the shared episodic and semantic memory on %s", where)
    elif shared:
        raise ConfigError(
            "this memory keeps its long-term stores in its own folder; --shared is for a Chroma server "
            "(vector.type: chroma_http)",
            key="memory.vector.type",
        )
    if memory_dir.exists():
        kept = []
        for child in sorted(memory_dir.iterdir()):
            if not _own(child.name):
                kept.append(child.name)
            elif child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        if kept:
            log.warning("wiped the memory in %s; kept what robomem did not write there: %s", memory_dir, kept)


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
