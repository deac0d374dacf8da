"""The slow-test list of the fast tier (tests/tiers.py) names only files and test functions that exist, so a
renamed test cannot slip into the fast tier unnoticed by its list entry going stale."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.tiers import SLOW_FILES, SLOW_TESTS

ROOT = Path(__file__).resolve().parents[1]


def _functions(path: str) -> set[str]:
    text = (ROOT / path).read_text(encoding="utf-8")
    return set(re.findall(r"^\s*(?:async )?def (test_\w+)\(", text, re.M))


def test_every_listed_file_and_test_exists() -> None:
    for path in SLOW_FILES:
        assert _functions(path), f"{path} lists no test functions"
    for path, names in SLOW_TESTS.items():
        missing = names - _functions(path)
        assert not missing, f"{path}: no {sorted(missing)}"
        assert path not in SLOW_FILES


def test_listed_tests_are_marked_slow(request: pytest.FixtureRequest) -> None:
    # This very file is not slow; a listed one is, through the collection hook in tests/conftest.py.
    assert request.node.get_closest_marker("slow") is None
    assert "tests/robomem/agents/test_random_kill.py" in SLOW_FILES
