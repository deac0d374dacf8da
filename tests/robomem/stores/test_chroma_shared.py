"""Retries of Chroma's transient errors, and the write lock held on a real ``chroma run`` server (127.0.0.1)
by real processes: it serialises read-modify-write across processes, a holder killed with SIGKILL is
replaced once its heartbeat stops, and a holder frozen past the lease (SIGSTOP) cannot release the lock
its successor took."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import chromadb
import numpy as np
import pytest
from chromadb.api import ClientAPI

from robomem.stores.base import VectorItem
from robomem.stores.chroma import ChromaVectorStore
from robomem.stores.chroma_clients import client_settings
from robomem.stores.chroma_shared import ServerLock, retrying
from tests.conftest import ChromaServer

TIMEOUT_S = 300


def test_transient_errors_are_retried_and_others_are_not() -> None:
    for transient in (
        "Database error: (code: 5) database is locked",
        "Error executing plan: Internal error: Error creating hnsw segment reader: Nothing found on disk",
    ):
        calls: list[int] = []

        def flaky(message: str = transient, calls: list[int] = calls) -> str:
            calls.append(1)
            if len(calls) < 3:
                raise RuntimeError(message)
            return "done"

        assert retrying(flaky) == "done"
        assert len(calls) == 3

    calls = []

    def broken() -> None:
        calls.append(1)
        raise RuntimeError("disk I/O error")

    with pytest.raises(RuntimeError, match="disk I/O error"):
        retrying(broken)
    assert len(calls) == 1


# -- on a real server ---------------------------------------------------------------------------------------

_HOLDER = textwrap.dedent(
    """
    import sys, chromadb
    from robomem.stores.chroma_clients import client_settings
    from robomem.stores.chroma_shared import ServerLock
    host, port, name, lease = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    client = chromadb.HttpClient(host=host, port=port, settings=client_settings())
    lock = ServerLock(client, name, lease_s=lease)
    lock.acquire()
    print("held", flush=True)
    sys.stdin.readline()  # hold until told
    lock.release()
    print("released", flush=True)
    """
)

_COUNTER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from robomem.stores.base import VectorItem
    from robomem.stores.chroma import ChromaVectorStore
    host, port, name, times = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    store = ChromaVectorStore.http(host, port, collection=name, embedder_name="test", dim=2)
    vector = np.array([[1.0, 0.0]], dtype=np.float32)
    for _ in range(times):
        with store.write_lock():  # read, add one, write back: the update two writers would lose
            count = int(store.get(["counter"])[0].metadata["n"])
            store.upsert([VectorItem("counter", "counter", {"n": count + 1})], vector)
    store.close()
    """
)


def _env() -> dict[str, str]:
    return {**os.environ, "ANONYMIZED_TELEMETRY": "False"}


def _client(server: ChromaServer) -> ClientAPI:
    return chromadb.HttpClient(host=server.host, port=server.port, settings=client_settings())


@contextmanager
def _holder(server: ChromaServer, name: str, lease_s: float) -> Iterator[subprocess.Popen[str]]:
    """A process that takes the lock, says ``held`` and keeps it until a line arrives on its stdin."""
    argv = [sys.executable, "-c", _HOLDER, server.host, str(server.port), name, str(lease_s)]
    process = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "held", process.stderr
        yield process
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)
            process.kill()
        process.communicate(timeout=TIMEOUT_S)


@pytest.mark.chroma
def test_the_write_lock_serialises_read_modify_write_across_processes(chroma_server: ChromaServer) -> None:
    name = f"count{uuid.uuid4().hex[:12]}"
    store = ChromaVectorStore.http(
        chroma_server.host, chroma_server.port, collection=name, embedder_name="test", dim=2
    )
    try:
        store.upsert([VectorItem("counter", "counter", {"n": 0})], np.array([[1.0, 0.0]], dtype=np.float32))
        writers, times = 4, 10
        argv = [sys.executable, "-c", _COUNTER, chroma_server.host, str(chroma_server.port), name, str(times)]
        processes = [
            subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, env=_env()) for _ in range(writers)
        ]
        for process in processes:
            _, err = process.communicate(timeout=TIMEOUT_S)
            assert process.returncode == 0, err
        assert store.get(["counter"])[0].metadata["n"] == writers * times
    finally:
        store.close()


@pytest.mark.chroma
def test_a_killed_holders_lock_is_taken_over_once_its_heartbeat_stops(
    chroma_server: ChromaServer, caplog: pytest.LogCaptureFixture
) -> None:
    name = f"kill{uuid.uuid4().hex[:12]}"
    with _holder(chroma_server, name, lease_s=1.0) as holder:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=TIMEOUT_S)
        with caplog.at_level(logging.WARNING), ServerLock(_client(chroma_server), name, lease_s=1.0):
            assert any("breaking the write lock" in r.getMessage() for r in caplog.records)
    names = {c.name for c in _client(chroma_server).list_collections()}
    assert not {n for n in names if n.startswith(name)}  # neither the lock nor a renamed one is left


@pytest.mark.chroma
def test_a_holder_frozen_past_its_lease_cannot_release_its_successors_lock(
    chroma_server: ChromaServer,
) -> None:
    name = f"frozen{uuid.uuid4().hex[:12]}"
    client = _client(chroma_server)
    with _holder(chroma_server, name, lease_s=1.0) as holder:
        os.kill(holder.pid, signal.SIGSTOP)  # its heartbeat stops with it
        successor = ServerLock(client, name, lease_s=1.0)
        successor.acquire()
        try:
            ours = client.get_collection(f"{name}.lock").id
            os.kill(holder.pid, signal.SIGCONT)
            out, err = holder.communicate("release\n", timeout=TIMEOUT_S)
            assert out.split() == ["released"]
            assert "was broken while held" in err
            assert client.get_collection(f"{name}.lock").id == ours  # still the successor's
        finally:
            successor.release()
    assert f"{name}.lock" not in {c.name for c in client.list_collections()}
