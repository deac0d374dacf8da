"""Set the thread count of numpy's bundled OpenBLAS at run time (what ``threadpoolctl`` does, minus the
dependency).

Why: OpenBLAS worker threads busy-wait. When the cores are shared with anything else (a local LLM server,
other agents, the memory system's own worker threads), a small MiniLM forward pass on 2 OpenBLAS threads was
measured 20-40x slower than on 1 thread (0.5 s instead of 13 ms for one sentence); uncontended, 1 thread
costs ~20% at batch 1. So robomem runs its small matmuls single-threaded unless the user says otherwise.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np

__all__ = ("blas_threads_from_env", "get_blas_threads", "set_blas_threads")

_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)
_GETTERS = (
    "scipy_openblas_get_num_threads64_",
    "scipy_openblas_get_num_threads",
    "openblas_get_num_threads64_",
    "openblas_get_num_threads",
)
_ENV_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")


def blas_threads_from_env() -> bool:
    """True when the user already chose a BLAS thread count through the environment."""
    return any(os.environ.get(name) for name in _ENV_VARS)


def _candidate_libraries() -> list[str]:
    found: list[str] = []
    maps = Path("/proc/self/maps")
    if maps.exists():  # Linux: whatever OpenBLAS is actually loaded in this process
        for line in maps.read_text(errors="replace").splitlines():
            path = line.rpartition(" ")[2]
            if "openblas" in Path(path).name.lower() and path not in found:
                found.append(path)
    numpy_dir = Path(np.__file__).parent
    for folder in (numpy_dir.parent / "numpy.libs", numpy_dir / ".dylibs"):
        if folder.is_dir():
            found += [str(p) for p in sorted(folder.iterdir()) if "openblas" in p.name.lower()]
    return list(dict.fromkeys(found))


def _call(symbols: tuple[str, ...], *args: int) -> int | None:
    for path in _candidate_libraries():
        try:
            library = ctypes.CDLL(path)  # already loaded by numpy: this only takes another reference
        except OSError:
            continue
        for symbol in symbols:
            function = getattr(library, symbol, None)
            if function is not None:
                function.argtypes = [ctypes.c_int] * len(args)
                function.restype = ctypes.c_int if not args else None
                result = function(*args)
                return int(result) if result is not None else 0
    return None


def set_blas_threads(threads: int) -> bool:
    """Set OpenBLAS's thread count for the whole process; False if no OpenBLAS was found."""
    if threads < 1:
        raise ValueError("threads must be >= 1")
    return _call(_SETTERS, threads) is not None


def get_blas_threads() -> int | None:
    """OpenBLAS's current thread count, or None if no OpenBLAS was found."""
    return _call(_GETTERS)
