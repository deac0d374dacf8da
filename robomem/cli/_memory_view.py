"""Read-only view of a memory directory for ``robomem memory show|export``."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from modules.hippocampus.config import MemoryConfig
from modules.hippocampus.episodic import RAW_LOG_KEYS
from modules.hippocampus.spatial.memory import SpatialMemory
from robomem.storage import JsonlScan, scan_jsonl, write_text_atomic
from robomem.stores.base import VectorItem, VectorStore
from robomem.stores.factory import open_vector_store
from robomem.stores.graph_sqlite import SqliteGraphStore
from robomem.testing.hashing import HashingEmbedder

__all__ = ("MemoryView",)

LONG_TERM = ("episodic", "semantic")


class MemoryView:
    def __init__(
        self,
        config: MemoryConfig,
        memory_dir: Path,
        manifest: dict[str, Any],
        *,
        shown_as: Path | None = None,
    ) -> None:
        self.memory_dir = memory_dir
        #: The folder named in the output (the original when ``memory_dir`` is a read-only memory's copy).
        self.shown_as = shown_as or memory_dir
        self.sites: list[str] = []
        self.spatial: SpatialMemory | None = None
        if (memory_dir / "spatial.sqlite").exists():
            # First: a damaged graph store then fails before Chroma has opened (and written to) its files.
            store = SqliteGraphStore(memory_dir / "spatial.sqlite", busy_timeout_s=5.0)
            # A site whose only row points at its current world's graph (scope `world`) has nothing to show.
            self.sites = [
                site
                for site in store.sites()
                if any(store.counts(site).values()) or "world" not in store.meta(site)
            ]
            store.close()
        self.vectors: dict[str, VectorStore] = {}
        for name in LONG_TERM:
            self.vectors[name] = open_vector_store(
                config.vector,
                memory_dir=memory_dir,
                name=name,
                embedder_name=str(manifest["embedder"]),
                dim=int(manifest["dim"]),
            )
        if (memory_dir / "spatial.sqlite").exists():
            # Inspection never embeds anything; the embedder only has to satisfy the constructor.
            self.spatial = SpatialMemory(config.spatial, memory_dir=memory_dir, embedder=HashingEmbedder())

    def __enter__(self) -> MemoryView:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for store in self.vectors.values():
            store.close()
        if self.spatial is not None:
            self.spatial.close()

    def _recent(self, name: str, n: int) -> list[VectorItem]:
        items = self.vectors[name].get()
        items.sort(key=lambda i: float(i.metadata.get("updated", 0.0)), reverse=True)
        return items[:n]

    def render(self, recent: int) -> str:
        """One line per site and store, then grouped tables (each site's nodes by kind and edges by
        relation), then the newest facts and items."""
        lines = [f"memory: {self.shown_as}"]
        stats = {}
        for site in self.sites:
            assert self.spatial is not None
            counts = stats[site] = self.spatial.stats(site)
            lines.append(
                f"spatial [{site}]: {counts['nodes']} nodes, {counts['edges']} edges, "
                f"{counts.get('stored_history', 0)} in history"
            )
        if not stats:
            lines.append("spatial: no site")
        for prefix, what in (("kind_", "nodes by kind"), ("relation_", "edges by relation")):
            keys = sorted({k for counts in stats.values() for k in counts if k.startswith(prefix)})
            if keys:
                lines += ["", *_table(what, stats, keys, [k.removeprefix(prefix) for k in keys])]
        lines.append("")
        for name in LONG_TERM:
            archive = scan_jsonl(self.memory_dir / f"{name}_archive.jsonl")
            lines.append(f"{name}: {self.vectors[name].count()} items, {len(archive.records)} archived")
            lines += self._problems(archive, f"{name}_archive.jsonl")
        raw = scan_jsonl(self.memory_dir / "episodes.jsonl", required=RAW_LOG_KEYS)
        lines.append(f"raw episode log: {len(raw.records)} episodes")
        lines += self._problems(raw, "episodes.jsonl")
        if recent <= 0:
            return "\n".join(lines)
        for site in self.sites:
            assert self.spatial is not None
            newest = sorted(
                self.spatial.graph(site).edges(),
                key=lambda e: (e[1].last_seen.episode, e[1].last_seen.step),
                reverse=True,
            )
            lines += ["", f"newest facts in {site}"]
            for (subject, relation, obj), data in newest[:recent]:
                seen = data.last_seen
                lines.append(
                    f"  {subject} {relation} {obj} "
                    f"(conf {data.confidence:.2f}, ep {seen.episode} step {seen.step})"
                )
        for name in LONG_TERM:
            items = self._recent(name, recent)
            if items:
                lines += ["", f"newest {name} items"]
            for item in items:
                text = item.text if len(item.text) <= 160 else item.text[:157] + "..."
                lines.append(f"  [{item.metadata.get('count', 1)}x] {text}")
        return "\n".join(lines)

    def page_data(self) -> dict[str, Any]:
        """Everything ``memory view`` shows, JSON-ready: each site's graph with its history (as ``memory
        export`` writes it) and every long-term item."""
        sites = []
        for site in self.sites:
            assert self.spatial is not None
            with tempfile.TemporaryDirectory(prefix="robomem-view-") as tmp:
                # The export's own JSON writer, so the page and `memory export` never disagree.
                path = Path(tmp) / "site.json"
                self.spatial.export_json(site, path)
                sites.append(json.loads(path.read_text(encoding="utf-8")))
        stores = {}
        for name in LONG_TERM:
            items = self.vectors[name].get()
            items.sort(key=lambda i: float(i.metadata.get("updated", 0.0)), reverse=True)
            stores[name] = [{"id": i.id, "text": i.text, "metadata": i.metadata} for i in items]
        return {"memory": str(self.shown_as), "sites": sites, "stores": stores}

    def _problems(self, scan: JsonlScan, name: str) -> list[str]:
        """Lines that are not records are reported, never counted (``eval`` refuses such a memory)."""
        found = []
        if scan.bad_lines:
            found.append(f"  WARNING: {scan.describe_bad(self.shown_as / name)}")
        if scan.torn_tail:
            found.append(f"  WARNING: {self.shown_as / name}: last line cut short (a crash mid-write)")
        return found

    def export(self, out: Path) -> list[Path]:
        written: list[Path] = []
        for site in self.sites:
            assert self.spatial is not None
            safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in site)
            for suffix, write in (
                (".graphml", self.spatial.export_graphml),
                (".json", self.spatial.export_json),
            ):
                path = out / "spatial" / f"{safe}{suffix}"
                path.parent.mkdir(parents=True, exist_ok=True)
                write(site, path)
                written.append(path)
        for name in LONG_TERM:
            items = self.vectors[name].get()
            text = "".join(
                json.dumps(
                    {"id": i.id, "text": i.text, "metadata": i.metadata}, ensure_ascii=False, sort_keys=True
                )
                + "\n"
                for i in items
            )
            path = out / f"{name}.jsonl"
            write_text_atomic(path, text)
            written.append(path)
        return written


def _table(
    title: str, rows: Mapping[str, Mapping[str, int]], keys: Sequence[str], header: Sequence[str]
) -> list[str]:
    """A plain-text table: one row per site, one column per key (0 where a site has none)."""
    cells = [[title, *header]] + [
        [name, *(str(counts.get(k, 0)) for k in keys)] for name, counts in rows.items()
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
