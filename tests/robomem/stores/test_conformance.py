"""The public vector-store conformance suite, run against every built-in backend.

``chroma_http`` runs against a real ``chroma run`` server (session fixture in ``tests/conftest.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from robomem.stores.config import VectorConfig
from robomem.testing.conformance import vector_store as suite
from robomem.testing.conformance.vector_store import RegistryStoreFactory, StoreFactory
from tests.conftest import ChromaServer

BACKENDS = [
    pytest.param("exact", id="exact"),
    pytest.param("chroma", id="chroma"),
    pytest.param("chroma_http", id="chroma_http", marks=pytest.mark.chroma),
]


@pytest.fixture(params=BACKENDS)
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    backend: str = request.param
    if backend == "chroma_http":
        server: ChromaServer = request.getfixturevalue("chroma_server")
        # One server serves the whole session: a fresh namespace per test keeps tests apart.
        config = VectorConfig(
            type="chroma_http", host=server.host, port=server.port, namespace=f"t{uuid.uuid4().hex[:16]}"
        )
    else:
        config = VectorConfig(type=backend)
    return RegistryStoreFactory(config, tmp_path / "memory")


@pytest.mark.parametrize("check", suite.IN_PROCESS_CHECKS, ids=lambda c: c.__name__)
def test_in_process(factory: StoreFactory, check: Callable[[StoreFactory], None]) -> None:
    check(factory)


@pytest.mark.parametrize("check", suite.PERSISTENCE_CHECKS, ids=lambda c: c.__name__)
def test_persistence(factory: StoreFactory, check: Callable[[StoreFactory], None]) -> None:
    check(factory)


@pytest.mark.chroma
def test_server_takes_writers_from_two_processes(chroma_server: ChromaServer, tmp_path: Path) -> None:
    config = VectorConfig(
        type="chroma_http", host=chroma_server.host, port=chroma_server.port, namespace="multiproc"
    )
    suite.check_concurrent_process_writers(RegistryStoreFactory(config, tmp_path))


def test_all_checks_are_listed() -> None:
    public = {name for name in suite.__all__ if name.startswith("check_")}
    assert public == {check.__name__ for check in suite.ALL_CHECKS}


def test_run_vector_store_suite_on_exact(tmp_path: Path) -> None:
    suite.run_vector_store_suite(RegistryStoreFactory(VectorConfig(type="exact"), tmp_path), persistent=False)
