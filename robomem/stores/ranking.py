"""Ranking helpers shared by the stores and by memories that rank pinned vectors in process."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ("top_k_rows",)


def top_k_rows(scores: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.intp]:
    """Indices of the ``k`` best scores, best first, ties broken by the lower index (insertion order).

    ``argpartition`` first, so a query over 1e5 rows sorts only its few candidates, not every row."""
    n = scores.shape[0]
    if k >= n:
        return np.argsort(-scores, kind="stable")
    kth = scores[np.argpartition(-scores, k - 1)[k - 1]]
    # Everything at least as good as the k-th score (ties included), then a stable sort of those few.
    chosen = np.flatnonzero(scores >= kth)
    return chosen[np.argsort(-scores[chosen], kind="stable")][:k]
