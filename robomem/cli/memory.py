"""``robomem memory show|view|export|wipe --memory-dir DIR``: inspect what an agent remembers.

* ``show`` prints tables of counts per store and site (nodes by kind, edges by relation), and the newest
  facts and items.
* ``view`` writes one self-contained HTML page (``--out``, default ``memory_view.html``; with ``--serve`` it
  serves it on 127.0.0.1 instead, ``--port``, until Ctrl-C): each site's knowledge graph, interactive (nodes
  by kind, edges by relation, confidence and age; superseded edges as history), and the episodic and
  semantic items, searchable. Open it in a browser; it loads nothing.
* ``export`` writes each site's knowledge graph (GraphML and JSON) and the long-term items (JSONL).
* ``wipe`` deletes the memory robomem keeps in the folder — only with ``--yes`` (memory is never wiped
  implicitly); files robomem did not write there are left alone.
  Long-term memory on a shared Chroma server (other robots use it too) is emptied only with ``--shared``.

The vector backend comes from the memory's manifest; ``memory.vector.host=...`` style overrides select a
Chroma server. No embedding model is loaded: inspection never needs one.
``show``, ``view`` and ``export`` never write to the memory directory: they read a snapshot copy of its
files (the stores' libraries write bookkeeping even when only reading).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from robomem.cli._parser import Subcommands
from robomem.errors import ConfigError, RobomemError, StoreError
from robomem.storage import read_json_file, write_text_atomic

__all__ = ("add_memory_parser", "run_memory")


def add_memory_parser(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "memory",
        help="inspect, export or wipe a memory directory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("action", choices=("show", "view", "export", "wipe"))
    parser.add_argument("--memory-dir", required=True, metavar="DIR", help="the memory directory")
    parser.add_argument(
        "--out",
        metavar="PATH",
        help="export: destination folder [DIR/export]; view: the HTML file [memory_view.html]",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="view: serve the page on 127.0.0.1 (until Ctrl-C) instead of writing it",
    )
    parser.add_argument(
        "--port", type=int, default=0, metavar="N", help="view --serve: the port [any free one]"
    )
    parser.add_argument("--recent", type=int, default=5, metavar="N", help="show: recent facts per store")
    parser.add_argument("--yes", action="store_true", help="wipe: really delete the memory in the folder")
    parser.add_argument(
        "--shared",
        action="store_true",
        help="wipe: also empty the long-term memory on the shared Chroma server, for every robot",
    )
    parser.set_defaults(run=run_memory)


def _memory_config(memory_dir: Path, overrides: list[str]) -> tuple[Any, dict[str, Any]]:
    from pydantic import ValidationError

    from modules.hippocampus.config import MemoryConfig
    from robomem.config import apply_overrides, config_error

    manifest_path = memory_dir / "manifest.json"
    if memory_dir.exists() and not memory_dir.is_dir():
        raise ConfigError(f"{str(memory_dir)!r} is a file, not a memory directory", key="--memory-dir")
    if not manifest_path.exists():
        raise ConfigError(f"{str(memory_dir)!r} is not a robomem memory directory (no manifest.json)")
    manifest = read_json_file(manifest_path, "memory manifest")
    if not isinstance(manifest, dict) or not {"embedder", "dim"} <= set(manifest):
        raise StoreError(f"the memory manifest {manifest_path} is damaged (no embedder and dim)")
    raw: dict[str, Any] = {"vector": {"type": manifest.get("vector_backend", "chroma")}}
    for item in overrides:
        # `memory.vector.host=...`, or the form `eval` takes, `agent.memory.vector.host=...`.
        key = item.removeprefix("--").removeprefix("agent.").removeprefix("memory.")
        raw = apply_overrides(raw, [key])
    try:
        return MemoryConfig.model_validate(raw, context={"section": "memory"}), manifest
    except ValidationError as err:
        raise config_error(err, "memory") from None


def run_memory(args: argparse.Namespace, extra: list[str]) -> int:
    memory_dir = Path(args.memory_dir)
    config, manifest = _memory_config(memory_dir, extra)
    if args.action == "wipe":
        if not args.yes:
            raise ConfigError("wipe deletes the memory in the memory directory; add --yes to confirm")
        from modules.hippocampus.factory import wipe_memory

        wipe_memory(config, memory_dir, shared=args.shared)
        if config.vector.type == "chroma_http" and not args.shared:
            print(f"wiped {memory_dir}; the shared long-term memory was kept (--shared empties it)")
        else:
            print(f"wiped {memory_dir}")
        return 0
    from robomem.cli._memory_view import MemoryView

    if args.action == "view":
        out = Path(args.out) if args.out else Path("memory_view.html")
        if not args.serve:
            _check_destination(out.parent, "page")
    else:
        out = Path(args.out) if args.out else memory_dir / "export"
    if args.action == "export":
        _check_destination(out)
    with ExitStack() as stack:
        # The stores write even when only read (SQLite's WAL and shared-memory files, Chroma's bookkeeping
        # and index files): inspect a copy, so the memory folder is never touched (and may be read-only).
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="robomem-memory-")))
        view_dir = tmp / "memory"
        shutil.copytree(memory_dir, view_dir, ignore=shutil.ignore_patterns("export"))
        _make_writable(view_dir)
        try:
            view = stack.enter_context(MemoryView(config, view_dir, manifest, shown_as=memory_dir))
        except RobomemError as err:
            # A damaged store is named by its place in the memory folder, not in the copy.
            err.args = (str(err).replace(str(view_dir), str(memory_dir)),)
            raise
        if args.action == "show":
            print(view.render(args.recent))
        elif args.action == "view":
            from robomem.report.memory_page import render_memory_page

            page = render_memory_page(view.page_data())
            if not args.serve:
                try:
                    write_text_atomic(out, page)
                except OSError as err:
                    raise StoreError(
                        f"cannot write the page to {out}: {err.strerror or err}", hint="choose another --out"
                    ) from None
                print(out)
        else:
            try:
                written = view.export(out)
            except OSError as err:
                raise StoreError(
                    f"cannot write the export to {out}: {err.strerror or err}", hint="choose another --out"
                ) from None
            for path in written:
                print(path)
    if args.action == "view" and args.serve:
        from robomem.report.serve import serve_page

        # After the snapshot copy is gone: the page holds everything it shows.
        serve_page(page, args.port)
    return 0


def _make_writable(root: Path) -> None:
    """The copy keeps the original's read-only modes; the copy itself is this process's to write."""
    root.chmod(0o700)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            (Path(folder) / name).chmod(0o700)
        for name in files:
            (Path(folder) / name).chmod(0o600)


def _check_destination(out: Path, what: str = "export") -> None:
    """Refuse an export folder that cannot be written before anything is read or copied."""
    existing = next(p for p in (out, *out.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise StoreError(
            f"cannot write the {what} to {out}: {existing} is not a writable folder",
            hint="choose another --out",
        )
