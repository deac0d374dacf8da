"""Durable file writes: every file robomem persists is written atomically (temp file in the same folder,
fsync, rename), so a killed process leaves either the old file or the new one, never half of one.

``durable=False`` skips the fsync (5-10 ms on this machine's disk) for per-step scratch files — the running
episode's buffers — which a killed process still leaves whole (the rename is atomic and the data is in the
page cache); only a power cut can lose their last steps, and what they buffer is rebuilt by the resumed
episode's own steps or written durably when the episode ends."""

from __future__ import annotations

import json
import os
import tempfile
from glob import escape as glob_escape
from pathlib import Path

__all__ = (
    "append_jsonl",
    "read_jsonl",
    "remove_with_temps",
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
