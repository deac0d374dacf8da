"""Vector stores over Chroma collections: an embedded ``PersistentClient`` or a shared ``chroma run`` server.

robomem always passes its own vectors (``embeddings=`` / ``query_embeddings=``). Each collection is created
with :class:`PrecomputedOnly`, an embedding function that raises if Chroma ever calls it, so Chroma's default
embedder (which downloads a model) can never kick in. Collections use the cosine space and record the
robomem embedder in their metadata; reopening with another embedder raises instead of mixing vectors.

Clients are pooled per persistence path or server address (:mod:`robomem.stores.chroma_clients`).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, cast

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from robomem.embeddings.base import Vectors
from robomem.errors import StoreError
from robomem.stores._common import EMBEDDER_KEY, check_items, check_queries, check_where, normalise_rows
from robomem.stores.base import Metadata, VectorHit, VectorItem, VectorStore
from robomem.stores.chroma_clients import POOL, client_settings
from robomem.stores.chroma_shared import ServerLock, retrying

__all__ = ("ChromaVectorStore", "PrecomputedOnly")

_DIM_KEY = "robomem_dim"


class PrecomputedOnly(EmbeddingFunction[Documents]):
    """Chroma embedding function that refuses to embed: robomem supplies every vector itself."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        raise StoreError(
            "Chroma tried to embed text itself; robomem must pass precomputed vectors "
            "(`embeddings=` / `query_embeddings=`)"
        )

    @staticmethod
    def name() -> str:
        return "robomem-precomputed"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> PrecomputedOnly:
        return PrecomputedOnly()

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"


# Registered so a collection loaded by name (another process, ``get_collection``) can rebuild it from its
# stored config instead of falling back to a "legacy" default.
register_embedding_function(PrecomputedOnly)  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def _errors(action: str) -> Iterator[None]:
    """Chroma raises ValueError, its own errors and httpx errors; callers see one StoreError."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"Chroma {action} failed: {type(exc).__name__}: {exc}") from exc


def _item(item_id: str, document: str | None, metadata: Mapping[str, object] | None) -> VectorItem:
    # Chroma's metadata type also allows lists and sparse vectors; robomem only ever writes scalars.
    scalars = {k: v for k, v in (metadata or {}).items() if isinstance(v, str | int | float | bool)}
    return VectorItem(item_id, document or "", scalars)


def _where(where: Metadata | None) -> dict[str, Any] | None:
    if not where:
        return None
    clauses = [{key: {"$eq": value}} for key, value in where.items()]
    # Chroma takes one operator per dict: several keys must be joined with $and.
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class _Revisions:
    """Writes per embedded collection in this process, over every store object opened on it (an embedded
    database has one process: :meth:`ChromaVectorStore.persistent`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def get(self, key: str) -> int:
        with self._lock:
            return self._counts.get(key, 0)

    def bump(self, key: str) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1


_REVISIONS = _Revisions()


class ChromaVectorStore(VectorStore):
    """One Chroma collection. Scores are cosine similarities (``1 - cosine distance``).

    Open with :meth:`persistent` or :meth:`http`. Search is approximate (HNSW); ``ef_search`` trades recall
    for latency. ``get`` with ids returns them in the order asked.
    """

    def __init__(
        self,
        collection: Collection,
        *,
        dim: int,
        on_close: Callable[[], None] | None = None,
        lock: Callable[[], AbstractContextManager[object]] | None = None,
        revision_key: str | None = None,
    ) -> None:
        self.collection = collection
        self.dim = dim
        #: On a server (:meth:`http`) other robots write too, and ``lock`` makes a lock held on the server.
        self.shared = lock is not None
        #: Where this collection's writes are counted (``None``: not counted, see :meth:`revision`).
        self._revision_key = None if self.shared else revision_key
        self._lock_factory = lock
        self._on_close = on_close
        self._closed = False
        self._close_lock = threading.Lock()
        self._max_batch: int | None = None

    # -- opening -----------------------------------------------------------------------------------------

    @classmethod
    def persistent(
        cls, path: Path, *, collection: str, embedder_name: str, dim: int, ef_search: int = 100
    ) -> ChromaVectorStore:
        """A collection in an embedded Chroma database under ``path`` (one process at a time)."""
        key = f"persistent:{Path(path).resolve()}"

        def create() -> ClientAPI:
            Path(path).mkdir(parents=True, exist_ok=True)
            with _errors(f"opening the database at {path}"):
                return chromadb.PersistentClient(path=str(path), settings=client_settings())

        return cls._open(key, create, collection, embedder_name, dim, ef_search, shared=False)

    @classmethod
    def http(
        cls,
        host: str,
        port: int,
        *,
        collection: str,
        embedder_name: str,
        dim: int,
        ef_search: int = 100,
        timeout: float = 30.0,
    ) -> ChromaVectorStore:
        """A collection on a Chroma server (``chroma run``), shared by several processes or robots."""
        key = f"http:{host}:{port}"

        def create() -> ClientAPI:
            # Probe with a bounded timeout first: chromadb's client has none, so a dead host would hang.
            try:
                socket.create_connection((host, port), timeout=min(timeout, 5.0)).close()
            except OSError as exc:
                if isinstance(exc, socket.gaierror):
                    # An unknown host name (the compose service `chroma`, outside compose): point elsewhere.
                    hint = "set memory.vector.host (and .port) to your Chroma server, e.g. 127.0.0.1"
                else:
                    hint = f"start one with `chroma run --host {host} --port {port} --path <dir>`"
                raise StoreError(f"no Chroma server at {host}:{port} ({exc})", hint=hint) from exc
            with _errors(f"connecting to {host}:{port}"):
                client = chromadb.HttpClient(host=host, port=port, settings=client_settings())
            session = getattr(getattr(client, "_server", None), "_session", None)
            if session is not None:
                import httpx  # a chromadb dependency

                session.timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
            return client

        return cls._open(key, create, collection, embedder_name, dim, ef_search, shared=True)

    @classmethod
    def _open(
        cls,
        key: str,
        create: Callable[[], ClientAPI],
        name: str,
        embedder_name: str,
        dim: int,
        ef_search: int,
        *,
        shared: bool,
    ) -> ChromaVectorStore:
        client = POOL.acquire(key, create)
        try:
            with _errors(f"opening collection {name!r}"):
                collection = retrying(
                    client.get_or_create_collection,
                    name,
                    configuration={"hnsw": {"space": "cosine", "ef_search": ef_search}},
                    metadata={EMBEDDER_KEY: embedder_name, _DIM_KEY: dim},
                    embedding_function=PrecomputedOnly(),
                )
            cls._check_collection(collection, embedder_name, dim, ef_search)
        except BaseException:
            POOL.release(key)
            raise
        lock = (lambda: ServerLock(client, name)) if shared else None
        return cls(
            collection, dim=dim, on_close=lambda: POOL.release(key), lock=lock, revision_key=f"{key}#{name}"
        )

    @staticmethod
    def _check_collection(collection: Collection, embedder_name: str, dim: int, ef_search: int) -> None:
        metadata = collection.metadata or {}
        stored, stored_dim = metadata.get(EMBEDDER_KEY), metadata.get(_DIM_KEY)
        if stored != embedder_name or stored_dim != dim:
            raise StoreError(
                f"Chroma collection {collection.name!r} holds vectors of embedder {stored!r} "
                f"(dim {stored_dim}), not {embedder_name!r} (dim {dim}): two models must never mix",
                hint="use another namespace or memory directory, or delete the collection to rebuild it",
            )
        with _errors("reading the collection configuration"):
            hnsw = collection.configuration.get("hnsw") or {}
        if hnsw.get("space", "cosine") != "cosine":
            raise StoreError(f"Chroma collection {collection.name!r} uses {hnsw.get('space')!r}, not cosine")
        if hnsw.get("ef_search") not in (None, ef_search):
            # An existing collection keeps its creation-time setting unless told; Chroma applies the new
            # value from the next time the collection is loaded.
            with _errors("updating ef_search"):
                retrying(collection.modify, configuration={"hnsw": {"ef_search": ef_search}})

    # -- VectorStore -------------------------------------------------------------------------------------

    def write_lock(self) -> AbstractContextManager[object]:
        self._check_open()
        if self._lock_factory is None:
            return contextlib.nullcontext()  # an embedded database has one process (see `persistent`)
        return self._lock_factory()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the vector store is closed")

    def _batch_size(self) -> int:
        if self._max_batch is None:
            with _errors("reading the maximum batch size"):
                self._max_batch = max(1, int(self.collection._client.get_max_batch_size()))
        return self._max_batch

    def revision(self) -> int | None:
        # Counted in this process only: a server's collection changes under other writers (`shared`).
        return None if self._revision_key is None else _REVISIONS.get(self._revision_key)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Counts a write before and after it: a reader that overlaps a write sees the revision change."""
        if self._revision_key is not None:
            _REVISIONS.bump(self._revision_key)
        try:
            yield
        finally:
            if self._revision_key is not None:
                _REVISIONS.bump(self._revision_key)

    def upsert(self, items: Sequence[VectorItem], vectors: Vectors) -> None:
        array = check_items(items, vectors, self.dim)
        self._check_open()
        if not items:
            return
        with self._writing():
            self._upsert(items, array)

    def _upsert(self, items: Sequence[VectorItem], array: np.ndarray) -> None:
        step = self._batch_size()
        for start in range(0, len(items), step):
            chunk = items[start : start + step]
            ids = [item.id for item in chunk]
            with _errors("upsert"):
                # Chroma's upsert *merges* metadata into an existing record; the contract says replace, so
                # keys the new metadata lacks are set to None, which deletes them. (A concurrent writer of the
                # same id between these two calls could leave a stale key: ids are meant to be unique.)
                old = retrying(self.collection.get, ids=ids, include=cast(Any, ["metadatas"]))
                old_keys = {
                    i: set(meta or ())
                    for i, meta in zip(old["ids"], old.get("metadatas") or [], strict=False)
                }
                metadatas: list[dict[str, Any] | None] = []
                for item in chunk:
                    merged: dict[str, Any] = dict.fromkeys(old_keys.get(item.id, set()) - set(item.metadata))
                    merged.update(item.metadata)
                    # Chroma rejects an empty dict; None means "no metadata".
                    metadatas.append(merged or None)
                retrying(
                    self.collection.upsert,
                    ids=ids,
                    embeddings=array[start : start + step],
                    documents=[item.text for item in chunk],
                    metadatas=cast(Any, metadatas),
                )

    def query(self, vectors: Vectors, k: int, where: Metadata | None = None) -> list[list[VectorHit]]:
        queries = check_queries(vectors, k, where, self.dim)
        self._check_open()
        if k == 0 or len(queries) == 0:
            return [[] for _ in range(len(queries))]
        with _errors("query"):
            result = retrying(
                self.collection.query,
                query_embeddings=queries,
                n_results=k,
                where=cast(Any, _where(where)),
                include=cast(Any, ["documents", "metadatas", "distances"]),
            )
        ids = result["ids"]
        documents = result.get("documents") or [[] for _ in ids]
        metadatas = result.get("metadatas") or [[] for _ in ids]
        distances = result.get("distances") or [[] for _ in ids]
        hits: list[list[VectorHit]] = []
        for row_ids, row_docs, row_meta, row_dist in zip(ids, documents, metadatas, distances, strict=True):
            hits.append(
                [
                    VectorHit(_item(item_id, doc, meta), min(1.0, max(-1.0, 1.0 - float(dist))))
                    for item_id, doc, meta, dist in zip(row_ids, row_docs, row_meta, row_dist, strict=True)
                ]
            )
        return hits

    def get(self, ids: Sequence[str] | None = None, where: Metadata | None = None) -> list[VectorItem]:
        check_where(where)
        self._check_open()
        wanted = None if ids is None else list(dict.fromkeys(ids))
        if wanted is not None and not wanted:
            return []
        with _errors("get"):
            result = retrying(
                self.collection.get,
                ids=wanted,
                where=cast(Any, _where(where)),
                include=cast(Any, ["documents", "metadatas"]),
            )
        n = len(result["ids"])
        documents: Sequence[str | None] = result.get("documents") or [None] * n
        metadatas: Sequence[Mapping[str, object] | None] = result.get("metadatas") or [None] * n
        found = {
            item_id: _item(item_id, doc, meta)
            for item_id, doc, meta in zip(result["ids"], documents, metadatas, strict=True)
        }
        if wanted is None:
            return list(found.values())
        return [found[i] for i in wanted if i in found]

    def get_with_vectors(self, where: Metadata | None = None) -> tuple[list[VectorItem], Vectors]:
        check_where(where)
        self._check_open()
        with _errors("get"):
            result = retrying(
                self.collection.get,
                where=cast(Any, _where(where)),
                include=cast(Any, ["documents", "metadatas", "embeddings"]),
            )
        n = len(result["ids"])
        documents: Sequence[str | None] = result.get("documents") or [None] * n
        metadatas: Sequence[Mapping[str, object] | None] = result.get("metadatas") or [None] * n
        items = [
            _item(item_id, doc, meta)
            for item_id, doc, meta in zip(result["ids"], documents, metadatas, strict=True)
        ]
        embeddings = result.get("embeddings")
        vectors = np.zeros((0, self.dim), dtype=np.float32) if n == 0 or embeddings is None else embeddings
        return items, normalise_rows(np.ascontiguousarray(vectors, dtype=np.float32).reshape(n, self.dim))

    def delete(self, ids: Sequence[str]) -> None:
        self._check_open()
        wanted = list(dict.fromkeys(ids))
        if wanted:
            with self._writing(), _errors("delete"):
                retrying(self.collection.delete, ids=wanted)

    def count(self) -> int:
        self._check_open()
        with _errors("count"):
            return int(retrying(self.collection.count))

    def close(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        if self._on_close is not None:
            self._on_close()

    def __repr__(self) -> str:
        return f"ChromaVectorStore({self.collection.name!r}, dim={self.dim})"
