"""Chroma clients, pooled per persistence path or server address and closed when their last store closes:
Chroma shares one system per path inside a process, and separate clients with different settings would
clash."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from chromadb.api import ClientAPI
from chromadb.config import Settings

__all__ = ("POOL", "ClientPool", "client_settings")


def client_settings() -> Settings:
    return Settings(anonymized_telemetry=False)


@dataclass
class _Pooled:
    client: ClientAPI
    users: int


class ClientPool:
    """One client per path or address, reference-counted by the stores that use it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, _Pooled] = {}

    def acquire(self, key: str, create: Callable[[], ClientAPI]) -> ClientAPI:
        with self._lock:
            pooled = self._clients.get(key)
            if pooled is None:
                pooled = self._clients[key] = _Pooled(create(), 0)
            pooled.users += 1
            return pooled.client

    def release(self, key: str) -> None:
        with self._lock:
            pooled = self._clients.get(key)
            if pooled is None:
                return
            pooled.users -= 1
            if pooled.users > 0:
                return
            del self._clients[key]
        _close_client(pooled.client)

    def keys(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._clients)


def _close_client(client: ClientAPI) -> None:
    # chromadb's HTTP client never closes its httpx sessions (sockets would leak until GC), so close them
    # here: the client's own and that of its internal admin client, which gets a separate system.
    for owner in (client, getattr(client, "_admin_client", None)):
        session = getattr(getattr(owner, "_server", None), "_session", None)
        if session is not None and hasattr(session, "close"):
            session.close()
    close = getattr(client, "close", None)
    if callable(close):
        close()


POOL = ClientPool()
