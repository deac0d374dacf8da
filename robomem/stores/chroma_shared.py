"""What several writers of one Chroma database need: bounded retries of Chroma's transient errors, and a
write lock per collection held on the Chroma server itself.

Why a lock on the server. Robots on different hosts share nothing but the server, and Chroma has no
conditional write, so two robots that read an item, add one to its ``count`` and write it back lose one of
the two updates; two robots that learn the same lesson at once both write it as new (issue #10: four robots,
3 of 8 trials lost semantic writes). Creating a collection, though, is atomic on the server: of several
clients creating one name, exactly one succeeds and the others get "already exists". :class:`ServerLock` is
a collection named ``<collection>.lock``. Its holder bumps a heartbeat counter in the lock's metadata from a
background thread and releases it by renaming it (by its id: a holder whose lock was broken cannot delete
the next holder's) and deleting the renamed one. A waiter that sees the same lock, id and heartbeat
unchanged for ``lease_s`` of its *own* monotonic clock (no clocks are compared across hosts) takes the
holder for dead (kill -9, power cut) and breaks the lock the same way.

Limit: a holder frozen entirely (its heartbeat thread too) for longer than the lease loses the lock without
knowing; no lease lock prevents that without fencing on the server. A merely slow holder keeps it.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection

from robomem.errors import StoreError

__all__ = ("TRANSIENT_ERRORS", "ServerLock", "retrying")

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Chroma errors that pass when the call is repeated: SQLite's lock (seen right after another client of the
#: same folder closed: chromadb releases its database asynchronously), and the server's HNSW reader built
#: while another client's write is being persisted (an upstream issue under concurrent writers: 9 of 32
#: robot processes died of it before this retry).
TRANSIENT_ERRORS = ("database is locked", "Nothing found on disk")

#: How long one call keeps retrying a transient error before giving up.
RETRY_S = 60.0


def retrying(call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``call(*args, **kwargs)``, repeated with jittered exponential backoff while it fails with a transient
    error, for up to :data:`RETRY_S`. Only for idempotent calls (reads, upserts, deletes by id, creating a
    collection that must not exist), which all robomem's Chroma calls are."""
    deadline = time.monotonic() + RETRY_S
    delay = 0.05
    while True:
        try:
            return call(*args, **kwargs)
        except Exception as exc:
            if (
                not any(marker in str(exc) for marker in TRANSIENT_ERRORS)
                or time.monotonic() + delay > deadline
            ):
                raise
            log.info("Chroma: %s; retrying in %.2f s", exc, delay)
        time.sleep(delay * random.uniform(0.5, 1.5))  # out of step with the other robots that hit it too
        delay = min(1.0, delay * 2)


class ServerLock:
    """Exclusive write access to one collection for every client of a Chroma server (see the module doc).

    Re-entrant within a thread is not needed and not supported; use one ``with`` block per
    read-modify-write.
    """

    def __init__(
        self,
        client: ClientAPI,
        collection: str,
        *,
        lease_s: float = 15.0,
        timeout_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.name = f"{collection}.lock"
        self.lease_s = lease_s
        self.timeout_s = timeout_s
        self.clock = clock
        self._held: Collection | None = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    # -- acquire / release -------------------------------------------------------------------------------

    def __enter__(self) -> ServerLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def acquire(self) -> None:
        from robomem.stores.chroma import PrecomputedOnly

        token = uuid.uuid4().hex
        deadline = self.clock() + self.timeout_s
        seen: tuple[str, object] | None = None
        seen_since = self.clock()
        delay = 0.02
        while True:
            owner = {"owner": token, "beat": 0, "host": socket.gethostname(), "pid": os.getpid()}
            try:
                held = retrying(
                    self.client.create_collection,
                    self.name,
                    metadata=owner,
                    embedding_function=PrecomputedOnly(),
                )
            except Exception as exc:
                if "already exists" not in str(exc):
                    raise StoreError(f"Chroma: taking the write lock {self.name!r} failed: {exc}") from exc
            else:
                self._start(held)
                return
            current = self._current()
            if current is None:
                continue  # released meanwhile: try again at once
            now = self.clock()
            state = (str(current.id), (current.metadata or {}).get("beat"))
            if state != seen:
                seen, seen_since = state, now
            elif now - seen_since > self.lease_s:
                log.warning(
                    "Chroma: breaking the write lock %s of %s (no heartbeat for %.0f s)",
                    self.name,
                    _who(current.metadata),
                    now - seen_since,
                )
                self._discard(current, "broken")
                continue
            if now > deadline:
                raise StoreError(
                    f"waited {self.timeout_s:.0f} s for the write lock {self.name!r} on the Chroma server "
                    f"(held by {_who(current.metadata)})",
                    hint="another robot holds it and is alive; if none is, delete that collection",
                )
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(0.5, delay * 2)

    def release(self) -> None:
        held, self._held = self._held, None
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
            self._beat = None
        if held is not None and not self._discard(held, "released"):
            log.warning("Chroma: the write lock %s was broken while held (a frozen process?)", self.name)

    # -- machinery ---------------------------------------------------------------------------------------

    def _start(self, held: Collection) -> None:
        self._held = held
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, args=(held,), name="chroma-lock", daemon=True)
        self._beat.start()

    def _heartbeat(self, held: Collection) -> None:
        beat = 0
        while not self._stop.wait(self.lease_s / 4):
            beat += 1
            try:
                held.modify(metadata={**(held.metadata or {}), "beat": beat})
            except Exception as exc:  # the next beat tries again; a waiter breaks the lock only after a lease
                log.warning("Chroma: heartbeat of the write lock %s failed: %s", self.name, exc)

    def _current(self) -> Collection | None:
        from robomem.stores.chroma import PrecomputedOnly

        try:
            return retrying(self.client.get_collection, self.name, embedding_function=PrecomputedOnly())
        except Exception as exc:
            if "does not exist" in str(exc):
                return None
            raise StoreError(f"Chroma: reading the write lock {self.name!r} failed: {exc}") from exc

    def _discard(self, lock: Collection, why: str) -> bool:
        """Rename ``lock`` by its id (so only that very lock goes), then delete it under its new name.
        False if it no longer exists (someone else discarded it)."""
        grave = f"{self.name}.{why}.{uuid.uuid4().hex}"
        try:
            retrying(lock.modify, name=grave)
        except Exception as exc:
            if "does not exist" in str(exc):
                return False
            raise StoreError(f"Chroma: releasing the write lock {self.name!r} failed: {exc}") from exc
        try:
            retrying(self.client.delete_collection, grave)
        except Exception as exc:  # the lock is free already; only an empty, renamed collection remains
            log.warning("Chroma: could not delete %s: %s", grave, exc)
        return True


def _who(metadata: dict[str, Any] | None) -> str:
    meta = metadata or {}
    return f"process {meta.get('pid', '?')} on {meta.get('host', '?')}"
