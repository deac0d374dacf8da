"""Backend-specific behaviour beyond the conformance suite: embedder guards, files, pooling, recall."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from robomem.embeddings.base import Vectors
from robomem.errors import ErrorCode, StoreError
from robomem.stores import chroma_clients
from robomem.stores.base import VectorItem
from robomem.stores.chroma import ChromaVectorStore, PrecomputedOnly
from robomem.stores.config import VectorConfig
from robomem.stores.exact import ExactVectorStore
from robomem.stores.factory import VECTOR_STORES, open_vector_store
from tests.conftest import ChromaServer

DIM = 8


def _unit(n: int, seed: int = 0, dim: int = DIM) -> Vectors:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    unit: Vectors = v / np.linalg.norm(v, axis=1, keepdims=True)
    return unit


def _config(kind: str, request: pytest.FixtureRequest) -> VectorConfig:
    if kind == "chroma_http":
        server: ChromaServer = request.getfixturevalue("chroma_server")
        namespace = f"t{uuid.uuid4().hex[:16]}"  # the server is shared by the whole session
        return VectorConfig(type="chroma_http", host=server.host, port=server.port, namespace=namespace)
    return VectorConfig(type=kind)


@pytest.mark.parametrize("kind", ["exact", "chroma", pytest.param("chroma_http", marks=pytest.mark.chroma)])
def test_reopening_with_another_embedder_or_dim_raises(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    config = _config(kind, request)
    store = open_vector_store(config, memory_dir=tmp_path, name="episodic", embedder_name="model-a", dim=DIM)
    store.upsert([VectorItem("x", "x")], _unit(1))
    store.close()
    for embedder, dim in (("model-b", DIM), ("model-a", DIM * 2)):
        with pytest.raises(StoreError, match="two models must never mix") as info:
            open_vector_store(config, memory_dir=tmp_path, name="episodic", embedder_name=embedder, dim=dim)
        assert info.value.code is ErrorCode.STORE
    # The failed opens released everything: the right embedder still opens the data.
    store = open_vector_store(config, memory_dir=tmp_path, name="episodic", embedder_name="model-a", dim=DIM)
    assert store.count() == 1
    store.close()
    assert chroma_clients.POOL.keys() == ()


def test_factory_lays_out_the_memory_directory(tmp_path: Path) -> None:
    assert set(VECTOR_STORES.names()) == {"chroma", "chroma_http", "exact"}
    exact = open_vector_store(
        VectorConfig(type="exact", namespace="ns"),
        memory_dir=tmp_path,
        name="semantic",
        embedder_name="e",
        dim=4,
    )
    chroma = open_vector_store(
        VectorConfig(type="chroma", namespace="ns"),
        memory_dir=tmp_path,
        name="semantic",
        embedder_name="e",
        dim=4,
    )
    assert (tmp_path / "exact" / "ns_semantic" / "store.npz").is_file()
    assert (tmp_path / "chroma").is_dir()
    assert isinstance(chroma, ChromaVectorStore)
    assert chroma.collection.name == "ns_semantic"
    exact.close()
    chroma.close()


@pytest.mark.parametrize("name", ["", "-lead", "trail_", "has space", "x" * 65, "slash/name"])
def test_bad_store_names_are_rejected(name: str, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="bad store name"):
        open_vector_store(
            VectorConfig(type="exact"), memory_dir=tmp_path, name=name, embedder_name="e", dim=4
        )


def test_exact_store_has_one_owner_and_leaves_no_temp_files(tmp_path: Path) -> None:
    store = ExactVectorStore(tmp_path / "s", dim=DIM, embedder_name="e")
    with pytest.raises(StoreError, match="already open"):
        ExactVectorStore(tmp_path / "s", dim=DIM, embedder_name="e")
    store.upsert([VectorItem(f"i{i}", "t") for i in range(5)], _unit(5))
    store.delete(["i0"])
    store.close()
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [".lock", "store.npz"]
    with pytest.raises(StoreError, match="closed"):
        store.count()
    reopened = ExactVectorStore(tmp_path / "s", dim=DIM, embedder_name="e")
    assert reopened.count() == 4
    reopened.close()


def test_exact_store_rejects_a_corrupt_file(tmp_path: Path) -> None:
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "store.npz").write_bytes(b"not a zip file")
    with pytest.raises(StoreError, match="cannot read"):
        ExactVectorStore(tmp_path / "s", dim=DIM, embedder_name="e")
    # The failed open released its lock.
    (tmp_path / "s" / "store.npz").unlink()
    ExactVectorStore(tmp_path / "s", dim=DIM, embedder_name="e").close()


def test_exact_store_in_memory() -> None:
    store = ExactVectorStore(None, dim=DIM, embedder_name="e")
    store.upsert([VectorItem("a", "a", {"k": 1})], _unit(1))
    [[hit]] = store.query(_unit(1), 3)
    assert hit.item == VectorItem("a", "a", {"k": 1})
    assert hit.score == pytest.approx(1.0, abs=1e-6)
    hit.item.metadata["k"] = 99  # callers get copies
    assert store.get(["a"])[0].metadata == {"k": 1}
    store.close()


def test_chroma_never_embeds_text_itself() -> None:
    with pytest.raises(StoreError, match="precomputed vectors"):
        PrecomputedOnly()(["some text"])
    assert PrecomputedOnly.build_from_config(PrecomputedOnly().get_config()).name() == "robomem-precomputed"


def test_chroma_clients_are_pooled_per_path(tmp_path: Path) -> None:
    a = ChromaVectorStore.persistent(tmp_path / "db", collection="ns_one", embedder_name="e", dim=DIM)
    b = ChromaVectorStore.persistent(tmp_path / "db", collection="ns_two", embedder_name="e", dim=DIM)
    assert chroma_clients.POOL.keys() == (f"persistent:{(tmp_path / 'db').resolve()}",)
    assert a.collection._client is b.collection._client
    assert a.collection.configuration["hnsw"]["space"] == "cosine"  # type: ignore[index]
    a.close()
    a.close()
    assert b.count() == 0, "closing one store keeps the shared client open for the other"
    b.close()
    assert chroma_clients.POOL.keys() == ()


def test_unreachable_chroma_server_is_a_clear_store_error(tmp_path: Path) -> None:
    config = VectorConfig(type="chroma_http", host="127.0.0.1", port=9)  # discard port: nothing listens
    with pytest.raises(StoreError, match="chroma run") as info:
        open_vector_store(config, memory_dir=tmp_path, name="episodic", embedder_name="e", dim=DIM)
    assert "127.0.0.1:9" in str(info.value)
    assert chroma_clients.POOL.keys() == ()


def test_an_unknown_chroma_host_points_at_the_host_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Mocked: tests make no DNS queries. What a host name that does not resolve (the compose service
    # `chroma`, outside compose) raises, at the connection probe.
    def unresolvable(*_args: object, **_kwargs: object) -> None:
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", unresolvable)
    config = VectorConfig(type="chroma_http", host="chroma", port=8000)
    with pytest.raises(StoreError, match=r"no Chroma server at chroma:8000 .*set memory.vector.host"):
        open_vector_store(config, memory_dir=tmp_path, name="episodic", embedder_name="e", dim=DIM)


def test_chroma_recall_against_exact_reference(tmp_path: Path) -> None:
    """HNSW is approximate; on a few hundred 384-d vectors it should agree with brute force."""
    dim, n = 384, 400
    vectors = _unit(n, seed=1, dim=dim)
    items = [VectorItem(f"v{i}", f"v{i}") for i in range(n)]
    exact = ExactVectorStore(None, dim=dim, embedder_name="e")
    approx = ChromaVectorStore.persistent(tmp_path / "db", collection="ns_recall", embedder_name="e", dim=dim)
    exact.upsert(items, vectors)
    approx.upsert(items, vectors)
    queries = _unit(20, seed=2, dim=dim)
    truth = exact.query(queries, 10)
    found = approx.query(queries, 10)
    recall = np.mean(
        [len({h.item.id for h in t} & {h.item.id for h in f}) / 10 for t, f in zip(truth, found, strict=True)]
    )
    assert recall >= 0.9
    for t, f in zip(truth, found, strict=True):  # the same items get the same cosine scores
        scores = {h.item.id: h.score for h in t}
        for hit in f:
            if hit.item.id in scores:
                assert hit.score == pytest.approx(scores[hit.item.id], abs=1e-4)
    exact.close()
    approx.close()


def test_exact_backend_does_not_import_chromadb(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path;"
        "from robomem.stores.config import VectorConfig;"
        "from robomem.stores.factory import open_vector_store;"
        f"s = open_vector_store(VectorConfig(type='exact'), memory_dir=Path({str(tmp_path)!r}), name='x1',"
        " embedder_name='e', dim=4); s.close();"
        "assert 'chromadb' not in sys.modules, 'chromadb imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_chroma_applies_a_changed_ef_search(tmp_path: Path) -> None:
    ChromaVectorStore.persistent(tmp_path / "db", collection="ns_ef", embedder_name="e", dim=DIM).close()
    store = ChromaVectorStore.persistent(
        tmp_path / "db", collection="ns_ef", embedder_name="e", dim=DIM, ef_search=250
    )
    assert store.collection.configuration["hnsw"]["ef_search"] == 250  # type: ignore[index]
    store.close()
