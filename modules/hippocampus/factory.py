"""Open a whole memory system from its config: one memory directory holds everything.

Layout of ``<memory_dir>``: ``manifest.json`` (format and embedder: its type, model name and dimension —
vectors of two models must never mix; memories made before the type was recorded are checked by model name
and dimension), ``spatial.sqlite`` (knowledge graphs per site), ``chroma/`` or ``exact/`` (episodic and
semantic collections, unless they live on a Chroma server), ``temporal/`` (the running episode's buffer),
``episodes.jsonl`` and ``*_archive.jsonl`` (raw and retired experience, append-only), ``pending/`` (the
running episode's long-term buffers and consolidation intents) and ``semantic_episodes.jsonl`` (the episodes
whose lessons are written). Wiping deletes exactly these (:data:`OWN_ENTRIES`), and only in a folder whose
manifest says it is a memory.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

from modules.hippocampus.base import MemoryStore
from modules.hippocampus.config import MemoryConfig
from modules.hippocampus.dirlock import LOCK_NAME, MemoryDirLock
from modules.hippocampus.episodic import EpisodicMemory, check_raw_log
from modules.hippocampus.semantic import SemanticMemory
from modules.hippocampus.spatial.memory import SpatialMemory
from modules.hippocampus.system import MemorySystem
from modules.hippocampus.temporal import TemporalMemory
from robomem.embeddings.base import Embedder
from robomem.embeddings.factory import make_embedder
from robomem.errors import ConfigError, StoreError
from robomem.llm.accounting import LLMAccounting
from robomem.llm.base import LLMClient
from robomem.storage import read_json_file, unwritable_part, write_json_atomic
from robomem.stores.base import VectorStore
from robomem.stores.factory import open_vector_store

log = logging.getLogger(__name__)

__all__ = ("MEMORY_FORMAT", "OWN_ENTRIES", "check_memory_dir", "check_wipeable", "open_memory", "wipe_memory")

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
        "semantic_episodes.jsonl",
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
    if not any(child.name != LOCK_NAME for child in memory_dir.iterdir()):
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


def _check_manifest(memory_dir: Path, config: MemoryConfig, embedder: Embedder, kind: str | None) -> None:
    """``kind``: the embedder's registry type, ``None`` when the caller handed an embedder in (unknown)."""
    path = memory_dir / "manifest.json"
    wanted: dict[str, object] = {"format": MEMORY_FORMAT, "embedder": embedder.name, "dim": embedder.dim}
    if kind is not None:
        wanted["embedder_type"] = kind
    if path.exists():
        found = read_json_file(path, "memory manifest")
        if not isinstance(found, dict):
            raise StoreError(f"the memory manifest {path} is damaged (not a JSON object)")
        if found.get("format") != MEMORY_FORMAT:
            raise StoreError(
                f"memory at {memory_dir} has format {found.get('format')}; this robomem reads {MEMORY_FORMAT}"
            )
        # Older memories record no type; before the endpoint embedder, the model name told it.
        old_kind = found.get("embedder_type") or _EARLIER_TYPES.get(str(found.get("embedder")))
        kind = kind or old_kind
        was = (old_kind or kind, found.get("embedder"), found.get("dim"))
        if was != (kind, embedder.name, embedder.dim):
            raise StoreError(
                f"memory at {memory_dir} was built with the {_describe(*was)}, not the "
                f"{_describe(kind, embedder.name, embedder.dim)}: vectors of two models must never mix",
                hint=f"{_fix(was, kind, embedder.name)}, or start another memory with --fresh-memory or "
                "a new agent.memory.dir",
            )
        return
    memory_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, {**wanted, "created": time.time(), "vector_backend": config.vector.type})


def check_memory_dir(memory_dir: Path) -> None:
    """A memory folder must be a folder this process can write to, all of it (a run writes to every store):
    say so before anything is opened, instead of failing in the middle of a store."""
    if memory_dir.exists() and not memory_dir.is_dir():
        raise StoreError(f"the memory folder {str(memory_dir)!r} is a file, not a folder (memory.dir)")
    blocked = unwritable_part(memory_dir) if memory_dir.exists() else None
    if blocked is not None:
        raise StoreError(
            f"the memory folder {str(memory_dir)!r} is read-only ({blocked} is not writable); a run writes "
            "to its memory",
            hint="make it writable, or use a copy; `robomem memory show` reads a read-only memory",
        )


#: The type of each embedder robomem had before manifests recorded it.
_EARLIER_TYPES = {"all-MiniLM-L6-v2": "minilm", "hashing-ngrams-v1": "hashing"}


def _describe(kind: object, model: object, dim: object) -> str:
    return f"{kind} embedder {model!r} (dim {dim})"


def _fix(was: tuple[object, object, object], kind: object, model: str) -> str:
    """The settings that reopen the memory as it was built."""
    old_kind, old_model, old_dim = was
    if old_kind != kind:
        if old_kind == "openai":
            return f"set agent.memory.embedder.type=openai agent.memory.embedder.model={old_model} back"
        return f"set agent.memory.embedder.type={old_kind} back"
    if old_model != model:
        if kind == "openai":
            return f"set agent.memory.embedder.model={old_model} back"
        return f"use the embedder that makes {old_model!r} with agent.memory.embedder"
    return f"set agent.memory.embedder.dim={old_dim} (and serve the model that gives it)"


def _embedder_identity(config: MemoryConfig, memory_dir: Path, embedder: Embedder | None) -> tuple[str, int]:
    """The embedder the memory was built with: from the caller, else the manifest (loading no model)."""
    if embedder is not None:
        return embedder.name, embedder.dim
    path = memory_dir / "manifest.json"
    if path.exists():
        found = read_json_file(path, "memory manifest")
        try:
            return str(found["embedder"]), int(found["dim"])
        except (TypeError, KeyError, ValueError):
            raise StoreError(f"the memory manifest {path} is damaged (no embedder and dim)") from None
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
    lock = MemoryDirLock(memory_dir) if memory_dir.is_dir() else None  # not while a run uses it
    try:
        _wipe_held(config, memory_dir, embedder=embedder, shared=shared)
    finally:
        if lock is not None:
            if lock.first_hold:  # a wipe on its own leaves nothing of robomem's behind, its lock file neither
                lock.path.unlink(missing_ok=True)
            lock.release()


def _wipe_held(config: MemoryConfig, memory_dir: Path, *, embedder: Embedder | None, shared: bool) -> None:
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
            if child.name == LOCK_NAME:
                continue  # held by this wipe (see modules.hippocampus.dirlock)
            if not _own(child.name):
                kept.append(child.name)
                continue
            try:
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
            except OSError as err:
                raise StoreError(
                    f"cannot wipe the memory in {str(memory_dir)!r}: {child.name}: {err.strerror or err}",
                    hint="make the folder writable and wipe again (what was deleted so far is gone)",
                ) from None
        if kept:
            log.warning("wiped the memory in %s; kept what robomem did not write there: %s", memory_dir, kept)


def open_memory(
    config: MemoryConfig,
    memory_dir: Path,
    *,
    llm: LLMClient | None = None,
    embedder: Embedder | None = None,
    fresh: bool = False,
    accounting: LLMAccounting | None = None,
) -> MemorySystem:
    """The configured stores over ``memory_dir`` (created if needed). ``fresh`` wipes it first. An endpoint
    embedder accounts its requests in ``accounting``."""
    if config.needs_llm() and llm is None:
        raise ConfigError("an LLM memory operation is configured but no LLM is available", key="memory")
    check_memory_dir(memory_dir)
    if fresh:
        check_wipeable(memory_dir)  # before the lock file makes a new folder non-empty
    lock = MemoryDirLock(memory_dir)
    made = embedder is None  # only an embedder made here is closed with the memory
    try:
        embedder = embedder or make_embedder(config.embedder, accounting=accounting)
    except BaseException:
        lock.release()
        raise
    if fresh:
        try:
            wipe_memory(config, memory_dir, embedder=embedder)
        except BaseException:
            lock.release()
            raise
    try:
        _check_manifest(memory_dir, config, embedder, config.embedder.type if made else None)
        if "episodic" in config.stores:
            # Before any store opens: a refused memory stays as it was.
            check_raw_log(memory_dir / "episodes.jsonl")
    except BaseException:
        close = getattr(embedder, "close", None)
        if made and callable(close):
            close()
        lock.release()
        raise
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
        lock.release()
        raise
    system = MemorySystem(stores, parallel=config.threads(), background=config.parallel is not False)
    system.on_close.append(lock.release)
    close = getattr(embedder, "close", None)
    if callable(close) and made:
        system.on_close.append(close)
    return system
