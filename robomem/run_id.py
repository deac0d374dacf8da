"""A run's identity in shared memory. Memory records every episode under ``<run id>/<subset>/<n>`` and skips
one it already holds as a replay (a resumed run must not learn an episode twice), so two runs must never
share an id. A run folder's *name* is not enough: two robots started with the same ``--run-dir``, or a run
folder deleted and made again, would have the second run's episodes dropped as replays of the first's. A new
run folder gets its name plus a random suffix, kept in ``run.json`` so that ``--resume`` and every parallel
worker use the same id."""

from __future__ import annotations

import secrets
from pathlib import Path

from robomem.errors import StoreError
from robomem.storage import read_json_file, write_json_atomic

__all__ = ("RUN_ID_FILE", "create_run_id", "read_run_id")

RUN_ID_FILE = "run.json"


def create_run_id(run_dir: Path, run_id: str | None = None) -> str:
    """Give the new run folder ``run_dir`` its id (written before any episode runs): ``run_id`` (``run.id``)
    or the folder's name plus a random suffix."""
    run_id = run_id or f"{run_dir.name}~{secrets.token_hex(4)}"
    write_json_atomic(run_dir / RUN_ID_FILE, {"run_id": run_id})
    return run_id


def read_run_id(run_dir: Path) -> str:
    """The id of the run in ``run_dir``: from its ``run.json``, or the folder's name for a folder without one
    (made before run ids existed, or by a caller that runs episodes into a folder of its own)."""
    path = run_dir / RUN_ID_FILE
    if not path.exists():
        return run_dir.name
    data = read_json_file(path, "run id file")
    run_id = data.get("run_id") if isinstance(data, dict) else None
    if not isinstance(run_id, str) or not run_id.strip() or "/" in run_id:
        raise StoreError(f"the run id file {path} is damaged (no 'run_id' without '/')")
    return run_id
