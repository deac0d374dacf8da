"""Sentences per second of the offline MiniLM embedder, at batch 1 and batch 32, over short sentences
(plus 4 caller threads at batch 4, the memory system's pattern), on each backend: ``numpy``, ``onnx``
(onnxruntime, one intra-op thread: the default) and ``onnx-default-threads`` (onnxruntime's own thread count,
one per core).

    python -m bench.embedding_throughput [--quick] [--repeats N] [--out PATH] [--blas-threads N]

Each setting runs ``--repeats`` times, the backends taking turns within each repeat so that a change in the
machine's load hits them alike; the JSON keeps every run, the median and the onnx/numpy ratio. Throughput
depends heavily on the CPU and on what else is running (the load average is recorded before and after), so
compare numbers from one run only. Each row also gives sentences per CPU second of the process (all its
threads): on a machine shared with other work, wall time mostly measures the waiting, CPU time much less so
(for one thread it approximates the idle machine's wall rate). The target is sentence-transformers +
torch's 524 sentences/s at batch 32 on this machine (2 cores).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from bench._script import RESULTS_DIR, bench_main, machine_info, now_iso
from robomem.embeddings._blas import get_blas_threads
from robomem.embeddings.minilm import Backend, MiniLMEmbedder

__all__ = ("main", "run", "short_sentences")

DEFAULT_OUT = RESULTS_DIR / "embedding_throughput.json"
#: sentence-transformers 6.2.0 + torch 2.13.0+cpu at batch 32, measured once on this machine (2 cores).
TARGET_BATCH32 = 524.0
#: Name -> (backend, the embedder's ``blas_threads``; None leaves onnxruntime at one thread per core).
BACKENDS: dict[str, tuple[Backend, int | None]] = {
    "numpy": ("numpy", 1),
    "onnx": ("onnx", 1),
    "onnx-default-threads": ("onnx", None),
}


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


def _throughput(
    model: MiniLMEmbedder, sentences: list[str], batch: int, callers: int = 1
) -> tuple[float, float]:
    """Sentences per wall second and per CPU second (all the process's threads) when ``callers`` threads
    split ``sentences`` and embed ``batch`` at a time."""

    def work(part: list[str]) -> None:
        for i in range(0, len(part), batch):
            model.embed(part[i : i + batch])

    parts = [sentences[k::callers] for k in range(callers)]
    start, cpu = time.perf_counter(), time.process_time()
    if callers == 1:
        work(parts[0])
    else:
        with ThreadPoolExecutor(max_workers=callers) as pool:
            list(pool.map(work, parts))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return len(sentences) / wall, len(sentences) / max(cpu, 1e-9)


def _load_average() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def run(*, quick: bool, repeats: int, blas_threads: int | None, backends: list[str]) -> dict[str, Any]:
    models: dict[str, MiniLMEmbedder] = {}
    load_seconds: dict[str, float] = {}
    # Each embedder sets OpenBLAS's process-wide thread count from its blas_threads (the onnx ones pass the
    # same number to onnxruntime), so the numpy one is built last: it runs on the CLI's --blas-threads.
    for name in sorted(backends, key=lambda n: n == "numpy"):
        backend, threads = BACKENDS[name]
        start = time.perf_counter()
        models[name] = MiniLMEmbedder(
            backend=backend, blas_threads=blas_threads if backend == "numpy" else threads
        )
        load_seconds[name] = round(time.perf_counter() - start, 4)
    models = {name: models[name] for name in backends}
    # (batch size, caller threads) -> sentences per run. The 4-thread row mimics the memory system, which
    # embeds a few texts from 4 threads at once.
    counts = {(1, 1): 4, (32, 1): 32, (4, 4): 16} if quick else {(1, 1): 64, (32, 1): 256, (4, 4): 128}
    sentences = short_sentences(max(counts.values()))
    any_model = next(iter(models.values()))
    for model in models.values():
        model.embed(sentences[:32])  # warm-up: page in the weights and the word-table rows
    tokens = [len(ids) for ids in any_model.tokenize(sentences)]
    load_before = _load_average()
    runs: dict[tuple[str, int, int], list[float]] = {}
    cpu_runs: dict[tuple[str, int, int], list[float]] = {}
    for (batch, callers), count in counts.items():
        for _ in range(repeats):
            for name, model in models.items():  # taking turns: drifting load hits every backend alike
                rate, cpu_rate = _throughput(model, sentences[:count], batch, callers)
                runs.setdefault((name, batch, callers), []).append(rate)
                cpu_runs.setdefault((name, batch, callers), []).append(cpu_rate)
    results: list[dict[str, Any]] = [
        {
            "backend": name,
            "batch_size": batch,
            "caller_threads": callers,
            "sentences": counts[batch, callers],
            "sentences_per_s_median": round(statistics.median(rates), 2),
            "sentences_per_s_runs": [round(r, 2) for r in rates],
            "sentences_per_cpu_s_median": round(statistics.median(cpu_runs[name, batch, callers]), 2),
        }
        for (name, batch, callers), rates in sorted(runs.items(), key=lambda kv: backends.index(kv[0][0]))
    ]
    median = {key: round(statistics.median(rates), 2) for key, rates in runs.items()}
    ratios = {
        f"{name}_vs_numpy_batch32": round(median[name, 32, 1] / median["numpy", 32, 1], 3)
        for name in backends
        if name != "numpy" and "numpy" in backends
    }
    best = max(median[name, 32, 1] for name in backends)
    return {
        "benchmark": "embedding_throughput",
        "model": any_model.name,
        "dim": any_model.dim,
        "quick": quick,
        "repeats": repeats,
        "backends": backends,
        "load_seconds": load_seconds,
        "mean_tokens_per_sentence": round(float(np.mean(tokens)), 2),
        "blas_threads": get_blas_threads(),
        "results": results,
        "ratios": ratios,
        "target_batch32_sentences_per_s": TARGET_BATCH32,
        "best_batch32_sentences_per_s": best,
        "meets_target": best >= TARGET_BATCH32,
        "machine": {
            **machine_info(),
            "onnxruntime": _onnxruntime_version(),
            "load_average_before": load_before,
            "load_average_after": _load_average(),
        },
        "created": now_iso(),
    }


def _onnxruntime_version() -> str | None:
    try:
        import onnxruntime  # type: ignore[import-untyped]
    except ImportError:
        return None
    return str(onnxruntime.__version__)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeats", type=int, default=None, help="runs per setting (default 5, quick 2)")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="OpenBLAS threads, as the embedder sets by default (0: leave numpy's default)",
    )
    parser.add_argument(
        "--backends",
        type=lambda text: [part for part in text.split(",") if part],
        default=list(BACKENDS),
        help=f"comma-separated, of {', '.join(BACKENDS)} (default: all)",
    )


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> dict[str, Any]:
    args.repeats = args.repeats or (2 if args.quick else 5)
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    unknown = sorted(set(args.backends) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backends {unknown}; known: {', '.join(BACKENDS)}")
    return run(
        quick=args.quick, repeats=args.repeats, blas_threads=args.blas_threads or None, backends=args.backends
    )


def _summary(report: dict[str, Any], args: argparse.Namespace) -> str:
    rate = {
        (r["backend"], r["batch_size"], r["caller_threads"]): r["sentences_per_s_median"]
        for r in report["results"]
    }
    parts = [
        f"{name} {rate[name, 1, 1]:.0f} / {rate[name, 32, 1]:.0f} / {rate[name, 4, 4]:.0f}"
        for name in args.backends
    ]
    ratios = ", ".join(f"{k} {v:.2f}x" for k, v in report["ratios"].items())
    return (
        f"{report['model']} sentences/s at batch 1 / batch 32 / 4 threads x batch 4: {'; '.join(parts)} "
        f"(median of {args.repeats}; {ratios}; target {TARGET_BATCH32:.0f} at batch 32: "
        f"{'met' if report['meets_target'] else 'missed'}) -> {args.out}"
    )


def main(argv: list[str] | None = None) -> int:
    return bench_main(__doc__, DEFAULT_OUT, argv, arguments=_arguments, run=_run, summary=_summary)


if __name__ == "__main__":
    sys.exit(main())
