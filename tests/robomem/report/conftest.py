"""Runs for the report tests: the full agent and two ablations from ``bench.competence`` itself (the real
harness on the offline simulator; hashing embedder and exact vectors to keep them quick), and a headless
Chromium for the ``browser`` tests (the memory viewer's memory: ``chroma_memory``, in tests/robomem)."""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench import competence

CHROMIUM = Path("/usr/bin/chromium")
#: The ablations whose steps differ from the full agent's on these tasks (no_critic's do not).
VARIANTS = ("full", "no_spatial", "no_memory")


@dataclass(frozen=True)
class Ablations:
    runs: tuple[Path, ...]
    bench: dict[str, Any]


def write_trace(run: Path, subset: str, n: int) -> list[dict[str, Any]]:
    """A trace file of the schema the loop writes, one object per iteration, ending in a torn line."""
    rows = [
        {
            "step": 1,
            "summary": "I see a Fridge </script><b>bold</b>",
            "queries": {"spatial": ["where is the egg"], "episodic": ["egg tasks"]},
            "retrieved": {
                "spatial": "Egg in Fridge (conf 0.90)",
                "temporal": "",
                "episodic": "",
                "semantic": "",
            },
            "plan": ["find a Egg", "pick up the Egg"],
            "critic": {"verdict": "reject", "reason": "the fridge is closed"},
            "action": "open the Fridge",
            "feedback": "Last action executed successfully.",
            "success": True,
            "timings": {"thalamus": 0.01, "plan": 0.02},
            "llm": [
                {
                    "role": "planner",
                    "reply": '{"executable_plan": []}',
                    "prompt_tokens": 120,
                    "completion_tokens": 9,
                }
            ],
        },
        {"step": 2, "action": "find a Egg"},  # keys may be missing
        # The closing iteration executes nothing: the environment's step counter stays where it was.
        {"step": 2, "plan": [], "final": True, "stop_reason": "the planner declared the task done"},
    ]
    path = run / subset / "trace" / f"episode_{n}_trace.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_name(path.name + ".gz").unlink(missing_ok=True)  # the run's own (gzipped) trace goes
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"step": 3, "summ', encoding="utf-8")
    return rows


@pytest.fixture(scope="session")
def ablations(tmp_path_factory: pytest.TempPathFactory) -> Ablations:
    """bench.competence's own runs (read them; copy before editing)."""
    root = tmp_path_factory.mktemp("ablations")
    report = competence.run(
        quick=True,
        episodes=3,
        subsets=("base", "spatial"),
        profiles=("alfred",),
        variants=VARIANTS,
        embedder="hashing",
        vector="exact",
        runs_dir=root,
        log=io.StringIO(),
    )
    return Ablations(tuple(root / f"alfred_{v}" for v in VARIANTS), report)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never `playwright install`: no downloaded browser). Missing
    here, the tests skip, unless ROBOMEM_REQUIRE_BROWSER=1 (CI) makes that a failure. Module-scoped:
    Playwright's event loop is gone before other tests start their own."""
    required = os.environ.get("ROBOMEM_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            pytest.fail("playwright is not installed (pip install -e '.[dev]')")
        pytest.skip("playwright is not installed")
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        if required:
            pytest.fail(f"{CHROMIUM} is missing (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        # As root (containers, CI) Chromium refuses to start with its sandbox.
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()
