"""Durable file writes: every file robomem persists is written atomically (temp file in the same folder,
fsync, rename), so a killed process leaves either the old file or the new one, never half of one.

``durable=False`` skips the fsync (5-10 ms on this machine's disk) for per-step scratch files — the running
episode's buffers — which a killed process still leaves whole (the rename is atomic and the data is in the
page cache); only a power cut can lose their last steps, and what they buffer is rebuilt by the resumed
episode's own steps or written durably when the episode ends."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from dataclasses import dataclass, field
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

from robomem.errors import StoreError

__all__ = (
    "JsonlScan",
    "append_jsonl",
    "check_sqlite_file",
    "read_json_file",
    "read_jsonl",
    "remove_with_temps",
    "scan_jsonl",
    "unwritable_part",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
)


def write_json_atomic(path: Path, data: object, *, durable: bool = True) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"), durable=durable)


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write via a temp file in the same folder, fsync, then rename: readers never see half a file,
    and a crash leaves either the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o644)  # mkstemp creates 0600; results are meant to be shared
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_with_temps(path: Path) -> None:
    """Delete ``path`` and the temp files of atomic writes to it that a killed process left behind."""
    path.unlink(missing_ok=True)
    for temp in path.parent.glob(f".{glob_escape(path.name)}.*.tmp"):
        temp.unlink(missing_ok=True)


def append_jsonl(path: Path, record: object, *, durable: bool = True) -> None:
    """Append one JSON line and fsync: append-only logs survive a crash up to the last whole line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False, sort_keys=True, allow_nan=False) + "\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        if durable:
            os.fsync(handle.fileno())


def read_jsonl(path: Path) -> list[object]:
    """Every whole line of an append-only log (a line cut short by a crash is skipped)."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


@dataclass
class JsonlScan:
    """An append-only log as found on disk: its JSON-object records, the numbers (from 1) of the lines that
    are not one, and whether the last line was cut short by a crash mid-append (no final newline)."""

    records: list[dict[str, Any]] = field(default_factory=list)
    bad_lines: list[int] = field(default_factory=list)
    torn_tail: bool = False

    def describe_bad(self, path: Path) -> str:
        shown = ", ".join(map(str, self.bad_lines[:5])) + (", ..." if len(self.bad_lines) > 5 else "")
        return f"{path}: {len(self.bad_lines)} line(s) are not JSON records (line {shown})"


def scan_jsonl(path: Path, *, required: tuple[str, ...] = ()) -> JsonlScan:
    """Read an append-only log, telling a crash's torn last line apart from garbage inside the file. A JSON
    object without every ``required`` key is not a record of this log either."""
    scan = JsonlScan()
    if not path.exists():
        return scan
    data = path.read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the file ends with a newline: no torn tail
    elif lines:
        scan.torn_tail = True
    for number, line in enumerate(lines, start=1):
        try:
            record = json.loads(line)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
            record = None
        if isinstance(record, dict) and all(key in record for key in required):
            scan.records.append(record)
        elif not (scan.torn_tail and number == len(lines)):
            scan.bad_lines.append(number)
    return scan


def read_json_file(path: Path, what: str) -> Any:
    """A whole JSON file, or a :class:`StoreError` naming the damaged ``what`` ("memory manifest")."""
    try:
        return json.loads(path.read_bytes())
    except OSError as err:
        raise StoreError(f"cannot read the {what} {path}: {err.strerror or err}") from None
    except ValueError as err:
        raise StoreError(f"the {what} {path} is damaged (not valid JSON: {err})") from None


def check_sqlite_file(path: Path) -> str | None:
    """What is wrong with the SQLite database at ``path`` (opened read-only, never changed), or ``None``."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as err:
        return str(err)
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.Error as err:
        return str(err)
    finally:
        conn.close()
    problems = [str(row[0]) for row in rows if row[0] != "ok"]
    return " ".join(" ".join(problems).split())[:200] if problems else None


def unwritable_part(directory: Path) -> Path | None:
    """The first folder or file under ``directory`` (itself included) this process may not write, or
    ``None``. Probed with ``os.access``, which asks the kernel with this process's real credentials."""
    if not os.access(directory, os.W_OK | os.X_OK):
        return directory
    for root, dirs, files in os.walk(directory):
        for name in dirs:
            if not os.access(Path(root) / name, os.W_OK | os.X_OK):
                return Path(root) / name
        for name in files:
            if not os.access(Path(root) / name, os.W_OK):
                return Path(root) / name
    return None
