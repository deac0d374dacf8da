"""One process at a time per memory folder: a run (or a wipe) holds an exclusive ``flock`` on
``<memory_dir>/robomem.lock`` for as long as it uses the folder. Two robots sharing a folder corrupted each
other's stores (an outside check: Chroma's local files and the spatial graph written by two processes at
once); robots share long-term memory through a Chroma server, each with its own folder.

The OS releases the lock when the process dies (also on ``kill -9``), so a stale lock file never blocks a
resume. The file stays, empty (its bytes never change, so a memory left untouched stays byte-identical).
"""

from __future__ import annotations

import fcntl
import threading
from pathlib import Path
from typing import IO

from robomem.errors import StoreError

__all__ = ("LOCK_NAME", "MemoryDirLock")

LOCK_NAME = "robomem.lock"

_held: dict[Path, int] = {}
_guard = threading.Lock()


class MemoryDirLock:
    """Held from construction until :meth:`release`. Re-entrant within one process (the agent's memory and
    a ``--fresh-memory`` wipe before it share one hold)."""

    def __init__(self, memory_dir: Path) -> None:
        self.path = (memory_dir / LOCK_NAME).resolve()
        self._handle: IO[str] | None = None
        self._released = False
        with _guard:
            if self.path in _held:
                _held[self.path] += 1
                self._handle = None
                return
            try:
                memory_dir.mkdir(parents=True, exist_ok=True)
                handle = self.path.open("a+", encoding="utf-8")
            except OSError as err:
                raise StoreError(
                    f"cannot use the memory folder {str(memory_dir)!r}: {err.strerror or err}",
                    hint="point agent.memory.dir at a folder this user can write",
                ) from None
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise StoreError(
                    f"the memory folder {str(memory_dir)!r} is in use by another robomem process",
                    hint="give each run or robot its own agent.memory.dir (robots share long-term memory "
                    "through a Chroma server: memory.vector.type=chroma_http)",
                ) from None
            self._handle = handle
            _held[self.path] = 1

    @property
    def first_hold(self) -> bool:
        """This hold took the lock (it is not a re-entrant hold inside one that did)."""
        return self._handle is not None

    def release(self) -> None:
        """Safe to call twice (a memory may be closed twice)."""
        with _guard:
            if self._released:
                return
            self._released = True
            count = _held.get(self.path, 0)
            if count > 1:
                _held[self.path] = count - 1
                return
            _held.pop(self.path, None)
            handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()  # closing drops the flock
