"""Sentences per second of the offline MiniLM embedder, at batch 1 and batch 32, over short sentences
(plus 4 caller threads at batch 4, the memory system's pattern).

    python bench/embedding_throughput.py [--quick] [--repeats N] [--out PATH] [--blas-threads N]

Each setting runs ``--repeats`` times; the JSON keeps every run and the median. Throughput depends heavily on
the CPU and on what else is running (see ``--blas-threads``), so compare numbers from one machine only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from robomem.embeddings._blas import get_blas_threads
from robomem.embeddings.minilm import MiniLMEmbedder

__all__ = ("main", "run", "short_sentences")

DEFAULT_OUT = Path("results/bench/embedding_throughput.json")


def short_sentences(n: int) -> list[str]:
    """Deterministic household sentences of 7-12 tokens, all distinct (like agent observations)."""
    verbs = ("pick up", "put down", "open", "close", "find", "slice", "clean", "heat")
    adjectives = ("red", "small", "dirty", "wooden", "cold", "old", "blue")
    objects = ("apple", "mug", "knife", "plate", "towel", "bowl", "egg", "lettuce", "pan", "sponge", "book")
    places = ("fridge", "sink", "counter", "cabinet", "table", "microwave", "shelf", "drawer", "stove")
    out = []
    for i in range(n):
        verb, adj = verbs[i % len(verbs)], adjectives[(i // 3) % len(adjectives)]
        obj, place = objects[(i // 7) % len(objects)], places[(i // 5) % len(places)]
        out.append(f"{verb} the {adj} {obj} near the {place} in room {i}")
    return out


def _throughput(model: MiniLMEmbedder, sentences: list[str], batch: int, callers: int = 1) -> float:
    """Sentences/s when ``callers`` threads split ``sentences`` and embed ``batch`` at a time."""

    def work(part: list[str]) -> None:
        for i in range(0, len(part), batch):
            model.embed(part[i : i + batch])

    parts = [sentences[k::callers] for k in range(callers)]
    start = time.perf_counter()
    if callers == 1:
        work(parts[0])
    else:
        with ThreadPoolExecutor(max_workers=callers) as pool:
            list(pool.map(work, parts))
    return len(sentences) / (time.perf_counter() - start)


def run(*, quick: bool, repeats: int, blas_threads: int | None) -> dict[str, Any]:
    start = time.perf_counter()
    model = MiniLMEmbedder(blas_threads=blas_threads)
    load_seconds = time.perf_counter() - start
    # (batch size, caller threads) -> sentences per run. The 4-thread row mimics the memory system, which
    # embeds a few texts from 4 threads at once.
    counts = {(1, 1): 4, (32, 1): 32, (4, 4): 16} if quick else {(1, 1): 64, (32, 1): 256, (4, 4): 128}
    sentences = short_sentences(max(counts.values()))
    model.embed(sentences[:32])  # warm-up: page in the weights and the word-table rows
    tokens = [len(ids) for ids in model.tokenize(sentences)]
    results = []
    for (batch, callers), count in counts.items():
        runs = [_throughput(model, sentences[:count], batch, callers) for _ in range(repeats)]
        results.append(
            {
                "batch_size": batch,
                "caller_threads": callers,
                "sentences": count,
                "sentences_per_s_median": round(statistics.median(runs), 2),
                "sentences_per_s_runs": [round(r, 2) for r in runs],
            }
        )
    return {
        "benchmark": "embedding_throughput",
        "model": model.name,
        "dim": model.dim,
        "quick": quick,
        "repeats": repeats,
        "load_seconds": round(load_seconds, 4),
        "mean_tokens_per_sentence": round(float(np.mean(tokens)), 2),
        "blas_threads": get_blas_threads(),
        "results": results,
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        },
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON output (default {DEFAULT_OUT})")
    parser.add_argument(
        "--quick", action="store_true", help="a tiny CI-sized run (numbers are not meaningful)"
    )
    parser.add_argument("--repeats", type=int, default=None, help="runs per setting (default 5, quick 2)")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="OpenBLAS threads, as the embedder sets by default (0: leave numpy's default)",
    )
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)
    if repeats < 1:
        parser.error("--repeats must be >= 1")
    report = run(quick=args.quick, repeats=repeats, blas_threads=args.blas_threads or None)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    rate = {(r["batch_size"], r["caller_threads"]): r["sentences_per_s_median"] for r in report["results"]}
    print(
        f"{report['model']}: batch 1 {rate[1, 1]:.1f}, batch 32 {rate[32, 1]:.1f}, "
        f"4 threads x batch 4 {rate[4, 4]:.1f} sentences/s "
        f"(median of {repeats}, BLAS threads {report['blas_threads']}), "
        f"load {report['load_seconds']:.2f} s -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
