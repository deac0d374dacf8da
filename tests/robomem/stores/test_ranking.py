from __future__ import annotations

import numpy as np
import pytest

from robomem.stores.ranking import top_k_rows


@pytest.mark.parametrize("seed", range(5))
def test_top_k_rows_matches_a_full_stable_sort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 6, size=200).astype(np.float32)  # many ties
    for k in (1, 3, 17, 200, 500):
        expected = np.argsort(-scores, kind="stable")[:k]
        assert top_k_rows(scores, k).tolist() == expected.tolist()
