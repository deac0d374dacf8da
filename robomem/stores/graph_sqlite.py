"""A property graph persisted in SQLite, rows keyed by site: spatial memory's durable store.

* WAL mode and a busy timeout, so several processes (robots, evaluation workers) can share one file.
* Every :meth:`SqliteGraphStore.commit` is ONE ``BEGIN IMMEDIATE`` transaction: a process killed mid-update
  leaves the previous consistent graph. Each commit bumps the site's ``revision``; a writer that passes the
  revision it last saw gets :class:`RevisionConflict` instead of writing over facts it never read.
* Writes are deltas (upserts and deletes of named rows), never "replace the site", so two writers adding
  different facts lose nothing.
* Values are JSON text and float32 vector bytes: no pickle. History rows are append-only.
* Nothing is ever dropped implicitly: only :meth:`wipe` deletes rows.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robomem.errors import RobomemError, StoreError

__all__ = ("EdgeRow", "GraphRows", "HistoryRow", "NodeRow", "RevisionConflict", "SqliteGraphStore")

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sites (
    site TEXT PRIMARY KEY,
    revision INTEGER NOT NULL DEFAULT 0,
    meta TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS nodes (
    site TEXT NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL,
    vec BLOB,
    vec_model TEXT,
    PRIMARY KEY (site, name)
);
CREATE TABLE IF NOT EXISTS edges (
    site TEXT NOT NULL,
    subject TEXT NOT NULL,
    relation TEXT NOT NULL,
    object TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (site, subject, relation, object)
);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    relation TEXT NOT NULL,
    object TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS history_subject ON history (site, subject);
CREATE INDEX IF NOT EXISTS history_object ON history (site, object);
"""


class RevisionConflict(RobomemError):  # noqa: N818 -- a normal outcome of racing writers, not a fault
    """Another writer committed to the site since this one last read it."""

    def __init__(self, site: str, expected: int, actual: int) -> None:
        self.site, self.expected, self.actual = site, expected, actual
        super().__init__(
            f"site {site!r} is at revision {actual}, expected {expected}", hint="reload and retry"
        )


@dataclass(frozen=True)
class NodeRow:
    name: str
    data: Mapping[str, Any]
    #: float32 bytes of the name embedding, and the embedder that made them (``None``: keep the stored one).
    vec: bytes | None = None
    vec_model: str | None = None


@dataclass(frozen=True)
class EdgeRow:
    subject: str
    relation: str
    object: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class HistoryRow:
    kind: str
    subject: str
    relation: str
    object: str
    data: Mapping[str, Any]
    id: int = 0


@dataclass
class GraphRows:
    """One site as stored (or one delta to store)."""

    revision: int = 0
    meta: dict[str, str] = field(default_factory=dict)
    nodes: list[NodeRow] = field(default_factory=list)
    edges: list[EdgeRow] = field(default_factory=list)


def _dumps(value: Mapping[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _switch_to_wal(conn: sqlite3.Connection, busy_timeout_s: float) -> None:
    """SQLite answers a journal-mode change that meets another opener with "database is locked" at once,
    without calling the busy handler, so two processes opening a new file together need this retry."""
    deadline = time.monotonic() + busy_timeout_s
    delay = 0.005
    while True:
        try:
            if str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower() == "wal":
                return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) and "busy" not in str(err):
                raise
        if time.monotonic() >= deadline:
            raise sqlite3.OperationalError("database is locked (could not switch it to WAL mode)")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


class SqliteGraphStore:
    """Thread-safe (one connection behind a lock); safe to share the file between processes."""

    def __init__(self, path: Path, *, busy_timeout_s: float = 30.0) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._depth = 0
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            str(path), timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        try:
            self._open(busy_timeout_s)
        except sqlite3.DatabaseError as err:
            self.conn.close()
            self._conn = None
            raise StoreError(
                f"the graph store {path} cannot be used: {err}",
                hint="restore it from a backup, or move it away: spatial memory then starts empty",
            ) from None

    def _open(self, busy_timeout_s: float) -> None:
        conn, path = self.conn, self.path
        # A damaged file (cut short, overwritten) fails here, before anything writes to it or to the memory's
        # other stores (a full check: ~0.25 s per 200 MB, once per open).
        problems = [str(row[0]) for row in conn.execute("PRAGMA quick_check") if row[0] != "ok"]
        if problems:
            raise sqlite3.DatabaseError(" ".join(" ".join(problems).split())[:200])
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        _switch_to_wal(conn, busy_timeout_s)
        # WAL + NORMAL survives a killed process (not a power cut: flush() checkpoints for that).
        conn.execute("PRAGMA synchronous = NORMAL")
        with self._transaction():
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > _SCHEMA_VERSION:
                raise RobomemError(f"{path} was written by a newer robomem (schema {version})")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")

    # ---- plumbing ------------------------------------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RobomemError(f"the graph store {self.path} is closed")
        return self._conn

    @contextmanager
    def _transaction(self, mode: str = "IMMEDIATE") -> Iterator[sqlite3.Connection]:
        """One transaction; nested uses (inside :meth:`exclusive`) join the outer one."""
        with self._lock:
            conn = self.conn
            if self._depth:
                self._depth += 1
                try:
                    yield conn
                finally:
                    self._depth -= 1
                return
            conn.execute(f"BEGIN {mode}")
            self._depth = 1
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0
            conn.execute("COMMIT")

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the database's write lock for a whole read-compute-write cycle (other writers wait, up to
        the busy timeout). For a writer that keeps losing optimistic races."""
        with self._transaction("IMMEDIATE"):
            yield

    # ---- reads ---------------------------------------------------------------------------------------------
    def revision(self, site: str) -> int:
        with self._lock:
            row = self.conn.execute("SELECT revision FROM sites WHERE site = ?", (site,)).fetchone()
        return 0 if row is None else int(row[0])

    def meta(self, site: str) -> dict[str, str]:
        with self._lock:
            row = self.conn.execute("SELECT meta FROM sites WHERE site = ?", (site,)).fetchone()
        return {} if row is None else {str(k): str(v) for k, v in json.loads(row[0]).items()}

    def sites(self) -> list[str]:
        with self._lock:
            return [str(r[0]) for r in self.conn.execute("SELECT site FROM sites ORDER BY site")]

    def load(self, site: str) -> GraphRows:
        """A consistent snapshot of one site (one read transaction)."""
        with self._transaction("DEFERRED") as conn:
            head = conn.execute("SELECT revision, meta FROM sites WHERE site = ?", (site,)).fetchone()
            rows = GraphRows()
            if head is not None:
                rows.revision = int(head[0])
                rows.meta = {str(k): str(v) for k, v in json.loads(head[1]).items()}
            for name, data, vec, model in conn.execute(
                "SELECT name, data, vec, vec_model FROM nodes WHERE site = ? ORDER BY name", (site,)
            ):
                rows.nodes.append(NodeRow(name, json.loads(data), vec, model))
            for s, r, o, data in conn.execute(
                "SELECT subject, relation, object, data FROM edges WHERE site = ? "
                "ORDER BY subject, relation, object",
                (site,),
            ):
                rows.edges.append(EdgeRow(s, r, o, json.loads(data)))
        return rows

    def history(self, site: str, node: str | None = None, limit: int | None = None) -> list[HistoryRow]:
        """History rows of a site (those naming ``node`` as subject or object), oldest first."""
        sql = "SELECT id, kind, subject, relation, object, data FROM history WHERE site = ?"
        args: list[Any] = [site]
        if node is not None:
            sql += " AND (subject = ? OR object = ?)"
            args += [node, node]
        sql += " ORDER BY id"
        if limit is not None:
            # The newest ``limit`` rows, still returned oldest first.
            sql = f"SELECT * FROM ({sql.replace('ORDER BY id', 'ORDER BY id DESC')} LIMIT ?) ORDER BY id"  # noqa: S608
            args.append(limit)
        with self._lock:
            found = self.conn.execute(sql, args).fetchall()
        return [HistoryRow(k, s, r, o, json.loads(d), int(i)) for i, k, s, r, o, d in found]

    def counts(self, site: str) -> dict[str, int]:
        with self._lock:
            conn = self.conn
            return {
                table: int(
                    conn.execute(f"SELECT COUNT(*) FROM {table} WHERE site = ?", (site,)).fetchone()[0]  # noqa: S608
                )
                for table in ("nodes", "edges", "history")
            }

    # ---- writes --------------------------------------------------------------------------------------------
    def commit(
        self,
        site: str,
        *,
        upsert_nodes: Sequence[NodeRow] = (),
        delete_nodes: Sequence[str] = (),
        upsert_edges: Sequence[EdgeRow] = (),
        delete_edges: Sequence[tuple[str, str, str]] = (),
        history: Sequence[HistoryRow] = (),
        meta: Mapping[str, str] | None = None,
        expected_revision: int | None = None,
    ) -> int:
        """Apply one delta atomically and return the site's new revision. Order: edge deletes, node deletes,
        node upserts, edge upserts, history, meta. Raises :class:`RevisionConflict` (writing nothing) when
        ``expected_revision`` is given and another writer got there first."""
        with self._transaction() as conn:
            head = conn.execute("SELECT revision, meta FROM sites WHERE site = ?", (site,)).fetchone()
            current = 0 if head is None else int(head[0])
            if expected_revision is not None and current != expected_revision:
                raise RevisionConflict(site, expected_revision, current)
            conn.executemany(
                "DELETE FROM edges WHERE site = ? AND subject = ? AND relation = ? AND object = ?",
                [(site, s, r, o) for s, r, o in delete_edges],
            )
            for name in delete_nodes:
                conn.execute("DELETE FROM nodes WHERE site = ? AND name = ?", (site, name))
                # A vertex never outlives its edges' endpoints (callers also list them, with history).
                conn.execute(
                    "DELETE FROM edges WHERE site = ? AND (subject = ? OR object = ?)", (site, name, name)
                )
            conn.executemany(
                "INSERT INTO nodes (site, name, data, vec, vec_model) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (site, name) DO UPDATE SET data = excluded.data, "
                "vec = COALESCE(excluded.vec, nodes.vec), "
                "vec_model = COALESCE(excluded.vec_model, nodes.vec_model)",
                [(site, n.name, _dumps(n.data), n.vec, n.vec_model) for n in upsert_nodes],
            )
            conn.executemany(
                "INSERT INTO edges (site, subject, relation, object, data) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (site, subject, relation, object) DO UPDATE SET data = excluded.data",
                [(site, e.subject, e.relation, e.object, _dumps(e.data)) for e in upsert_edges],
            )
            conn.executemany(
                "INSERT INTO history (site, kind, subject, relation, object, data) VALUES (?, ?, ?, ?, ?, ?)",
                [(site, h.kind, h.subject, h.relation, h.object, _dumps(h.data)) for h in history],
            )
            merged = {} if head is None else dict(json.loads(head[1]))
            merged.update(meta or {})
            conn.execute(
                "INSERT INTO sites (site, revision, meta) VALUES (?, ?, ?) "
                "ON CONFLICT (site) DO UPDATE SET revision = excluded.revision, meta = excluded.meta",
                (site, current + 1, _dumps(merged)),
            )
        return current + 1

    def wipe(self, site: str | None = None) -> None:
        """Delete one site (or every site), history included. The only way anything is deleted wholesale."""
        with self._transaction() as conn:
            for table in ("nodes", "edges", "history"):
                if site is None:
                    conn.execute(f"DELETE FROM {table}")  # noqa: S608
                else:
                    conn.execute(f"DELETE FROM {table} WHERE site = ?", (site,))  # noqa: S608
            # Sites keep counting revisions, so another process's cached copy sees that it is stale.
            if site is None:
                conn.execute("UPDATE sites SET revision = revision + 1, meta = '{}'")
            else:
                conn.execute("UPDATE sites SET revision = revision + 1, meta = '{}' WHERE site = ?", (site,))

    def flush(self) -> None:
        """Commits are already durable against a killed process; a checkpoint also syncs the database file."""
        with self._lock:
            if self._conn is not None:
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self.flush()
                self._conn.close()
                self._conn = None
